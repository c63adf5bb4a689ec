// Starts respd the way a user does (`node dist/src/main.js`) on a free port with its own data folder,
// and gives tests an `openai` client pointed at it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { dropBackends, sharedBackendEnv } from './backends.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const KEY_A = 'test-key-alpha';
export const KEY_B = 'test-key-bravo';

export interface TestServer {
  url: string;
  baseURL: string;
  dataDir: string;
  proc: ChildProcess;
  logs: string[];
  client(key?: string, endUser?: string): OpenAI;
  /** Raw fetch against the API with auth (pass `auth: null` to omit it). */
  fetch(path: string, init?: RequestInit & { key?: string | null; endUser?: string }): Promise<Response>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(opts: { env?: Record<string, string>; dataDir?: string; keepData?: boolean } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'respd-test-'));
  const proc = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, API_KEYS: `${KEY_A},${KEY_B}`, LOG_LEVEL: 'info',
      LLAMA_THREADS: '1', ...sharedBackendEnv(dataDir), ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      // Never leave the process behind: a test file would otherwise wait for it forever.
      proc.kill('SIGKILL');
      reject(new Error(`server did not start:\n${logs.join('\n')}`));
    }, 60_000);
    const onData = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (!line) continue;
        logs.push(line);
        const m = /listening on (http:\/\/[^\s"/]+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]);
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  const baseURL = `${url}/api/v1/llm`;
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    url, baseURL, dataDir, proc, logs,
    client(key = KEY_A, endUser?: string) {
      return new OpenAI({ apiKey: key, baseURL, maxRetries: 0, timeout: 60_000, defaultHeaders: endUser ? { 'X-On-Behalf-Of': endUser } : undefined });
    },
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? KEY_A}`);
      if (init.endUser) headers.set('x-on-behalf-of', init.endUser);
      if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
      return fetch(`${baseURL}${path}`, { ...init, headers });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await exited;
      if (!opts.keepData && !opts.dataDir) {
        rmSync(dataDir, { recursive: true, force: true });
        await dropBackends(dataDir);
      }
      return code;
    },
  };
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: any;
}

/** Reads a whole SSE body into events (raw framing, no client library). */
export async function readSse(res: Response, onEvent?: (e: SseEvent) => void | boolean): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev: SseEvent = { data: undefined };
      for (const line of block.split('\n')) {
        const c = line.indexOf(':');
        const k = line.slice(0, c);
        const v = line.slice(c + 1).replace(/^ /, '');
        if (k === 'id') ev.id = v;
        else if (k === 'event') ev.event = v;
        else if (k === 'data') ev.data = JSON.parse(v);
      }
      out.push(ev);
      if (onEvent && onEvent(ev) === false) {
        await reader.cancel();
        return out;
      }
    }
  }
  return out;
}
