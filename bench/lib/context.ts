// What every bench section shares: the run's settings (BENCH_* variables), the systems under test and
// their request bodies, and the ratio helpers (every figure is compared with its baseline from the same round).
import type { AutocannonResult } from '../load-worker.js';
import { cpuSecondsOf, RESPD_KEY, Worker, type Proc } from './procs.js';
import { summarize, type Summary } from './stats.js';

export const env = process.env;
const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) ? Number(v) : d);
export const CONFIG = {
  duration: num(env.BENCH_DURATION, 3),
  rounds: Math.max(1, num(env.BENCH_ROUNDS, 5)),
  /** The 1,000-stream section starts fresh processes for every system and round: fewer rounds. */
  streamRounds: Math.max(1, num(env.BENCH_STREAM_ROUNDS, 3)),
  /** Idle time before each http measurement, so a system does not pay for the previous one's leftovers (GC, flushes). */
  settleMs: num(env.BENCH_SETTLE_MS, 500),
  concurrency: (env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number),
  streams: num(env.BENCH_STREAMS, 1000),
  ttfbRequests: num(env.BENCH_TTFB_N, 100),
  llamaRequests: num(env.BENCH_LLAMA_N, 20),
  maxOutputTokens: 200,
  only: env.BENCH_ONLY ? env.BENCH_ONLY.split(',') : undefined,
  profile: env.BENCH_PROFILE === '1',
  out: env.BENCH_OUT ?? 'latest',
  /** A/B: another build of respd (path to its dist/src/main.js) measured alongside in the http section. */
  abMain: env.BENCH_AB_MAIN || undefined,
  /** http section: only these systems (ids as in the results; the baselines direct and respd-chat always run). */
  httpTargets: env.BENCH_HTTP_TARGETS ? env.BENCH_HTTP_TARGETS.split(',') : undefined,
};
export const want = (section: string) => !CONFIG.only || CONFIG.only.includes(section);
export const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
export const rotate = <T>(a: T[], r: number) => a.slice(r % a.length).concat(a.slice(0, r % a.length));

export const JSON_HEADERS = { 'content-type': 'application/json' };
export const RESPD_HEADERS = { ...JSON_HEADERS, authorization: `Bearer ${RESPD_KEY}` };
export const chatBody = (model: string, stream = false) => JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something.' }], ...(stream ? { stream: true } : {}) });
export const respBody = (model: string, store: boolean, stream = false, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, input: 'Say something.', store, ...(stream ? { stream: true } : {}), ...extra });

export interface Target {
  id: string;
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  method?: 'GET' | 'POST';
  kind?: 'chat' | 'responses';
}

export interface Stack {
  upstream: Proc & { url: string };
  respd: Proc & { base: string };
  /**
   * A second respd process that serves only the http section's `/responses` store:true load. A stored
   * response leaves work behind in its process after its request has ended (the garbage of thousands of
   * group-committed responses is collected later, during whatever load comes next: 2–7 µs per request
   * measured on the next 20,000 store:false requests); in one shared process the system measured after
   * store:true paid for it. Its own process keeps each figure to its own work.
   */
  respdStore?: Proc & { base: string };
  portkey?: Proc & { url: string };
  /** BENCH_AB_MAIN: the other build, for before/after comparisons in one run. */
  ab?: Proc & { base: string };
}

/** The figure of one system in one round, and its baseline's figure from the same round. */
export function ratioSummary(values: number[], baselines: number[]): Summary {
  return summarize(values.map((v, i) => v / baselines[i]));
}
export function diffSummary(values: number[], baselines: number[]): Summary {
  return summarize(values.map((v, i) => v - baselines[i]));
}

export function targets(s: Stack, shape: string, stream: boolean): Record<string, Target> {
  const out: Record<string, Target> = {
    direct: { id: 'direct', label: 'upstream direct', url: `${s.upstream.url}/chat/completions`, headers: JSON_HEADERS, body: chatBody(shape, stream), kind: 'chat' },
    'respd-chat': { id: 'respd-chat', label: 'respd /chat/completions', url: `${s.respd.base}/chat/completions`, headers: RESPD_HEADERS, body: chatBody(`openai:${shape}`, stream), kind: 'chat' },
  };
  if (s.portkey) {
    out['portkey-chat'] = {
      id: 'portkey-chat', label: 'Portkey /chat/completions', url: `${s.portkey.url}/v1/chat/completions`, kind: 'chat',
      headers: { ...JSON_HEADERS, authorization: 'Bearer bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': s.upstream.url },
      body: chatBody(shape, stream),
    };
  }
  out['respd-responses-store'] = { id: 'respd-responses-store', label: 'respd /responses store:true', url: `${s.respd.base}/responses`, headers: RESPD_HEADERS, body: respBody(`openai:${shape}`, true, stream), kind: 'responses' };
  out['respd-responses-nostore'] = { id: 'respd-responses-nostore', label: 'respd /responses store:false', url: `${s.respd.base}/responses`, headers: RESPD_HEADERS, body: respBody(`openai:${shape}`, false, stream), kind: 'responses' };
  if (s.ab) {
    for (const id of ['respd-chat', 'respd-responses-store', 'respd-responses-nostore']) {
      const t = out[id];
      out[`ab-${id}`] = { ...t, id: `ab-${id}`, label: `${t.label} [A/B build]`, url: t.url.replace(s.respd.base, s.ab.base) };
    }
  }
  return out;
}

/** One autocannon run; with `pid`, also the CPU time that process spent per request (µs). */
export async function autocannon(load: Worker, t: Target, connections: number, duration: number, pid?: number): Promise<AutocannonResult & { cpuUsPerReq?: number }> {
  const cpu0 = pid ? cpuSecondsOf(pid) : NaN;
  const r = await load.call<AutocannonResult>({ op: 'autocannon', url: t.url, method: t.method ?? 'POST', headers: t.headers, body: t.body, connections, duration });
  if (r.non2xx || r.errors || r.timeouts) log(`  ! ${t.id} c=${connections}: non2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`);
  return pid ? { ...r, cpuUsPerReq: ((cpuSecondsOf(pid) - cpu0) / r.requests) * 1e6 } : r;
}

/** The process that serves a target (whose CPU time is charged to it). */
export function pidOf(s: Stack, id: string): number {
  if (id === 'direct') return s.upstream.pid;
  if (id.startsWith('portkey')) return s.portkey!.pid;
  if (id.startsWith('ab-')) return s.ab!.pid;
  if (id === 'respd-responses-store' && s.respdStore) return s.respdStore.pid;
  return s.respd.pid;
}
