// `npm run bench`: one run, same machine, same upstream, every system in its own process.
//   upstream   dist/bench/upstream.js          fixed replies (see lib/scenarios.ts)
//   respd      node dist/src/main.js           OPENAI_BASE_URL → the upstream, its own DATA_DIR
//   peer       Portkey gateway (bench/peer)    --headless on 127.0.0.1, x-portkey-custom-host → upstream
//   load       dist/bench/load-worker.js       autocannon + SSE-counting clients
//   llama      dist/bench/llama-direct.js      node-llama-cpp on the same GGUF, same threads
//   scale      dist/bench/scale.js             1 vs 2 respd instances on PostgreSQL + Redis, cross-instance streams
// Every figure is taken per round and compared with its baseline from the same round; rounds rotate
// the order of the systems so drift hits all alike. Results: bench/results/latest.{json,md}.
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { AutocannonResult, StreamResult, StreamsResult, TtfbResult } from './load-worker.js';
import { summarizeProfile } from './lib/cpuprofile.js';
import {
  cpuSecondsOf, ensurePortkey, ROOT, rssOf, RESPD_KEY, startPortkey, startRespd, startUpstream, Worker, type Proc,
} from './lib/procs.js';
import { renderMarkdown } from './lib/report.js';
import { scaleSection } from './scale.js';
import { held, LONG, modelName, REPLAY, TINY } from './lib/scenarios.js';
import { round, summarize, type Summary } from './lib/stats.js';

const env = process.env;
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
const want = (section: string) => !CONFIG.only || CONFIG.only.includes(section);
const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const rotate = <T>(a: T[], r: number) => a.slice(r % a.length).concat(a.slice(0, r % a.length));

const JSON_HEADERS = { 'content-type': 'application/json' };
const RESPD_HEADERS = { ...JSON_HEADERS, authorization: `Bearer ${RESPD_KEY}` };
const chatBody = (model: string, stream = false) => JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something.' }], ...(stream ? { stream: true } : {}) });
const respBody = (model: string, store: boolean, stream = false, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, input: 'Say something.', store, ...(stream ? { stream: true } : {}), ...extra });

interface Target {
  id: string;
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  method?: 'GET' | 'POST';
  kind?: 'chat' | 'responses';
}

interface Stack {
  upstream: Proc & { url: string };
  respd: Proc & { base: string };
  portkey?: Proc & { url: string };
  /** BENCH_AB_MAIN: the other build, for before/after comparisons in one run. */
  ab?: Proc & { base: string };
}

/** The figure of one system in one round, and its baseline's figure from the same round. */
function ratioSummary(values: number[], baselines: number[]): Summary {
  return summarize(values.map((v, i) => v / baselines[i]));
}
function diffSummary(values: number[], baselines: number[]): Summary {
  return summarize(values.map((v, i) => v - baselines[i]));
}

function targets(s: Stack, shape: string, stream: boolean): Record<string, Target> {
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
async function autocannon(load: Worker, t: Target, connections: number, duration: number, pid?: number): Promise<AutocannonResult & { cpuUsPerReq?: number }> {
  const cpu0 = pid ? cpuSecondsOf(pid) : NaN;
  const r = await load.call<AutocannonResult>({ op: 'autocannon', url: t.url, method: t.method ?? 'POST', headers: t.headers, body: t.body, connections, duration });
  if (r.non2xx || r.errors || r.timeouts) log(`  ! ${t.id} c=${connections}: non2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`);
  return pid ? { ...r, cpuUsPerReq: ((cpuSecondsOf(pid) - cpu0) / r.requests) * 1e6 } : r;
}

/** The process that serves a target (whose CPU time is charged to it). */
function pidOf(s: Stack, id: string): number {
  if (id === 'direct') return s.upstream.pid;
  if (id.startsWith('portkey')) return s.portkey!.pid;
  if (id.startsWith('ab-')) return s.ab!.pid;
  return s.respd.pid;
}

// ---------------------------------------------------------------------------------------------------
// Sections

async function httpSection(s: Stack, load: Worker, results: any) {
  const all = targets(s, modelName(TINY), false);
  const keep = (id: string) => !CONFIG.httpTargets || id === 'direct' || id === 'respd-chat' || CONFIG.httpTargets.includes(id);
  const systems = Object.values(all).filter((t) => keep(t.id));
  log(`http: warm-up (${systems.map((t) => t.id).join(', ')})`);
  for (const t of systems) await autocannon(load, t, 16, 2);
  const raw: Record<string, Record<string, Array<AutocannonResult & { cpuUsPerReq?: number }>>> = {};
  for (let r = 0; r < CONFIG.rounds; r++) {
    for (const c of CONFIG.concurrency) {
      raw[c] ??= {};
      for (const t of rotate(systems, r + c)) {
        await new Promise((res) => setTimeout(res, CONFIG.settleMs));
        const res = await autocannon(load, t, c, CONFIG.duration, pidOf(s, t.id));
        (raw[c][t.id] ??= [])[r] = res;
        log(`http round ${r + 1}/${CONFIG.rounds} c=${c} ${t.id}: ${Math.round(res.rps)} req/s, p50 ${res.p50.toFixed(3)} ms, p99 ${res.p99.toFixed(3)} ms, ${Math.round(res.cpuUsPerReq ?? NaN)} µs CPU/req`);
      }
    }
  }
  const figures: any = {};
  for (const c of CONFIG.concurrency) {
    figures[c] = {};
    const base = raw[c].direct;
    for (const t of systems) {
      const rs = raw[c][t.id];
      const rps = rs.map((x) => x.rps);
      const p50 = rs.map((x) => x.p50);
      const p99 = rs.map((x) => x.p99);
      const f: any = {
        label: t.label,
        rps: summarize(rps), p50: summarize(p50), p99: summarize(p99),
        rpsVsDirect: ratioSummary(rps, base.map((x) => x.rps)),
        p50VsDirect: ratioSummary(p50, base.map((x) => x.p50)),
        p99VsDirect: ratioSummary(p99, base.map((x) => x.p99)),
        addedP50: diffSummary(p50, base.map((x) => x.p50)),
        addedP99: diffSummary(p99, base.map((x) => x.p99)),
        failures: rs.reduce((a, x) => a + x.non2xx + x.errors + x.timeouts, 0),
        cpuUsPerReq: summarize(rs.map((x) => x.cpuUsPerReq ?? NaN)),
      };
      if (raw[c]['portkey-chat'] && t.id !== 'portkey-chat') {
        f.rpsVsPortkey = ratioSummary(rps, raw[c]['portkey-chat'].map((x) => x.rps));
        f.p99VsPortkey = ratioSummary(p99, raw[c]['portkey-chat'].map((x) => x.p99));
        f.cpuVsPortkey = ratioSummary(rs.map((x) => x.cpuUsPerReq ?? NaN), raw[c]['portkey-chat'].map((x) => x.cpuUsPerReq ?? NaN));
      }
      if (t.id.startsWith('respd-responses')) f.rpsVsChatProxy = ratioSummary(rps, raw[c]['respd-chat'].map((x) => x.rps));
      const ab = raw[c][`ab-${t.id}`];
      if (ab) {
        // This build vs the A/B build, round by round.
        f.vsAb = {
          rps: ratioSummary(rps, ab.map((x) => x.rps)),
          p50: diffSummary(p50, ab.map((x) => x.p50)),
          p99: diffSummary(p99, ab.map((x) => x.p99)),
          cpuUsPerReq: ratioSummary(rs.map((x) => x.cpuUsPerReq ?? NaN), ab.map((x) => x.cpuUsPerReq ?? NaN)),
        };
      }
      figures[c][t.id] = f;
    }
  }
  // Max req/s: the best concurrency of each round, per system.
  const maxRps: any = {};
  const bestOf = (id: string) => Array.from({ length: CONFIG.rounds }, (_, r) => Math.max(...CONFIG.concurrency.map((c) => raw[c][id][r].rps)));
  for (const t of systems) {
    maxRps[t.id] = { label: t.label, rps: summarize(bestOf(t.id)), vsDirect: ratioSummary(bestOf(t.id), bestOf('direct')) };
    if (systems.some((x) => x.id === 'portkey-chat') && t.id !== 'portkey-chat') maxRps[t.id].vsPortkey = ratioSummary(bestOf(t.id), bestOf('portkey-chat'));
  }
  results.figures.http = figures;
  results.figures.maxRps = maxRps;
  results.raw.http = raw;
}

async function ttfbSection(s: Stack, load: Worker, results: any) {
  const all = targets(s, modelName(TINY), true);
  delete all['respd-responses-nostore'];
  const systems = Object.values(all);
  const marker = (t: Target) => (t.kind === 'chat' ? '"content":"lorem' : 'response.output_text.delta');
  const raw: Record<string, TtfbResult[]> = {};
  for (const t of systems) await load.call({ op: 'ttfb', url: t.url, headers: t.headers, body: t.body, n: 20, marker: marker(t), kind: t.kind });
  for (let r = 0; r < CONFIG.rounds; r++) {
    for (const t of rotate(systems, r)) {
      const res = await load.call<TtfbResult>({ op: 'ttfb', url: t.url, headers: t.headers, body: t.body, n: CONFIG.ttfbRequests, marker: marker(t), kind: t.kind });
      (raw[t.id] ??= [])[r] = res;
      log(`ttfb round ${r + 1} ${t.id}: first token p50 ${res.ttfbP50.toFixed(3)} ms p99 ${res.ttfbP99.toFixed(3)} ms (failures ${res.failures})`);
    }
  }
  const base = raw.direct;
  const figures: any = {};
  for (const t of systems) {
    const p50 = raw[t.id].map((x) => x.ttfbP50);
    const p99 = raw[t.id].map((x) => x.ttfbP99);
    figures[t.id] = {
      label: t.label, ttfbP50: summarize(p50), ttfbP99: summarize(p99),
      overheadP50: diffSummary(p50, base.map((x) => x.ttfbP50)), overheadP99: diffSummary(p99, base.map((x) => x.ttfbP99)),
      ratioP50: ratioSummary(p50, base.map((x) => x.ttfbP50)),
      failures: raw[t.id].reduce((a, x) => a + x.failures, 0),
    };
  }
  results.figures.ttfb = figures;
  results.raw.ttfb = raw;
}

async function sseSection(s: Stack, load: Worker, results: any) {
  const all = targets(s, modelName(LONG), true);
  delete all['respd-responses-nostore'];
  const systems = Object.values(all);
  for (const t of systems) await load.call({ op: 'stream', url: t.url, headers: t.headers, body: t.body, kind: t.kind });
  const raw: Record<string, StreamResult[]> = {};
  const reps = 5;
  for (let r = 0; r < CONFIG.rounds; r++) {
    for (const t of rotate(systems, r)) {
      // Per round: the median of `reps` streams (one stream of the direct path takes only milliseconds).
      const rs: StreamResult[] = [];
      for (let i = 0; i < reps; i++) rs.push(await load.call<StreamResult>({ op: 'stream', url: t.url, headers: t.headers, body: t.body, kind: t.kind }));
      rs.sort((a, b) => a.eventsPerSec - b.eventsPerSec);
      const res = rs[reps >> 1];
      res.finished = rs.every((x) => x.finished);
      res.gaps = rs.reduce((a, x) => a + x.gaps, 0);
      (raw[t.id] ??= [])[r] = res;
      log(`sse round ${r + 1} ${t.id}: ${res.events} events in ${(res.seconds * 1e3).toFixed(1)} ms = ${Math.round(res.eventsPerSec)} events/s${res.finished ? '' : ' (UNFINISHED)'}${res.gaps ? ` gaps ${res.gaps}` : ''}`);
    }
  }
  const figures: any = {};
  for (const t of systems) {
    const eps = raw[t.id].map((x) => x.eventsPerSec);
    figures[t.id] = {
      label: t.label, events: raw[t.id][0].events, eventsPerSec: summarize(eps),
      vsDirect: ratioSummary(eps, raw.direct.map((x) => x.eventsPerSec)),
      allDelivered: raw[t.id].every((x) => x.finished && !x.gaps && x.events === raw[t.id][0].events),
    };
  }
  results.figures.sse = figures;
  results.raw.sse = raw;
}

/** 1,000 streams held open at once, each system in a fresh process (clean RSS baseline). */
async function streamsSection(s: Stack, load: Worker, results: any) {
  const shape = modelName(held(CONFIG.streams));
  const ids = ['direct', 'respd-chat', ...(s.portkey ? ['portkey-chat'] : []), 'respd-responses-store'];
  const raw: Record<string, any[]> = {};
  for (let r = 0; r < CONFIG.streamRounds; r++) {
    for (const id of rotate(ids, r)) {
      // A fresh process of the system under test; the shared upstream serves the others.
      let proc: Proc;
      let fresh: Stack;
      try {
      if (id === 'direct') {
        const up = await startUpstream();
        proc = up;
        fresh = { ...s, upstream: up };
      } else if (id === 'portkey-chat') {
        const pk = await startPortkey();
        proc = pk;
        fresh = { ...s, portkey: pk };
      } else {
        const rs = await startRespd(s.upstream.url);
        proc = rs;
        fresh = { ...s, respd: rs };
      }
      } catch (err) {
        log(`streams round ${r + 1} ${id}: could not start the system: ${(err as Error).message.split('\n')[0]}`);
        (results.errors[`streams-${id}-${r + 1}`] = (err as Error).message);
        continue;
      }
      try {
        const t = targets(fresh, shape, true)[id];
        const warm = targets(fresh, modelName(TINY), true)[id];
        const warmStreams = targets(fresh, modelName(held(100)), true)[id];
        await load.call({ op: 'streams', n: 100, url: warmStreams.url, headers: warmStreams.headers, body: warmStreams.body, kind: warmStreams.kind });
        await autocannon(load, warm, 16, 1);
        const rssBefore = rssOf(proc.pid);
        let rssOpen = NaN;
        const res = await load.call<StreamsResult>({ op: 'streams', n: CONFIG.streams, url: t.url, headers: t.headers, body: t.body, kind: t.kind }, (e) => {
          if (e === 'all-open') rssOpen = rssOf(proc.pid);
        });
        const perStream = (rssOpen - rssBefore) / CONFIG.streams;
        (raw[id] ??= [])[r] = { ...res, rssBefore, rssOpen, perStream };
        log(`streams round ${r + 1} ${id}: ${res.completed}/${res.n} complete, ${res.events} events, ${Math.round(res.eventsPerSec)} events/s, all delivered ${res.allEventsDelivered}, ` +
          `all open after ${res.openSeconds.toFixed(2)} s, then ${res.flowSeconds.toFixed(2)} s of flow, RSS +${((rssOpen - rssBefore) / 1048576).toFixed(1)} MiB (${(perStream / 1024).toFixed(1)} KiB/stream)${res.errors.length ? ` errors: ${res.errors.join('; ')}` : ''}`);
      } finally {
        await proc.stop();
      }
    }
  }
  const figures: any = {};
  for (const id of ids) {
    if (!raw[id]?.length) continue;
    const eps = raw[id].map((x) => x?.eventsPerSec ?? NaN);
    const mem = raw[id].map((x) => x?.perStream ?? NaN);
    figures[id] = {
      eventsPerSec: summarize(eps), vsDirect: ratioSummary(eps, (raw.direct ?? []).map((x) => x?.eventsPerSec ?? NaN)),
      memPerStreamKiB: summarize(mem.map((m) => m / 1024)),
      memVsDirect: ratioSummary(mem, (raw.direct ?? []).map((x) => x?.perStream ?? NaN)),
      ...(raw['portkey-chat'] && id !== 'portkey-chat' ? { memVsPortkey: ratioSummary(mem, raw['portkey-chat'].map((x) => x?.perStream ?? NaN)) } : {}),
      allDelivered: raw[id].length === CONFIG.streamRounds && raw[id].every((x) => x?.allEventsDelivered),
      rounds: raw[id].filter(Boolean).length,
      eventsEach: raw[id].find(Boolean)?.expectedEventsEach,
      openSeconds: summarize(raw[id].map((x) => x?.openSeconds ?? NaN)),
    };
  }
  results.figures.streams = figures;
  results.raw.streams = raw;
}

async function replaySection(s: Stack, load: Worker, results: any) {
  const shape = modelName(REPLAY);
  // Create the stored response through the upstream: in the background, so it streams from the
  // upstream and stores one delta per chunk (a blocking create takes the turn whole: one delta).
  const created = await fetch(`${s.respd.base}/responses`, { method: 'POST', headers: RESPD_HEADERS, body: respBody(`openai:${shape}`, true, false, { background: true }) });
  let body = await created.json() as { id: string; status: string };
  for (let i = 0; i < 600 && created.ok && (body.status === 'queued' || body.status === 'in_progress'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    body = await (await fetch(`${s.respd.base}/responses/${body.id}`, { headers: RESPD_HEADERS })).json() as { id: string; status: string };
  }
  if (!created.ok || body.status !== 'completed') throw new Error(`could not create the replay response: HTTP ${created.status} ${JSON.stringify(body).slice(0, 300)}`);
  const replay: Target = { id: 'respd-replay', label: 'respd GET /responses/{id}?stream=true&starting_after=0', method: 'GET', url: `${s.respd.base}/responses/${body.id}?stream=true&starting_after=0`, headers: { authorization: RESPD_HEADERS.authorization }, body: '', kind: 'responses' };
  const direct = targets(s, shape, true).direct;
  const reps = 5;
  const raw: Record<string, StreamResult[]> = { direct: [], 'respd-replay': [] };
  for (const t of [direct, replay]) await load.call({ op: 'stream', url: t.url, method: t.method, headers: t.headers, body: t.method === 'GET' ? undefined : t.body, kind: t.kind });
  for (let r = 0; r < CONFIG.rounds; r++) {
    for (const t of rotate([direct, replay], r)) {
      const rs: StreamResult[] = [];
      for (let i = 0; i < reps; i++) rs.push(await load.call<StreamResult>({ op: 'stream', url: t.url, method: t.method, headers: t.headers, body: t.method === 'GET' ? undefined : t.body, kind: t.kind }));
      // Per round: the median of `reps` reads.
      rs.sort((a, b) => a.eventsPerSec - b.eventsPerSec);
      raw[t.id][r] = rs[reps >> 1];
      const m = rs[reps >> 1];
      log(`replay round ${r + 1} ${t.id}: ${m.events} events in ${(m.seconds * 1e3).toFixed(1)} ms = ${Math.round(m.eventsPerSec)} events/s${m.finished ? '' : ' (UNFINISHED)'}${m.gaps ? ` gaps ${m.gaps}` : ''}`);
    }
  }
  const eps = raw['respd-replay'].map((x) => x.eventsPerSec);
  results.figures.replay = {
    responseId: body.id,
    events: raw['respd-replay'][0].events,
    firstSeq: raw['respd-replay'][0].firstSeq, lastSeq: raw['respd-replay'][0].lastSeq,
    eventsPerSec: summarize(eps),
    directEventsPerSec: summarize(raw.direct.map((x) => x.eventsPerSec)),
    vsDirect: ratioSummary(eps, raw.direct.map((x) => x.eventsPerSec)),
    allDelivered: raw['respd-replay'].every((x) => x.finished && !x.gaps && x.firstSeq === 1 && x.events === 9_999),
  };
  results.raw.replay = raw;
}

/** The embedded-engine workload: a streamed story from `model: auto`, same prompt as the direct baseline. */
const LLAMA_PROMPT = 'Once upon a time';
const llamaBody = () => respBody('auto', true, true, { input: LLAMA_PROMPT, max_output_tokens: CONFIG.maxOutputTokens, temperature: 0 });

async function llamaSection(s: Stack, load: Worker, results: any) {
  const models = await (await fetch(`${s.respd.base}/models`, { headers: RESPD_HEADERS })).json() as { data: Array<{ id: string }> };
  const local = models.data.find((m) => m.id.startsWith('local:'));
  if (!local) throw new Error('respd serves no embedded (local:) model');
  const modelPath = join(ROOT, 'models', `${local.id.slice('local:'.length)}.gguf`);
  const direct = new Worker('llama-direct.js');
  try {
    const loaded = await direct.call<{ contextSize: number }>({ op: 'load', modelPath, threads: 1 });
    const prompt = LLAMA_PROMPT;
    const body = llamaBody();
    const respdOnce = async () => {
      const r = await load.call<StreamResult & { lastData?: string }>({ op: 'stream', url: `${s.respd.base}/responses`, headers: RESPD_HEADERS, body, kind: 'responses', lastData: true });
      if (!r.lastData) throw new Error(`respd stream ended without a terminal event (${r.error ?? 'no error'})`);
      const usage = JSON.parse(r.lastData).response.usage as { input_tokens: number; output_tokens: number };
      return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, seconds: r.seconds };
    };
    // Warm both with a few requests: respd runs far more JS per request than the direct loop, and its
    // JIT compilation would otherwise be charged to round 1 (seen: round 1 ~5 % below the others).
    for (let i = 0; i < 5; i++) await respdOnce();
    await direct.call({ op: 'run', prompt, maxTokens: CONFIG.maxOutputTokens, temperature: 0, n: 5 });
    const raw: Record<string, Array<{ tokens: number; seconds: number; cpuSeconds: number; inputTokens: number; perRequest: number[] }>> = { respd: [], direct: [] };
    const pids: Record<string, number> = { respd: s.respd.pid, direct: direct.proc.pid! };
    for (let r = 0; r < CONFIG.rounds; r++) {
      // Alternate request by request, so load from elsewhere on the machine hits both alike.
      const runs: Record<string, Array<{ inputTokens: number; outputTokens: number; seconds: number }>> = { respd: [], direct: [] };
      const cpu: Record<string, number> = { respd: 0, direct: 0 };
      for (let i = 0; i < CONFIG.llamaRequests; i++) {
        for (const who of rotate(['respd', 'direct'], r + i)) {
          const c0 = cpuSecondsOf(pids[who]);
          if (who === 'respd') runs.respd.push(await respdOnce());
          else runs.direct.push(...await direct.call<Array<{ inputTokens: number; outputTokens: number; seconds: number }>>({ op: 'run', prompt, maxTokens: CONFIG.maxOutputTokens, temperature: 0, n: 1 }));
          cpu[who] += cpuSecondsOf(pids[who]) - c0;
        }
      }
      for (const who of ['respd', 'direct']) {
        const rs = runs[who];
        const tokens = rs.reduce((a, x) => a + x.outputTokens, 0);
        const seconds = rs.reduce((a, x) => a + x.seconds, 0);
        raw[who][r] = { tokens, seconds, cpuSeconds: cpu[who], inputTokens: rs[0].inputTokens, perRequest: rs.map((x) => x.outputTokens) };
        log(`llama round ${r + 1} ${who}: ${tokens} tokens in ${(seconds * 1e3).toFixed(1)} ms = ${Math.round(tokens / seconds)} tokens/s, ${((cpu[who] / tokens) * 1e6).toFixed(0)} µs CPU/token (prompt ${rs[0].inputTokens} tokens)`);
      }
    }
    const tps = (who: string) => raw[who].map((x) => x.tokens / x.seconds);
    results.figures.llama = {
      model: local.id, modelPath, threads: 1, contextSize: loaded.contextSize, maxOutputTokens: CONFIG.maxOutputTokens, requestsPerRound: CONFIG.llamaRequests,
      respdTokensPerSec: summarize(tps('respd')), directTokensPerSec: summarize(tps('direct')),
      ratio: ratioSummary(tps('respd'), tps('direct')),
      cpuUsPerToken: { respd: summarize(raw.respd.map((x) => (x.cpuSeconds / x.tokens) * 1e6)), direct: summarize(raw.direct.map((x) => (x.cpuSeconds / x.tokens) * 1e6)) },
      outputTokensPerRequest: { respd: raw.respd[0].perRequest[0], direct: raw.direct[0].perRequest[0] },
      promptTokens: { respd: raw.respd[0].inputTokens, direct: raw.direct[0].inputTokens },
    };
    results.raw.llama = raw;
  } finally {
    direct.stop();
  }
}

/** Optional (BENCH_PROFILE=1): respd under --cpu-prof for each workload; summaries of self time. */
async function profileSection(s: Stack, load: Worker, results: any) {
  const dir = env.BENCH_PROFILE_DIR ?? mkdtempSync(join(os.tmpdir(), 'respd-prof-'));
  mkdirSync(dir, { recursive: true });
  const workloads: Array<{ name: string; run: (st: Stack) => Promise<unknown> }> = [
    { name: 'chat-c16', run: (st) => autocannon(load, targets(st, modelName(TINY), false)['respd-chat'], 16, CONFIG.duration * 2) },
    { name: 'responses-store-c16', run: (st) => autocannon(load, targets(st, modelName(TINY), false)['respd-responses-store'], 16, CONFIG.duration * 2) },
    { name: 'responses-nostore-c16', run: (st) => autocannon(load, targets(st, modelName(TINY), false)['respd-responses-nostore'], 16, CONFIG.duration * 2) },
    { name: 'responses-stream-long', run: async (st) => { const t = targets(st, modelName(LONG), true)['respd-responses-store']; for (let i = 0; i < 20; i++) await load.call({ op: 'stream', url: t.url, headers: t.headers, body: t.body, kind: t.kind }); } },
    { name: 'llama-stream', run: async (st) => {
      const body = llamaBody();
      for (let i = 0; i < 40; i++) await load.call({ op: 'stream', url: `${st.respd.base}/responses`, headers: RESPD_HEADERS, body, kind: 'responses' });
    } },
  ];
  results.profiles = {};
  for (const w of workloads.filter((x) => !env.BENCH_PROFILE_ONLY || env.BENCH_PROFILE_ONLY.split(",").includes(x.name))) {
    const sub = join(dir, w.name);
    mkdirSync(sub, { recursive: true });
    const respd = await startRespd(s.upstream.url, { cpuProfDir: sub });
    try {
      const r = await w.run({ ...s, respd }) as { requests?: number } | undefined;
      if (r?.requests) log(`profile ${w.name}: ${r.requests} requests`);
    } finally {
      await respd.stop();
    }
    // The largest profile is respd's main thread (node-llama-cpp may start a short-lived helper process).
    const file = readdirSync(sub).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(sub, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (!file) continue;
    results.profiles[w.name] = { file, ...summarizeProfile(file, 15) };
    log(`profile ${w.name}: ${file}`);
    for (const f of results.profiles[w.name].functions.slice(0, 8)) log(`   ${String(f.selfPct).padStart(5)} %  ${f.name}`);
  }
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const cpus = os.cpus();
  const results: any = {
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memGiB: round(os.totalmem() / 2 ** 30, 1), platform: `${os.platform()} ${os.release()}`, loadavgAtStart: os.loadavg().map((x) => round(x, 2)) },
    node: process.version,
    config: CONFIG,
    shapes: { tiny: modelName(TINY), long: modelName(LONG), held: modelName(held(CONFIG.streams)), replay: modelName(REPLAY) },
    peer: {} as Record<string, unknown>,
    figures: {} as Record<string, unknown>,
    raw: {} as Record<string, unknown>,
    errors: {} as Record<string, string>,
  };
  const peer = ensurePortkey();
  results.peer = peer.ok ? { name: '@portkey-ai/gateway', version: peer.version, available: true } : { name: '@portkey-ai/gateway', available: false, reason: peer.reason };

  log('starting upstream, respd, peer, load worker');
  const children: Array<{ stop(): unknown }> = [];
  const stopAll = async () => {
    await Promise.all(children.map((p) => Promise.resolve(p.stop()).catch(() => {})));
  };
  let stack: Stack;
  let load: Worker;
  try {
    const upstream = await startUpstream();
    children.push(upstream);
    const respd = await startRespd(upstream.url);
    children.push(respd);
    let portkey: (Proc & { url: string }) | undefined;
    if (peer.ok) {
      try {
        portkey = await startPortkey();
        children.push(portkey);
      } catch (err) {
        results.peer = { ...results.peer, available: false, reason: `could not start: ${(err as Error).message.split('\n')[0]}` };
      }
    }
    if (portkey) {
      // One real call through the peer, so a broken peer is recorded, not benchmarked.
      const probe = await fetch(`${portkey.url}/v1/chat/completions`, {
        method: 'POST', body: chatBody(modelName(TINY), true),
        headers: { ...JSON_HEADERS, authorization: 'Bearer bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.url },
      }).then(async (r) => ({ ok: r.ok, text: await r.text() }), (e: Error) => ({ ok: false, text: e.message }));
      if (!probe.ok || !probe.text.includes('[DONE]')) {
        results.peer = { ...results.peer, available: false, reason: `probe request failed: ${probe.text.slice(0, 200)}` };
        await portkey.stop();
        portkey = undefined;
      }
    }
    if (!portkey) log(`peer unavailable: ${String((results.peer as any).reason)}`);
    load = new Worker('load-worker.js');
    children.push(load);
    const ab = CONFIG.abMain ? await startRespd(upstream.url, { main: CONFIG.abMain }) : undefined;
    if (ab) children.push(ab);
    stack = { upstream, respd, portkey, ab };
  } catch (err) {
    await stopAll();
    throw err;
  }

  const sections: Array<[string, (s: Stack, l: Worker, r: any) => Promise<void>]> = [
    ['http', httpSection], ['ttfb', ttfbSection], ['sse', sseSection], ['replay', replaySection],
    ['llama', llamaSection], ['streams', streamsSection], ['scale', scaleSection],
  ];
  if (CONFIG.profile) sections.push(['profile', profileSection]);
  try {
    for (const [name, fn] of sections) {
      if (name !== 'profile' && !want(name)) continue;
      const t0 = Date.now();
      log(`== ${name}`);
      try {
        await fn(stack, load, results);
      } catch (err) {
        results.errors[name] = (err as Error).stack ?? String(err);
        log(`section ${name} failed: ${(err as Error).message}`);
      }
      log(`== ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await stopAll();
  }
  results.machine.loadavgAtEnd = os.loadavg().map((x) => round(x, 2));
  results.seconds = Math.round((Date.now() - started) / 1000);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${CONFIG.out}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${CONFIG.out}.md`), renderMarkdown(results));
  log(`wrote bench/results/${CONFIG.out}.json and .md in ${results.seconds} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
