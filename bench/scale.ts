// The `scale` section (issue 6): respd in scale-out mode — PostgreSQL (its own random schema) and Redis
// (its own random key prefix), both dropped at the end — on this one machine.
//   1. Throughput of POST /responses (store on, tiny fixed reply, non-streaming) with one instance vs
//      two, at each concurrency of BENCH_SCALE_CONCURRENCY (16,64), and the default single SQLite
//      instance for reference. Every system is driven the same way: two load-worker processes at
//      once, c/2 connections each (both at the one instance, or one per instance); req/s is their
//      sum, p50/p99 are over the merged response times.
//   2. Cross-instance stream latency: background responses with a slow streamed reply (200 chunks,
//      10 ms apart), each read with GET /responses/{id}?stream=true&starting_after=-1 from both
//      instances at once; latency = arrival of a sequence number on the instance that does not run
//      the response minus its arrival on the one that does (and minus the upstream's send time of
//      the chunk, on the same wall clock).
// Skipped, with the reason recorded, when PostgreSQL or Redis does not answer.
import os from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { AutocannonResult, FollowResult } from './load-worker.js';
import { cpuSecondsOf, RESPD_KEY, startRespd, Worker, type Proc } from './lib/procs.js';
import { modelName, SLOW, TINY } from './lib/scenarios.js';
import { percentile, round, summarize, type Summary } from './lib/stats.js';
import { answers, countRedisKeys, dropRedisPrefix, dropSchema } from '../test/support/backends.js';

const env = process.env;
const PG_URL = env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const CONCURRENCY = (env.BENCH_SCALE_CONCURRENCY ?? '16,64').split(',').map(Number);
/** Background responses streamed at once per latency round. */
const LATENCY_RESPONSES = Number(env.BENCH_SCALE_RESPONSES) || 4;
/** Events appended before both readers had their first byte are their catch-up, not live fan-out. */
const JOIN_MARGIN_MS = 20;

const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${RESPD_KEY}` };
const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const rotate = <T>(a: T[], r: number) => a.slice(r % a.length).concat(a.slice(0, r % a.length));
const ratio = (a: number[], b: number[]) => summarize(a.map((v, i) => v / b[i]));

type Respd = Proc & { base: string };
interface ScaleStack { upstream: { url: string }; respd: Respd }

/** CPU time of the whole machine (all cores), busy and total, in clock ticks (Linux /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/**
 * CPU seconds used so far by every PostgreSQL and Redis server process of the machine (by command
 * name in /proc), per pid: their cost per request is part of a scale-out deployment's.
 */
function backendCpu(): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[] = [];
  try { pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return out; }
  for (const d of pids) {
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (comm === 'postgres' || comm === 'redis-server' || comm.startsWith('postgres:')) out.set(Number(d), cpuSecondsOf(Number(d)));
    } catch { /* gone */ }
  }
  return out;
}
const backendDelta = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((a, [pid, s]) => a + (Number.isFinite(s) ? s - (before.get(pid) ?? 0) : 0), 0);

/** Whether PostgreSQL and Redis answer — a real query and a PING, not only a TCP connect. */
async function probe(): Promise<string | undefined> {
  const pgU = new URL(PG_URL);
  const rU = new URL(REDIS_URL);
  const [pgUp, redisUp] = await Promise.all([answers(pgU.hostname, Number(pgU.port || 5432)), answers(rU.hostname, Number(rU.port || 6379))]);
  if (!pgUp || !redisUp) return `PostgreSQL (${PG_URL}): ${pgUp ? 'up' : 'no answer'}; Redis (${REDIS_URL}): ${redisUp ? 'up' : 'no answer'}`;
  try {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    await c.connect();
    try { await c.query('SELECT 1'); } finally { await c.end(); }
  } catch (err) {
    return `PostgreSQL (${PG_URL}) answers TCP but not a query: ${(err as Error).message}`;
  }
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 3000 });
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    return `Redis (${REDIS_URL}) answers TCP but not PING: ${(err as Error).message}`;
  } finally {
    r.disconnect();
  }
  return undefined;
}

interface RunResult {
  rps: number; requests: number; p50: number; p99: number; failures: number;
  /** CPU of the respd process(es) serving the run, per request (µs). */
  cpuUsPerReq: number;
  /** CPU of the machine's PostgreSQL and Redis server processes, per request (µs). */
  backendCpuUsPerReq: number;
  /** The whole machine's CPU busy during the run, % of all cores. */
  machineBusyPct: number;
}

/** One throughput run: two load workers at once, c/2 connections each, at `bases[0]` and `bases[1 % n]`. */
async function splitRun(loads: [Worker, Worker], bases: string[], pids: number[], c: number, duration: number): Promise<RunResult> {
  const body = JSON.stringify({ model: `openai:${modelName(TINY)}`, input: 'Say something.', store: true });
  const cpu0 = pids.map(cpuSecondsOf);
  const m0 = machineTicks();
  const b0 = backendCpu();
  const halves = [Math.ceil(c / 2), Math.floor(c / 2)];
  const rs = await Promise.all(loads.map((load, i) => load.call<AutocannonResult>({
    op: 'autocannon', url: `${bases[i % bases.length]}/responses`, method: 'POST', headers: HEADERS, body,
    connections: halves[i], duration, samples: true,
  })));
  const m1 = machineTicks();
  const backend = backendDelta(b0, backendCpu());
  const cpu = pids.reduce((a, pid, i) => a + cpuSecondsOf(pid) - cpu0[i], 0);
  const samples = Float64Array.from(rs.flatMap((r) => r.samples ?? [])).sort();
  const requests = rs.reduce((a, r) => a + r.requests, 0);
  const failures = rs.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0);
  if (failures) log(`  ! scale c=${c}: ${rs.map((r) => `non2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`).join(' / ')}`);
  return {
    rps: rs.reduce((a, r) => a + r.rps, 0), requests, failures,
    p50: percentile(samples, 50), p99: percentile(samples, 99),
    cpuUsPerReq: (cpu / requests) * 1e6, backendCpuUsPerReq: (backend / requests) * 1e6,
    machineBusyPct: (100 * (m1.busy - m0.busy)) / (m1.total - m0.total),
  };
}

async function throughput(stack: ScaleStack, a: Respd, b: Respd, load: Worker, results: any) {
  const { rounds, duration } = results.config as { rounds: number; duration: number };
  const second = new Worker('load-worker.js');
  const loads: [Worker, Worker] = [load, second];
  try {
    const systems: Record<string, { label: string; bases: string[]; pids: number[] }> = {
      'sqlite-1': { label: 'SQLite, 1 instance (default)', bases: [stack.respd.base], pids: [stack.respd.pid] },
      'pg-1': { label: 'PostgreSQL + Redis, 1 instance', bases: [a.base], pids: [a.pid] },
      'pg-2': { label: 'PostgreSQL + Redis, 2 instances', bases: [a.base, b.base], pids: [a.pid, b.pid] },
    };
    const ids = Object.keys(systems);
    log(`scale: warm-up (${ids.join(', ')})`);
    for (const id of ids) await splitRun(loads, systems[id].bases, systems[id].pids, 16, 2);
    const raw: Record<number, Record<string, RunResult[]>> = {};
    for (let r = 0; r < rounds; r++) {
      for (const c of CONCURRENCY) {
        raw[c] ??= {};
        for (const id of rotate(ids, r + c)) {
          const res = await splitRun(loads, systems[id].bases, systems[id].pids, c, duration);
          (raw[c][id] ??= [])[r] = res;
          log(`scale round ${r + 1}/${rounds} c=${c} ${id}: ${Math.round(res.rps)} req/s, p50 ${res.p50.toFixed(3)} ms, p99 ${res.p99.toFixed(3)} ms, ` +
            `CPU/req ${Math.round(res.cpuUsPerReq)} µs respd + ${Math.round(res.backendCpuUsPerReq)} µs PostgreSQL/Redis, machine ${res.machineBusyPct.toFixed(0)} % busy`);
        }
      }
    }
    const figures: any = {};
    for (const c of CONCURRENCY) {
      figures[c] = {};
      for (const id of ids) {
        const rs = raw[c][id];
        const rps = rs.map((x) => x.rps);
        figures[c][id] = {
          label: systems[id].label, instances: systems[id].bases.length,
          rps: summarize(rps), p50: summarize(rs.map((x) => x.p50)), p99: summarize(rs.map((x) => x.p99)),
          cpuUsPerReq: summarize(rs.map((x) => x.cpuUsPerReq)), backendCpuUsPerReq: summarize(rs.map((x) => x.backendCpuUsPerReq)),
          machineBusyPct: summarize(rs.map((x) => x.machineBusyPct)),
          failures: rs.reduce((acc, x) => acc + x.failures, 0),
          vsOneInstance: ratio(rps, raw[c]['pg-1'].map((x) => x.rps)),
          vsSqlite: ratio(rps, raw[c]['sqlite-1'].map((x) => x.rps)),
        };
      }
    }
    results.figures.scale.throughput = figures;
    results.raw.scale.throughput = raw;
  } finally {
    second.stop();
  }
}

interface LatencySample {
  response: string; createdOn: string; runner: string; follower: string; runnerKnownFrom: 'log' | 'arrival';
  /** Follower arrival − runner arrival, per live sequence number (ms). */
  fanOut: number[];
  /** Follower arrival − upstream send time of the chunk, per live delta (ms). */
  endToEnd: number[];
  /** Runner arrival − upstream send time (its own stream: the commit tick), per live delta (ms). */
  runnerLag: number[];
  events: number; complete: boolean; note?: string;
}

/** Which instance logged "background job started" for the response (the runner). */
function runnerFromLogs(id: string, insts: Respd[]): number {
  return insts.findIndex((p) => p.logs.some((l) => l.includes('background job started') && l.includes(id)));
}

async function oneLatency(stack: ScaleStack, insts: Respd[], names: string[], creator: number, load: Worker): Promise<LatencySample> {
  const key = `timing:${randomBytes(6).toString('hex')}`;
  const created = await fetch(`${insts[creator].base}/responses`, {
    method: 'POST', headers: HEADERS, body: JSON.stringify({ model: `openai:${modelName(SLOW)}`, input: key, background: true, store: true }),
  });
  const body = await created.json() as { id?: string };
  if (!created.ok || !body.id) throw new Error(`could not create a background response: HTTP ${created.status} ${JSON.stringify(body).slice(0, 300)}`);
  const id = body.id;
  const read = (p: Respd) => ({ url: `${p.base}/responses/${id}?stream=true&starting_after=-1`, method: 'GET' as const, headers: { authorization: HEADERS.authorization } });
  const [ra, rb] = await load.call<FollowResult[]>({ op: 'follow', streams: [read(insts[0]), read(insts[1])] });
  const sent = await fetch(`${stack.upstream.url}/bench/timings?key=${encodeURIComponent(key)}`).then((r) => r.json() as Promise<{ sent: number[] | null }>);
  const reads = [ra, rb];
  const arrival = reads.map((r) => new Map(r.seqs.map((s, i) => [s, r.times[i]])));
  const joined = Math.max(ra.firstByteAt, rb.firstByteAt) + JOIN_MARGIN_MS;
  let runner = runnerFromLogs(id, insts);
  let knownFrom: 'log' | 'arrival' = 'log';
  if (runner < 0) {
    // Not in the (bounded) log buffer: the instance whose stream got the live events first runs it.
    knownFrom = 'arrival';
    const lead = ra.seqs.filter((s) => arrival[1].has(s)).map((s) => arrival[1].get(s)! - arrival[0].get(s)!);
    runner = (lead.sort((x, y) => x - y)[lead.length >> 1] ?? 0) >= 0 ? 0 : 1;
  }
  const follower = 1 - runner;
  const fanOut: number[] = [];
  for (const [seq, at] of arrival[runner]) {
    const f = arrival[follower].get(seq);
    if (at > joined && f !== undefined) fanOut.push(f - at);
  }
  const endToEnd: number[] = [];
  const runnerLag: number[] = [];
  let note: string | undefined;
  const chunks = sent.sent ?? [];
  const deltas = reads[runner].deltaSeqs;
  if (chunks.length !== deltas.length) note = `upstream sent ${chunks.length} chunks, stream has ${deltas.length} deltas: no end-to-end samples`;
  else {
    deltas.forEach((seq, i) => {
      if (chunks[i] <= joined) return;
      const f = arrival[follower].get(seq);
      const r = arrival[runner].get(seq);
      if (f !== undefined) endToEnd.push(f - chunks[i]);
      if (r !== undefined) runnerLag.push(r - chunks[i]);
    });
  }
  const complete = reads.every((r) => !r.error && !r.gaps && r.terminal === 'response.completed' && r.seqs[0] === 0)
    && ra.seqs.length === rb.seqs.length;
  if (!complete) note = [note, `incomplete read: ${reads.map((r, i) => `${names[i]} ${r.seqs.length} events, gaps ${r.gaps}, ${r.terminal ?? 'no terminal'}${r.error ? `, ${r.error}` : ''}`).join('; ')}`].filter(Boolean).join('; ');
  return {
    response: id, createdOn: names[creator], runner: names[runner], follower: names[follower], runnerKnownFrom: knownFrom,
    fanOut, endToEnd, runnerLag, events: ra.seqs.length, complete, ...(note ? { note } : {}),
  };
}

const p = (xs: number[], q: number) => percentile(Float64Array.from(xs).sort(), q);

async function latency(stack: ScaleStack, a: Respd, b: Respd, load: Worker, results: any) {
  const { rounds } = results.config as { rounds: number };
  const insts = [a, b];
  const names = ['A', 'B'];
  // Warm-up: one response, not counted.
  await oneLatency(stack, insts, names, 0, load);
  const raw: LatencySample[][] = [];
  for (let r = 0; r < rounds; r++) {
    // Responses created alternately on A and B, streamed at once.
    const samples = await Promise.all(Array.from({ length: LATENCY_RESPONSES }, (_, j) => oneLatency(stack, insts, names, (r + j) % 2, load)));
    raw[r] = samples;
    const fan = samples.flatMap((s) => s.fanOut);
    const e2e = samples.flatMap((s) => s.endToEnd);
    log(`scale latency round ${r + 1}/${rounds}: ${samples.length} responses (runners ${samples.map((s) => `${s.createdOn}→${s.runner}`).join(' ')}), ` +
      `runner's stream → follower's p50 ${p(fan, 50).toFixed(2)} ms p99 ${p(fan, 99).toFixed(2)} ms (n=${fan.length}); ` +
      `upstream send → follower p50 ${p(e2e, 50).toFixed(2)} ms p99 ${p(e2e, 99).toFixed(2)} ms (n=${e2e.length})` +
      `${samples.some((s) => s.note) ? `; ${samples.filter((s) => s.note).map((s) => s.note).join('; ')}` : ''}`);
  }
  const all = raw.flat();
  const pooled = (pick: (s: LatencySample) => number[]) => {
    const xs = all.flatMap(pick);
    return { n: xs.length, p50: round(p(xs, 50), 3), p99: round(p(xs, 99), 3), max: round(Math.max(...xs), 3), min: round(Math.min(...xs), 3) };
  };
  const perRound = (pick: (s: LatencySample) => number[], q: number): Summary => summarize(raw.map((rs) => p(rs.flatMap(pick), q)));
  results.figures.scale.latency = {
    shape: modelName(SLOW), responsesPerRound: LATENCY_RESPONSES, responses: all.length, eventsPerResponse: all[0]?.events,
    allComplete: all.every((s) => s.complete),
    runners: all.map((s) => `${s.createdOn}→${s.runner}${s.runnerKnownFrom === 'arrival' ? '?' : ''}`).join(' '),
    fanOut: { ...pooled((s) => s.fanOut), p50Rounds: perRound((s) => s.fanOut, 50), p99Rounds: perRound((s) => s.fanOut, 99) },
    endToEnd: { ...pooled((s) => s.endToEnd), p50Rounds: perRound((s) => s.endToEnd, 50), p99Rounds: perRound((s) => s.endToEnd, 99) },
    runnerLag: { ...pooled((s) => s.runnerLag), p50Rounds: perRound((s) => s.runnerLag, 50), p99Rounds: perRound((s) => s.runnerLag, 99) },
    notes: all.filter((s) => s.note).map((s) => `${s.response}: ${s.note}`),
  };
  results.raw.scale.latency = raw.map((rs) => rs.map(({ fanOut, endToEnd, runnerLag, ...rest }) => ({
    ...rest, fanOut: fanOut.map((x) => round(x, 3)), endToEnd: endToEnd.map((x) => round(x, 3)), runnerLag: runnerLag.map((x) => round(x, 3)),
  })));
}

export async function scaleSection(stack: ScaleStack, load: Worker, results: any): Promise<void> {
  const skip = await probe();
  if (skip) {
    log(`scale: skipped — ${skip}`);
    results.figures.scale = { skipped: true, reason: skip };
    return;
  }
  const name = `respd_bench_${randomBytes(5).toString('hex')}`;
  const dbUrl = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${name}`;
  results.figures.scale = {
    backends: { database: dbUrl, redis: REDIS_URL, redisPrefix: name },
    machine: { cores: os.cpus().length },
    concurrency: CONCURRENCY,
  };
  results.raw.scale = {};
  const instEnv = { DATABASE_URL: dbUrl, REDIS_URL, REDIS_PREFIX: name };
  const insts: Respd[] = [];
  try {
    // The first instance migrates the fresh schema; then the second.
    insts.push(await startRespd(stack.upstream.url, { env: instEnv }));
    insts.push(await startRespd(stack.upstream.url, { env: instEnv }));
    const [a, b] = insts;
    log(`scale: 2 instances on schema/prefix ${name}: A ${a.base}, B ${b.base}`);
    try {
      await throughput(stack, a, b, load, results);
    } catch (err) {
      results.errors['scale-throughput'] = (err as Error).stack ?? String(err);
      log(`scale throughput failed: ${(err as Error).message}`);
    }
    await latency(stack, a, b, load, results);
  } finally {
    await Promise.allSettled(insts.map((x) => x.stop()));
    const cleanup: any = {};
    await dropSchema(PG_URL, name).then(() => { cleanup.schemaDropped = true; }, (err: Error) => { cleanup.schemaDropped = false; cleanup.schemaError = err.message; });
    await dropRedisPrefix(REDIS_URL, name).then((n) => { cleanup.redisKeysDeleted = n; }, (err: Error) => { cleanup.redisError = err.message; });
    cleanup.redisKeysLeft = await countRedisKeys(REDIS_URL, name).catch(() => NaN);
    results.figures.scale.cleanup = cleanup;
    log(`scale: dropped schema ${name} (${cleanup.schemaDropped ? 'ok' : cleanup.schemaError}), deleted ${cleanup.redisKeysDeleted ?? '?'} Redis keys, ${cleanup.redisKeysLeft} left`);
  }
}
