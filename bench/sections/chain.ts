// Long sessions (issue 17): a `previous_response_id` chain of blocking store:true turns on the bench
// upstream (tiny reply, answered at once), on the embedded store and on PostgreSQL. A turn's cost grows
// with the history it sends upstream, which nothing can avoid; what respd itself adds should not. So
// each turn of two windows (turns 6–25 and the last 20) is timed against the same chat request,
// with the same history, sent to the upstream directly: "own" time = respd's turn − that direct call.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropSchema } from '../../test/support/backends.js';
import { cpuSecondsOf, startRespd } from '../lib/procs.js';
import { modelName, TINY } from '../lib/scenarios.js';
import { round, summarize } from '../lib/stats.js';
import { CONFIG, env, JSON_HEADERS, log, RESPD_HEADERS, type Stack } from '../lib/context.js';

const TURNS = Number(env.BENCH_CHAIN_TURNS ?? 500);
const WINDOW = 20;
const PG_URL = env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

type Msg = { role: 'user' | 'assistant'; content: string };

async function pgAnswers(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL (${PG_URL}) does not answer: ${(err as Error).message}`;
  } finally {
    await c.end().catch(() => {});
  }
}

async function runChain(base: string, pid: number, upstreamUrl: string) {
  const model = modelName(TINY);
  const history: Msg[] = [];
  const windows: Record<string, { wallMs: number[]; cpuMs: number[]; directMs: number[]; upstreamBytes: number[] }> = {};
  const sampled = (turn: number) => (turn > 5 && turn <= 5 + WINDOW ? 'early' : turn > TURNS - WINDOW ? 'late' : undefined);
  let prev: string | undefined;
  for (let turn = 1; turn <= TURNS; turn++) {
    const input = `turn ${turn}: go on`;
    const body = JSON.stringify({ model: `openai:${model}`, input, store: true, ...(prev ? { previous_response_id: prev } : {}) });
    const cpu0 = cpuSecondsOf(pid);
    const t0 = performance.now();
    const res = await fetch(`${base}/responses`, { method: 'POST', headers: RESPD_HEADERS, body });
    const r = (await res.json()) as { id: string; status: string; output_text: string };
    const wall = performance.now() - t0;
    const cpu = (cpuSecondsOf(pid) - cpu0) * 1e3;
    if (!res.ok || r.status !== 'completed') throw new Error(`turn ${turn}: HTTP ${res.status} ${JSON.stringify(r).slice(0, 300)}`);
    history.push({ role: 'user', content: input });
    const w = sampled(turn);
    if (w) {
      // The same request respd sent upstream for this turn (its history before the reply), sent directly.
      const direct = JSON.stringify({ model, messages: history });
      const d0 = performance.now();
      await (await fetch(`${upstreamUrl}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: direct })).text();
      const s = (windows[w] ??= { wallMs: [], cpuMs: [], directMs: [], upstreamBytes: [] });
      s.wallMs.push(wall);
      s.cpuMs.push(cpu);
      s.directMs.push(performance.now() - d0);
      s.upstreamBytes.push(direct.length);
    }
    history.push({ role: 'assistant', content: r.output_text });
    prev = r.id;
  }
  const summary = (k: string) => {
    const s = windows[k];
    const own = s.wallMs.map((x, i) => Math.max(0, x - s.directMs[i]));
    // /proc counts CPU in 10 ms ticks: only the window's total, per turn, means something.
    const cpuMsPerTurn = round(s.cpuMs.reduce((a, b) => a + b, 0) / s.cpuMs.length, 2);
    return { wallMs: summarize(s.wallMs), directMs: summarize(s.directMs), ownMs: summarize(own), cpuMsPerTurn, upstreamBytes: Math.round(summarize(s.upstreamBytes).median) };
  };
  const early = summary('early');
  const late = summary('late');
  return {
    turns: TURNS, early, late,
    ownRatio: round(late.ownMs.median / early.ownMs.median, 2),
    cpuRatio: round(late.cpuMsPerTurn / early.cpuMsPerTurn, 2),
  };
}

export async function chainSection(s: Stack, _load: unknown, results: any): Promise<void> {
  results.figures.chain = await chainOf(s.upstream.url);
  // BENCH_AB_MAIN: the other build, for a before/after in one run.
  if (CONFIG.abMain) results.figures.chainAb = await chainOf(s.upstream.url, CONFIG.abMain);
}

async function chainOf(upstreamUrl: string, main?: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const tag = main ? 'chain (A/B build)' : 'chain';
  const sqlite = await startRespd(upstreamUrl, { main });
  try {
    out.sqlite = await runChain(sqlite.base, sqlite.pid, upstreamUrl);
    log(`${tag} sqlite: ${JSON.stringify(out.sqlite)}`);
  } finally {
    await sqlite.stop();
  }
  const skip = await pgAnswers();
  if (skip) {
    out.postgres = { skipped: true, reason: skip };
    log(`${tag} postgres: skipped — ${skip}`);
    return out;
  }
  const schema = `respd_bench_${randomBytes(5).toString('hex')}`;
  const inst = await startRespd(upstreamUrl, { main, env: { DATABASE_URL: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}` } });
  try {
    out.postgres = await runChain(inst.base, inst.pid, upstreamUrl);
    log(`${tag} postgres: ${JSON.stringify(out.postgres)}`);
  } finally {
    await inst.stop();
    await dropSchema(PG_URL, schema).catch(() => {});
  }
  return out;
}
