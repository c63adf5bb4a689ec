// Child processes of the benchmark: the upstream, respd, the Portkey peer, the load worker and the
// direct node-llama-cpp worker. Each system runs in its own process; the runner only orchestrates.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const DIST_BENCH = resolve(import.meta.dirname, '..');
export const PEER_DIR = join(ROOT, 'bench', 'peer');
export const PORTKEY_BIN = join(PEER_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

export interface Proc {
  proc: ChildProcess;
  pid: number;
  logs: string[];
  stop(): Promise<void>;
}

function collect(proc: ChildProcess, logs: string[], onLine?: (line: string) => void): void {
  const onData = (d: Buffer) => {
    for (const line of d.toString().split(/\r?\n|\r/)) {
      if (!line.trim()) continue;
      logs.push(line);
      if (logs.length > 200) logs.shift();
      onLine?.(line);
    }
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
}

function stopper(proc: ChildProcess, after?: () => void): () => Promise<void> {
  return () => new Promise<void>((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      after?.();
      return res();
    }
    const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.once('exit', () => {
      clearTimeout(kill);
      after?.();
      res();
    });
    proc.kill('SIGTERM');
  });
}

/** Waits for `match` on the process output; rejects on exit or after `timeoutMs`. */
function waitFor<T>(proc: ChildProcess, logs: string[], match: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what} did not start within ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`)), timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited with ${code}:\n${logs.slice(-20).join('\n')}`));
    };
    // 'close', not 'exit': it comes after the output is read, so the reason is in the message.
    proc.once('close', onExit);
    collect(proc, logs, (line) => {
      const m = match(line);
      if (m !== undefined) {
        clearTimeout(timer);
        proc.off('close', onExit);
        res(m);
      }
    });
  });
}

export async function startUpstream(): Promise<Proc & { url: string }> {
  const proc = spawn(process.execPath, [join(DIST_BENCH, 'upstream.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const port = await waitFor(proc, logs, (l) => (l.startsWith('{"port"') ? JSON.parse(l).port as number : undefined), 10_000, 'bench upstream');
  return { proc, pid: proc.pid!, logs, url: `http://127.0.0.1:${port}/v1`, stop: stopper(proc) };
}

export const RESPD_KEY = 'bench-key';

/** Starts respd; retried twice, since a start can fail for reasons outside the bench (e.g. a stray kill). */
export async function startRespd(upstreamUrl: string, opts: { cpuProfDir?: string; env?: Record<string, string>; main?: string } = {}): Promise<Proc & { base: string; dataDir: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRespdOnce(upstreamUrl, opts);
    } catch (err) {
      if (attempt >= 3) throw err;
      process.stdout.write(`respd start failed (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}; retrying\n`);
    }
  }
}

async function startRespdOnce(upstreamUrl: string, opts: { cpuProfDir?: string; env?: Record<string, string>; main?: string }): Promise<Proc & { base: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'respd-bench-'));
  // BENCH_PROFILE_INTERVAL_US: a finer sampling interval than V8's 1 ms, for short requests.
  const interval = process.env.BENCH_PROFILE_INTERVAL_US ? [`--cpu-prof-interval=${process.env.BENCH_PROFILE_INTERVAL_US}`] : [];
  const args = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, ...interval] : [];
  const proc = spawn(process.execPath, [...args, opts.main ?? join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, API_KEYS: RESPD_KEY, OPENAI_BASE_URL: upstreamUrl,
      LOG_LEVEL: 'info', LLAMA_THREADS: '1', DATABASE_URL: '', REDIS_URL: '', RESPD_CONFIG: '', ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const url = await waitFor(proc, logs, (l) => /listening on (http:\/\/[^\s"/]+)/.exec(l)?.[1], 60_000, 'respd')
    .catch((err: Error) => {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`${err.message} (signal ${proc.signalCode ?? 'none'})`);
    });
  return {
    proc, pid: proc.pid!, logs, dataDir, base: `${url}/api/v1/llm`,
    stop: stopper(proc, () => rmSync(dataDir, { recursive: true, force: true })),
  };
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });
}

/** Installs the peer from its own lockfile when it is missing. Returns a reason on failure. */
export function ensurePortkey(): { ok: true; version: string } | { ok: false; reason: string } {
  if (process.env.BENCH_NO_PEER === '1') return { ok: false, reason: 'skipped (BENCH_NO_PEER=1)' };
  if (!existsSync(PORTKEY_BIN)) {
    process.stdout.write('installing the Portkey peer (npm ci --prefix bench/peer)…\n');
    const r = spawnSync('npm', ['ci', '--prefix', PEER_DIR, '--no-audit', '--no-fund'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (r.error || r.status !== 0 || !existsSync(PORTKEY_BIN)) {
      const why = r.error?.message ?? `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-5).join(' | ');
      return { ok: false, reason: `npm ci --prefix bench/peer failed (exit ${r.status}): ${why}` };
    }
  }
  try {
    const pkg = JSON.parse(readFileSync(join(PEER_DIR, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8'));
    return { ok: true, version: String(pkg.version) };
  } catch (err) {
    return { ok: false, reason: `cannot read the installed gateway's package.json: ${(err as Error).message}` };
  }
}

export async function startPortkey(): Promise<Proc & { url: string }> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', join(DIST_BENCH, 'peer-bind.js'), PORTKEY_BIN, '--headless', `--port=${port}`], {
    cwd: PEER_DIR, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  await waitFor(proc, logs, (l) => (l.includes('Ready for connections') ? true : undefined), 30_000, 'Portkey gateway');
  return { proc, pid: proc.pid!, logs, url: `http://127.0.0.1:${port}`, stop: stopper(proc) };
}

/** A forked worker driven by request/response messages over IPC. */
export class Worker {
  private next = 1;
  private pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void; onEvent?: (e: string) => void }>();
  readonly proc: ChildProcess;

  constructor(script: string, execArgv: string[] = []) {
    this.proc = fork(join(DIST_BENCH, script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    this.proc.on('message', (m: { id: number; result?: unknown; error?: string; event?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.event !== undefined) return p.onEvent?.(m.event);
      this.pending.delete(m.id);
      if (m.error !== undefined) p.rej(new Error(m.error));
      else p.res(m.result);
    });
    this.proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.rej(new Error(`${script} exited with ${code}`));
      this.pending.clear();
    });
  }

  call<T>(msg: Record<string, unknown>, onEvent?: (e: string) => void): Promise<T> {
    const id = this.next++;
    return new Promise<T>((res, rej) => {
      this.pending.set(id, { res, rej, onEvent });
      this.proc.send({ id, ...msg });
    });
  }

  stop(): void {
    if (this.proc.connected) this.proc.disconnect();
  }
}

/** Resident set size of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system, all threads) a process has used so far, in seconds (Linux /proc). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
