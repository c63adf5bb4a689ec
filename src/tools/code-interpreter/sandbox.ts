// Runs Python in a bubblewrap sandbox, one process tree per call. Why bubblewrap and the system Python
// (measured, README "Code interpreter"): it starts in ~0.2 s cold, imports Debian's numpy/pandas/matplotlib
// natively (the `pyodide` npm package ships the interpreter and standard library only: its numpy/pandas
// wheels are fetched from a CDN at run time, which an air-gapped server cannot do), and the kernel
// enforces the isolation:
// - namespaces (--unshare-all): no network but a private loopback, its own PID tree (killing bwrap
//   kills every process of the run), no IPC with the host;
// - a file system of /usr (read-only), a private /tmp (tmpfs of bounded size) and /mnt/data, the bind of
//   this run's own folder: no /etc/passwd, no data folder, no other container;
// - rlimits: CPU seconds, address space (the container's memory_limit), processes, file size, open files;
// - a uid of its own per run when respd runs as root (so RLIMIT_NPROC is really enforced and runs cannot
//   signal each other); unprivileged, bwrap maps the caller's uid into a user namespace;
// - a wall-clock timer here, which SIGKILLs the tree.
import { spawn, spawnSync } from 'node:child_process';
import { chown, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeInterpreterConfig } from '../../config/code-interpreter.js';
import { BOOTSTRAP, FIGURES_DIR } from './bootstrap.js';

export interface SandboxResult {
  /** stdout and stderr interleaved, cut at maxLogBytes. */
  logs: string;
  /** PNGs of the matplotlib figures left open. */
  images: Buffer[];
  /** ok: exited 0; error: the code raised or exited non-zero; the rest: a limit stopped it. */
  outcome: 'ok' | 'error' | 'timeout' | 'cpu_limit' | 'killed';
  exitCode: number | null;
}

/** A run's host folder: `data` is /mnt/data inside (the container's files), `figures` the PNGs. */
export interface RunDir {
  root: string;
  data: string;
  figures: string;
  /** Owner of what is written into `data` (the run's uid when root, else undefined). */
  uid?: number;
}

const UID_BASE = 200_000;
const UID_SPAN = 50_000;
let nextUid = 0;

export class Sandbox {
  constructor(readonly cfg: CodeInterpreterConfig) {}

  private get asRoot(): boolean {
    return typeof process.getuid === 'function' && process.getuid() === 0;
  }

  /** A fresh folder for one run (mode 700, owned by the run's uid). */
  async makeRunDir(): Promise<RunDir> {
    const root = await mkdtemp(join(tmpdir(), 'respd-ci-'));
    const dir: RunDir = { root, data: join(root, 'data'), figures: join(root, 'figures') };
    await mkdir(dir.data);
    await mkdir(dir.figures);
    if (this.asRoot) {
      dir.uid = UID_BASE + (nextUid++ % UID_SPAN);
      for (const p of [root, dir.data, dir.figures]) await chown(p, dir.uid, dir.uid);
    }
    return dir;
  }

  async removeRunDir(dir: RunDir): Promise<void> {
    await rm(dir.root, { recursive: true, force: true });
  }

  private args(dir: RunDir, memoryMb: number): string[] {
    const c = this.cfg;
    const ro = (p: string) => (existsSync(p) ? ['--ro-bind', p, p] : []);
    return [
      `--as=${memoryMb * 1024 * 1024}`, `--cpu=${c.cpuSeconds}:${c.cpuSeconds + 1}`, `--nproc=${c.maxProcs}`,
      `--fsize=${c.maxFileBytes}`, '--nofile=256', '--core=0',
      '--', c.bwrap,
      '--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
      '--ro-bind', '/usr', '/usr',
      '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/sbin', '/sbin',
      // Shared libraries reached through alternatives (BLAS/LAPACK), fonts and matplotlib's defaults: no secrets.
      ...ro('/etc/alternatives'), ...ro('/etc/fonts'), ...ro('/etc/matplotlibrc'), ...ro('/etc/ld.so.cache'),
      '--proc', '/proc', '--dev', '/dev',
      '--size', String(64 * 1024 * 1024), '--tmpfs', '/tmp',
      '--bind', dir.data, '/mnt/data',
      '--bind', dir.figures, FIGURES_DIR,
      '--chdir', '/mnt/data',
      '--clearenv',
      '--setenv', 'HOME', '/mnt/data', '--setenv', 'PATH', '/usr/bin', '--setenv', 'LANG', 'C.UTF-8',
      '--setenv', 'PYTHONDONTWRITEBYTECODE', '1',
      '--setenv', 'MPLBACKEND', 'Agg', '--setenv', 'MPLCONFIGDIR', '/tmp/matplotlib',
      // One BLAS thread: the address-space limit counts every thread's stack, and runs share the CPU.
      '--setenv', 'OPENBLAS_NUM_THREADS', '1', '--setenv', 'OMP_NUM_THREADS', '1', '--setenv', 'MKL_NUM_THREADS', '1',
      // -I ignores PYTHON* variables, so unbuffered output is asked for with -u (a killed run keeps what it printed).
      c.python, '-I', '-u', '-c', BOOTSTRAP,
    ];
  }

  /** Runs `code` with `dir.data` as /mnt/data. Never throws for what the code does; only for a missing runtime. */
  run(dir: RunDir, code: string, memoryMb: number, signal?: AbortSignal): Promise<SandboxResult> {
    const c = this.cfg;
    return new Promise((resolve, reject) => {
      const child = spawn('prlimit', this.args(dir, memoryMb), {
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(dir.uid !== undefined ? { uid: dir.uid, gid: dir.uid } : {}),
      });
      const chunks: Buffer[] = [];
      let kept = 0;
      let cut = false;
      const keep = (b: Buffer) => {
        if (kept >= c.maxLogBytes) {
          cut = true;
          return;
        }
        const part = b.subarray(0, c.maxLogBytes - kept);
        if (part.length < b.length) cut = true;
        chunks.push(part);
        kept += part.length;
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep); // bwrap's own messages (the code's stderr goes to stdout)
      let stoppedBy: SandboxResult['outcome'] | undefined;
      const kill = (why: SandboxResult['outcome']) => {
        stoppedBy ??= why;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => kill('timeout'), c.timeoutMs);
      const onAbort = () => kill('killed');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdin.on('error', () => {}); // the code may exit before reading it all
      child.stdin.end(code);
      child.on('error', (err) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      child.on('close', async (exitCode, sig) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        let logs = Buffer.concat(chunks).toString('utf8');
        if (cut) logs += `\n[output cut at ${c.maxLogBytes} bytes]`;
        let outcome: SandboxResult['outcome'] = stoppedBy ?? (exitCode === 0 ? 'ok' : 'error');
        // SIGXCPU at the soft limit, SIGKILL at the hard one; the child of bwrap dies, bwrap reports it.
        if (!stoppedBy && (sig === 'SIGXCPU' || exitCode === 128 + 24 || exitCode === 128 + 9)) outcome = 'cpu_limit';
        if (outcome === 'timeout') logs += `\n[stopped: the run exceeded its wall-clock limit of ${c.timeoutMs} ms]`;
        if (outcome === 'cpu_limit') logs += `\n[stopped: the run exceeded its CPU time limit of ${c.cpuSeconds} s]`;
        const images: Buffer[] = [];
        try {
          for (const f of (await readdir(dir.figures)).filter((n) => /^figure-\d+\.png$/.test(n)).sort()) {
            images.push(await readFile(join(dir.figures, f)));
          }
        } catch {
          // no figures
        }
        resolve({ logs, images, outcome, exitCode });
      });
    });
  }

  /** Why the sandbox cannot run here (null = it can): one trivial run at start-up. */
  probe(): string | null {
    const root = mkdtempSync(join(tmpdir(), 'respd-ci-probe-'));
    const r = spawnSync('prlimit', this.args({ root, data: root, figures: root }, this.cfg.memoryMb), {
      input: 'import json, sys\nprint("ok")', encoding: 'utf8', timeout: 20_000,
    });
    rmSync(root, { recursive: true, force: true });
    if (r.error) return `${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'prlimit is not installed' : r.error.message}`;
    if (r.status !== 0 || !r.stdout.includes('ok')) return (r.stderr || r.stdout || `exit ${r.status}`).trim().slice(0, 300);
    return null;
  }
}
