// What a streamed response costs the server against a blocking one (issue 17: a streamed `POST
// /responses` should cost at most 1.5× the server CPU of a blocking one, WebSocket turns included).
// The same reply (`bench-10x8-d0`: 10 text chunks, answered at once) is asked for blocking, streamed
// (SSE) and as WebSocket turns, store on and off; the figure is CPU µs per request of the respd process
// (/proc, user + system), the ratio is streamed ÷ blocking of the same round. With BENCH_AB_MAIN the
// other build is measured alike, so before and after come from one run.
import type { AutocannonResult, WsResult } from '../load-worker.js';
import { cpuSecondsOf, RESPD_KEY, Worker, type Proc } from '../lib/procs.js';
import { modelName, TEN } from '../lib/scenarios.js';
import { summarize } from '../lib/stats.js';
import { CONFIG, env, log, ratioSummary, respBody, RESPD_HEADERS, rotate, type Stack } from '../lib/context.js';

const SHAPE = modelName(TEN);
/** Enough in flight to keep respd busy (so CPU ticks add up fast) without queueing much. */
const CONNECTIONS = Number(env.BENCH_STREAMCPU_CONNECTIONS ?? 4);
/** Short runs, many rounds (see the loop below); BENCH_STREAMCPU_ROUNDS / _DURATION override. */
const ROUNDS = Number(env.BENCH_STREAMCPU_ROUNDS ?? Math.max(CONFIG.rounds, 9));
const DURATION = Number(env.BENCH_STREAMCPU_DURATION ?? 1.5);
const MODES = ['blocking', 'stream', 'ws'] as const;
type Mode = (typeof MODES)[number];

interface System {
  id: string;
  build: string;
  mode: Mode;
  store: boolean;
  proc: Proc & { base: string };
}

async function measure(load: Worker, s: System, duration: number): Promise<{ cpuUsPerReq: number; requests: number; failures: number }> {
  const cpu0 = cpuSecondsOf(s.proc.pid);
  const model = `openai:${SHAPE}`;
  let requests: number;
  let failures: number;
  if (s.mode === 'ws') {
    const r = await load.call<WsResult>({
      op: 'ws', url: `${s.proc.base.replace(/^http/, 'ws')}/responses`, headers: { authorization: `Bearer ${RESPD_KEY}` },
      message: JSON.stringify({ type: 'response.create', model, input: 'Say something.', store: s.store }),
      connections: CONNECTIONS, duration,
    });
    requests = r.turns;
    failures = r.failures;
  } else {
    const r = await load.call<AutocannonResult>({
      op: 'autocannon', url: `${s.proc.base}/responses`, method: 'POST', headers: RESPD_HEADERS,
      body: respBody(model, s.store, s.mode === 'stream'), connections: CONNECTIONS, duration,
    });
    requests = r.requests;
    failures = r.non2xx + r.errors + r.timeouts;
  }
  const cpuUsPerReq = ((cpuSecondsOf(s.proc.pid) - cpu0) / requests) * 1e6;
  return { cpuUsPerReq, requests, failures };
}

export async function streamCpuSection(st: Stack, load: Worker, results: any) {
  const builds: Array<[string, Proc & { base: string }]> = [['respd', st.respd]];
  if (st.ab) builds.push(['ab', st.ab]);
  const systems: System[] = [];
  for (const [build, proc] of builds) {
    for (const mode of MODES) for (const store of [false, true]) systems.push({ id: `${build}-${mode}-${store ? 'store' : 'nostore'}`, build, mode, store, proc });
  }
  log(`streamcpu: warm-up (${systems.length} systems, ${SHAPE}, c=${CONNECTIONS})`);
  for (const s of systems) await measure(load, s, 1);
  const raw: Record<string, number[]> = {};
  let failures = 0;
  // A ratio compares runs taken one right after the other: on a shared machine the CPU a request costs
  // drifts within seconds, so each build × store group runs its three modes back to back, in short runs,
  // over many rounds (the order rotated every round).
  const groups = builds.flatMap(([build]) => ['nostore', 'store'].map((store) => systems.filter((x) => x.build === build && x.id.endsWith(`-${store}`))));
  for (let r = 0; r < ROUNDS; r++) {
    for (const group of rotate(groups, r)) {
      for (const s of rotate(group, r)) {
        await new Promise((res) => setTimeout(res, CONFIG.settleMs / 5));
        const m = await measure(load, s, DURATION);
        (raw[s.id] ??= [])[r] = m.cpuUsPerReq;
        failures += m.failures;
        log(`streamcpu round ${r + 1}/${ROUNDS} ${s.id}: ${m.requests} requests, ${Math.round(m.cpuUsPerReq)} µs CPU/req${m.failures ? `, ${m.failures} failed` : ''}`);
      }
    }
  }
  const figures: any = { shape: SHAPE, connections: CONNECTIONS, rounds: ROUNDS, duration: DURATION, failures, builds: {} };
  for (const [build] of builds) {
    const b: any = {};
    for (const store of ['nostore', 'store']) {
      const blocking = raw[`${build}-blocking-${store}`];
      b[store] = {
        cpuUsPerReq: Object.fromEntries(MODES.map((m) => [m, summarize(raw[`${build}-${m}-${store}`])])),
        streamVsBlocking: ratioSummary(raw[`${build}-stream-${store}`], blocking),
        wsVsBlocking: ratioSummary(raw[`${build}-ws-${store}`], blocking),
      };
      if (build === 'respd' && st.ab) {
        b[store].vsAb = Object.fromEntries(MODES.map((m) => [m, ratioSummary(raw[`respd-${m}-${store}`], raw[`ab-${m}-${store}`])]));
      }
    }
    figures.builds[build] = b;
  }
  for (const [build] of builds) {
    for (const store of ['nostore', 'store']) {
      const f = figures.builds[build][store];
      const fmt = (x: { median: number; min: number; max: number }, d = 2) => `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`;
      log(`streamcpu ${build} ${store}: blocking ${fmt(f.cpuUsPerReq.blocking, 0)} µs, stream ${fmt(f.cpuUsPerReq.stream, 0)} µs, ws ${fmt(f.cpuUsPerReq.ws, 0)} µs; stream/blocking ${fmt(f.streamVsBlocking)}, ws/blocking ${fmt(f.wsVsBlocking)}`);
    }
  }
  results.figures.streamcpu = figures;
  results.raw.streamcpu = raw;
}
