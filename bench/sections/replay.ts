// Replay: GET /responses/{id}?stream=true&starting_after=0 on a stored 10,000-event response.
import type { StreamResult } from '../load-worker.js';
import { Worker } from '../lib/procs.js';
import { modelName, REPLAY } from '../lib/scenarios.js';
import { round, summarize } from '../lib/stats.js';
import { CONFIG, log, rotate, RESPD_HEADERS, respBody, type Target, type Stack, ratioSummary, targets } from '../lib/context.js';

export async function replaySection(s: Stack, load: Worker, results: any) {
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
