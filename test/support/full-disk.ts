// A small file system that tests can fill: a tmpfs mounted on a temporary folder (needs root; tests
// skip with the reason when mounting is not permitted).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Why it could not be mounted (the test skips), or false. */
  skip: string | false;
  /** Fills the file system with one file; returns its path (rm it to give the space back). */
  fill(): string;
  unmount(): void;
}

export function mountSmallDisk(sizeMb: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'respd-full-'));
  let skip: string | false = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    skip = `cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})`;
  }
  return {
    dir,
    skip,
    fill() {
      const path = join(dir, 'filler');
      const fd = openSync(path, 'w');
      const block = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      return path;
    },
    unmount() {
      if (!skip) execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
