// Streams: time to first token, events/s of one long stream, and 1,000 streams held open at once.
import type { StreamResult, StreamsResult, TtfbResult } from '../load-worker.js';
import { rssOf, startPortkey, startRespd, startUpstream, Worker, type Proc } from '../lib/procs.js';
import { held, LONG, modelName, TINY } from '../lib/scenarios.js';
import { round, summarize } from '../lib/stats.js';
import { CONFIG, log, rotate, type Target, type Stack, ratioSummary, diffSummary, targets, autocannon } from '../lib/context.js';

export async function ttfbSection(s: Stack, load: Worker, results: any) {
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

export async function sseSection(s: Stack, load: Worker, results: any) {
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
export async function streamsSection(s: Stack, load: Worker, results: any) {
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
