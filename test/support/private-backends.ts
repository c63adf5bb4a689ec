// A PostgreSQL cluster and a Redis server of the test's own, on free ports, for the fault suite
// (test/fault-*.test.ts): the test stops, restarts and freezes (SIGSTOP/SIGCONT) them, which it must
// never do to the shared services. Where the binaries are missing, `unavailable()` says why (the
// tests skip with that reason, except in CI where they must run).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from './backends.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Why the fault suite cannot run here, or undefined when it can. */
export function unavailable(): string | undefined {
  if (!pgBin()) return 'PostgreSQL binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin';
  if (!which('redis-server')) return 'redis-server not found on PATH';
  if (process.getuid?.() === 0 && !pgUser()) return 'running as root and no `postgres` user to run initdb as';
  return undefined;
}

/** Skips the suite (printing why) where the services are missing; in CI they must run. */
export function skipReasonOrThrow(suite: string): string | undefined {
  const why = unavailable();
  if (!why) return undefined;
  if (process.env.CI) throw new Error(`${suite}: ${why}; in CI it must run`);
  console.log(`# skipping ${suite}: ${why}`);
  return why;
}

function pgUser(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    if (!line) return undefined;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return undefined;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not within ${ms} ms`);
    await sleep(50);
  }
}

/** Signals every process of a process tree (a frozen service must not answer from any of them). */
function signalTree(pid: number, signal: NodeJS.Signals): void {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch { /* gone */ }
  }
  const all: number[] = [];
  const walk = (p: number) => { all.push(p); for (const c of children.get(p) ?? []) walk(c); };
  walk(pid);
  // Parent first on stop (it forks no new child meanwhile), children first on continue.
  for (const p of signal === 'SIGCONT' ? all.reverse() : all) {
    try { process.kill(p, signal); } catch { /* exited */ }
  }
}

export interface PrivatePostgres {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

export async function startPostgres(): Promise<PrivatePostgres> {
  const bin = pgBin()!;
  const dir = mkdtempSync(join(tmpdir(), 'respd-fault-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const asPg = process.getuid?.() === 0 ? pgUser() : undefined;
  if (asPg) {
    chownSync(dir, asPg.uid, asPg.gid);
    chmodSync(dir, 0o700);
  }
  const run = (tool: string, args: string[]) => execFileSync(join(bin, tool), args, {
    stdio: ['ignore', 'pipe', 'pipe'], uid: asPg?.uid, gid: asPg?.gid, env: { ...process.env, LC_ALL: 'C' },
  });
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pidOf = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pg: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
      await until(() => answers('127.0.0.1', port, 200), 10_000, 'PostgreSQL listening');
    },
    async stop(mode = 'fast') {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
    },
    freeze() { signalTree(pidOf(), 'SIGSTOP'); },
    thaw() { signalTree(pidOf(), 'SIGCONT'); },
    async destroy() {
      try {
        if (existsSync(join(data, 'postmaster.pid'))) {
          signalTree(pidOf(), 'SIGCONT');
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        }
      } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}

export interface PrivateRedis {
  url: string;
  port: number;
  proc: ChildProcess;
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'respd-fault-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until(() => answers('127.0.0.1', port, 200), 10_000, 'Redis listening');
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    proc,
    freeze() { proc.kill('SIGSTOP'); },
    thaw() { proc.kill('SIGCONT'); },
    async destroy() {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(null) : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
