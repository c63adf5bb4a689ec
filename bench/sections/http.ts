// /chat/completions and /responses throughput and latency at each concurrency (autocannon), with CPU
// per request of the serving process; systems alternate, order rotated every round.
import type { AutocannonResult } from '../load-worker.js';
import { Worker } from '../lib/procs.js';
import { modelName, TINY } from '../lib/scenarios.js';
import { round, summarize } from '../lib/stats.js';
import { CONFIG, log, rotate, type Stack, ratioSummary, diffSummary, targets, autocannon, pidOf } from '../lib/context.js';

export async function httpSection(s: Stack, load: Worker, results: any) {
  const all = targets(s, modelName(TINY), false);
  // store:true has a respd process of its own here (see Stack.respdStore).
  if (s.respdStore) all['respd-responses-store'].url = all['respd-responses-store'].url.replace(s.respd.base, s.respdStore.base);
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
