// Replay: GET /responses/{id}?stream=true&starting_after=0 on a stored 10,000-event response, on each
// store (SQLite, and PostgreSQL when it answers: BENCH_DATABASE_URL, its own random schema, dropped at
// the end) and, with BENCH_AB_MAIN, on the other build too, all in the same rounds.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StreamResult } from '../load-worker.js';
import { cpuSecondsOf, startRespd, Worker, type Proc } from '../lib/procs.js';
import { modelName, REPLAY } from '../lib/scenarios.js';
import { summarize } from '../lib/stats.js';
import { CONFIG, env, log, rotate, RESPD_HEADERS, respBody, type Target, type Stack, ratioSummary, targets } from '../lib/context.js';
import { dropSchema } from '../../test/support/backends.js';

const PG_URL = env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
/** Reads per system per round; the round's figure is their median. */
const REPS = Number(env.BENCH_REPLAY_REPS) || 7;

async function pgAnswers(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Creates the stored response on `base` (in the background, so it stores one delta per upstream chunk). */
async function storedResponse(base: string): Promise<string> {
  const created = await fetch(`${base}/responses`, { method: 'POST', headers: RESPD_HEADERS, body: respBody(`openai:${modelName(REPLAY)}`, true, false, { background: true }) });
  let body = await created.json() as { id: string; status: string };
  for (let i = 0; i < 600 && created.ok && (body.status === 'queued' || body.status === 'in_progress'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    body = await (await fetch(`${base}/responses/${body.id}`, { headers: RESPD_HEADERS })).json() as { id: string; status: string };
  }
  if (!created.ok || body.status !== 'completed') throw new Error(`could not create the replay response: HTTP ${created.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.id;
}

interface System { target: Target; pid: number; responseId: string }

export async function replaySection(s: Stack, load: Worker, results: any) {
  const extra: Proc[] = [];
  const schemas: string[] = [];
  try {
    const bases: Array<[id: string, label: string, base: string, pid: number]> = [['respd-replay', 'respd, SQLite', s.respd.base, s.respd.pid]];
    if (s.ab) bases.push(['ab-respd-replay', 'A/B build, SQLite', s.ab.base, s.ab.pid]);
    const pgDown = env.BENCH_REPLAY_PG === '0' ? 'BENCH_REPLAY_PG=0' : await pgAnswers();
    if (pgDown) log(`replay: PostgreSQL skipped (${pgDown})`);
    else {
      for (const [id, label, main] of [['respd-replay-pg', 'respd, PostgreSQL', undefined], ['ab-respd-replay-pg', 'A/B build, PostgreSQL', CONFIG.abMain]] as const) {
        if (id.startsWith('ab-') && !main) continue;
        const schema = `respd_bench_replay_${randomBytes(4).toString('hex')}`;
        schemas.push(schema);
        const p = await startRespd(s.upstream.url, { main, env: { DATABASE_URL: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}` } });
        extra.push(p);
        bases.push([id, label, p.base, p.pid]);
      }
    }
    const systems: System[] = [];
    for (const [id, label, base, pid] of bases) {
      const responseId = await storedResponse(base);
      const target: Target = { id, label: `${label}: GET /responses/{id}?stream=true&starting_after=0`, method: 'GET', url: `${base}/responses/${responseId}?stream=true&starting_after=0`, headers: { authorization: RESPD_HEADERS.authorization }, body: '', kind: 'responses' };
      systems.push({ target, pid, responseId });
    }
    const direct = targets(s, modelName(REPLAY), true).direct;
    const all = [{ target: direct, pid: 0, responseId: '' }, ...systems];
    const raw: Record<string, StreamResult[]> = {};
    const cpu: Record<string, number[]> = {};
    const read = (t: Target) => load.call<StreamResult>({ op: 'stream', url: t.url, method: t.method, headers: t.headers, body: t.method === 'GET' ? undefined : t.body, kind: t.kind });
    // Warm-up: the first reads of each system run unoptimised code.
    for (const x of all) for (let i = 0; i < 3; i++) await read(x.target);
    for (let r = 0; r < CONFIG.rounds; r++) {
      for (const x of rotate(all, r)) {
        const t = x.target;
        const rs: StreamResult[] = [];
        const cpu0 = x.pid ? cpuSecondsOf(x.pid) : 0;
        for (let i = 0; i < REPS; i++) rs.push(await read(t));
        // Server CPU per event (user + system, from /proc): robust to the machine's other load, unlike events/s.
        if (x.pid) (cpu[t.id] ??= []).push(((cpuSecondsOf(x.pid) - cpu0) * 1e9) / rs.reduce((a, b) => a + b.events, 0));
        rs.sort((a, b) => a.eventsPerSec - b.eventsPerSec);
        const m = rs[REPS >> 1];
        (raw[t.id] ??= [])[r] = m;
        log(`replay round ${r + 1} ${t.id}: ${m.events} events in ${(m.seconds * 1e3).toFixed(1)} ms = ${Math.round(m.eventsPerSec)} events/s${m.finished ? '' : ' (UNFINISHED)'}${m.gaps ? ` gaps ${m.gaps}` : ''}${x.pid ? `, server CPU ${Math.round(cpu[t.id][r])} ns/event` : ''}`);
      }
    }
    const eps = (id: string) => raw[id].map((x) => x.eventsPerSec);
    const delivered = (id: string) => raw[id].every((x) => x.finished && !x.gaps && x.firstSeq === 1 && x.events === 9_999);
    const main = raw['respd-replay'];
    results.figures.replay = {
      responseId: systems[0].responseId,
      events: main[0].events,
      firstSeq: main[0].firstSeq, lastSeq: main[0].lastSeq,
      eventsPerSec: summarize(eps('respd-replay')),
      directEventsPerSec: summarize(eps(direct.id)),
      vsDirect: ratioSummary(eps('respd-replay'), eps(direct.id)),
      allDelivered: delivered('respd-replay'),
      // Every system, with its server CPU per event and, for this build, the ratio to the A/B build's same store in the same round.
      systems: Object.fromEntries(systems.map(({ target: t }) => {
        const ab = raw[`ab-${t.id}`];
        return [t.id, {
          label: t.label,
          eventsPerSec: summarize(eps(t.id)),
          cpuNsPerEvent: summarize(cpu[t.id]),
          allDelivered: delivered(t.id),
          ...(ab ? { vsAb: ratioSummary(eps(t.id), ab.map((x) => x.eventsPerSec)), cpuVsAb: ratioSummary(cpu[t.id], cpu[`ab-${t.id}`]) } : {}),
        }];
      })),
    };
    results.raw.replay = { ...raw, cpuNsPerEvent: cpu };
  } finally {
    await Promise.all(extra.map((p) => Promise.resolve(p.stop()).catch(() => {})));
    for (const schema of schemas) await dropSchema(PG_URL, schema).catch((err: Error) => log(`replay: could not drop schema ${schema}: ${err.message}`));
  }
}
