// The fault suite's set-up: a PostgreSQL and a Redis of the test's own (private-backends.ts), a mock
// upstream, and respd instances on them; plus the stream bookkeeping the fault tests share.
import { performance } from 'node:perf_hooks';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { startPostgres, startRedis, type PrivatePostgres, type PrivateRedis } from './private-backends.js';
import { readSse, startServer, type SseEvent, type TestServer } from './server.js';

export const TERMINAL = new Set(['response.completed', 'response.failed', 'response.cancelled', 'response.incomplete']);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FaultCluster {
  pg: PrivatePostgres;
  redis: PrivateRedis;
  upstream: MockUpstream;
  servers: TestServer[];
  env: Record<string, string>;
  close(): Promise<void>;
}

/** `chunks` × 50 ms text replies for `mock-text`. */
export async function startCluster(instances: number, env: Record<string, string>, chunks = 80): Promise<FaultCluster> {
  const [pg, redis, upstream] = await Promise.all([startPostgres(), startRedis(), startMockUpstream({ text: { chunks, delayMs: 50 } })]);
  const fullEnv = { OPENAI_BASE_URL: upstream.url, DATABASE_URL: pg.url, REDIS_URL: redis.url, DRAIN_MS: '2000', ...env };
  const servers: TestServer[] = [];
  // One at a time: the first runs the migrations.
  for (let i = 0; i < instances; i++) servers.push(await startServer({ env: fullEnv }));
  return {
    pg, redis, upstream, servers, env: fullEnv,
    async close() {
      await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
      await upstream.close();
      await Promise.allSettled([pg.destroy(), redis.destroy()]);
    },
  };
}

/** What one SSE reader saw, and how its stream ended. */
export interface Watched {
  events: SseEvent[];
  /** 'terminal' (a response.* terminal event), 'error' (an `error` event, then closed), 'silent' (closed without either), 'broken' (the connection failed). */
  end?: 'terminal' | 'error' | 'silent' | 'broken';
  /** Longest wait between two events (ms), and when the stream ended. */
  maxGapMs: number;
  endedAt?: number;
  done: Promise<void>;
}

export function watch(res: Promise<Response>): Watched {
  const w: Watched = { events: [], maxGapMs: 0, done: Promise.resolve() };
  let lastAt = 0;
  w.done = (async () => {
    try {
      const r = await res;
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      lastAt = performance.now();
      await readSse(r, (e) => {
        const now = performance.now();
        if (w.events.length) w.maxGapMs = Math.max(w.maxGapMs, now - lastAt);
        lastAt = now;
        w.events.push(e);
      });
      const last = w.events[w.events.length - 1];
      w.end = last && TERMINAL.has(last.data?.type) ? 'terminal' : last?.event === 'error' ? 'error' : 'silent';
    } catch {
      w.end = 'broken';
    }
    w.endedAt = performance.now();
  })();
  return w;
}

export const deltas = (w: Watched) => w.events.filter((e) => e.data?.type === 'response.output_text.delta').length;

export async function createBackground(s: TestServer, input: string): Promise<string> {
  const res = await s.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input, background: true }) });
  if (res.status !== 200) throw new Error(`create: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export const follow = (s: TestServer, id: string, after = -1) => watch(s.fetch(`/responses/${id}?stream=true&starting_after=${after}`));

export const foreground = (s: TestServer, input: string) =>
  watch(s.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input, stream: true }) }));

/** Times one request: status, error code and seconds taken. */
export async function timed(p: () => Promise<Response>): Promise<{ status: number; code?: string; seconds: number }> {
  const t0 = performance.now();
  try {
    const r = await p();
    const body = await r.text();
    let code: string | undefined;
    try { code = JSON.parse(body).error?.code ?? undefined; } catch { /* not JSON */ }
    return { status: r.status, code, seconds: (performance.now() - t0) / 1000 };
  } catch {
    return { status: 0, seconds: (performance.now() - t0) / 1000 };
  }
}

export async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** An instance that exited (crashed) since it started. */
export const crashed = (s: TestServer) => s.proc.exitCode !== null || s.proc.signalCode !== null;

export const countBy = <T>(xs: T[], key: (x: T) => string) => {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
};
