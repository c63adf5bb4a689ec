// What respd's hosted tools cost (issue 21): web_search per call against a search engine on loopback, and
// the code interpreter's start-up (cold: a new `auto` container; warm: a call in a container that already
// exists) and a small pandas job. Each is timed end to end through `POST /responses` against the same
// response without the tool (the mock model answers at once either way), so the difference is the tool
// call: the search or the sandbox, the tool plumbing and the model's second turn. Not part of `npm run bench`:
//   npx tsc -p tsconfig.json && node dist/bench/hosted-tools.js [reps=15]
// The code interpreter part runs only where its sandbox does (bubblewrap and Debian's python3 with pandas).
import { readFileSync } from 'node:fs';
import type OpenAI from 'openai';
import { startMockSearch } from '../test/support/mock-search.js';
import { startMockUpstream } from '../test/support/mock-upstream.js';
import { startServer, type TestServer } from '../test/support/server.js';

const REPS = Number(process.argv[2] ?? 15);
const MODEL = 'openai:mock-script';
let nonce = 0;
const script = (spec: object) => JSON.stringify({ ...spec, nonce: nonce++ });

/** CPU seconds (user + system) the process has used so far, from /proc. */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];
const fmt = (a: number[]) => `p50 ${pct(a, 0.5).toFixed(1)} ms, p90 ${pct(a, 0.9).toFixed(1)} ms`;

/** Times `reps` responses (after 2 warm-ups), alternating with/without the tool so drift hits both. */
async function ab(s: TestServer, withTool: () => Promise<unknown>, without: () => Promise<unknown>, reps: number) {
  const a: number[] = [];
  const b: number[] = [];
  let cpuA = 0;
  let cpuB = 0;
  for (let i = 0; i < reps + 2; i++) {
    for (const [f, out, which] of [[withTool, a, 'a'], [without, b, 'b']] as const) {
      const c0 = cpuOf(s.proc.pid!);
      const t0 = performance.now();
      await f();
      const ms = performance.now() - t0;
      const c = (cpuOf(s.proc.pid!) - c0) * 1000;
      if (i < 2) continue;
      out.push(ms);
      if (which === 'a') cpuA += c;
      else cpuB += c;
    }
  }
  return { a, b, cpuA: cpuA / reps, cpuB: cpuB / reps };
}

const upstream = await startMockUpstream();
const engine = await startMockSearch();
try {
  const s = await startServer({ env: { OPENAI_BASE_URL: upstream.url, WEB_SEARCH_BACKEND: 'searxng', WEB_SEARCH_URL: engine.url, WEB_FETCH_ALLOW_PRIVATE: '1' } });
  try {
    const c = s.client();
    const call = { name: 'web_search', arguments: JSON.stringify({ query: 'durable logs' }) };
    const r = await ab(s,
      () => c.responses.create({ model: MODEL, input: script({ calls: [call], answer: 'found' }), tools: [{ type: 'web_search' }] }),
      () => c.responses.create({ model: MODEL, input: script({ answer: 'found' }), tools: [{ type: 'web_search' }] }),
      REPS);
    console.log(`web_search (SearxNG protocol, loopback engine): with a call ${fmt(r.a)}; without ${fmt(r.b)}; ` +
      `added per call p50 ${(pct(r.a, 0.5) - pct(r.b, 0.5)).toFixed(1)} ms; respd CPU ${r.cpuA.toFixed(1)} vs ${r.cpuB.toFixed(1)} ms per response`);
  } finally {
    await s.stop();
  }

  const s2 = await startServer({ env: { OPENAI_BASE_URL: upstream.url, CODE_INTERPRETER: 'bwrap' } });
  try {
    const c = s2.client();
    const tools = [{ type: 'code_interpreter' as const, container: { type: 'auto' as const } }];
    const py = (code: string) => ({ name: 'python', arguments: JSON.stringify({ code }) });
    const probe = await c.responses.create({ model: MODEL, input: script({ calls: [py('import pandas; print(1)')], answer: 'ok' }), tools, include: ['code_interpreter_call.outputs'] } as never) as OpenAI.Responses.Response;
    const probeCall = probe.output.find((i) => i.type === 'code_interpreter_call') as OpenAI.Responses.ResponseCodeInterpreterToolCall | undefined;
    const log = probeCall?.outputs?.find((o) => o.type === 'logs') as { logs: string } | undefined;
    if (!probeCall || probeCall.status !== 'completed' || !log?.logs.includes('1')) {
      console.log(`code_interpreter skipped: the sandbox did not run here (${s2.logs.filter((l) => /code.interpreter/i.test(l)).slice(-1)[0] ?? probeCall?.status ?? 'no call'})`);
    } else {
      const plain = () => c.responses.create({ model: MODEL, input: script({ answer: 'ok' }), tools });
      const cold = await ab(s2, () => c.responses.create({ model: MODEL, input: script({ calls: [py('print(1)')], answer: 'ok' }), tools }), plain, REPS);
      console.log(`code_interpreter print(1), new auto container (cold): ${fmt(cold.a)}; without a call ${fmt(cold.b)}; added p50 ${(pct(cold.a, 0.5) - pct(cold.b, 0.5)).toFixed(0)} ms`);
      const ctr = await c.containers.create({ name: 'bench' });
      const inCtr = [{ type: 'code_interpreter' as const, container: ctr.id }];
      const warm = await ab(s2, () => c.responses.create({ model: MODEL, input: script({ calls: [py('print(1)')], answer: 'ok' }), tools: inCtr }), plain, REPS);
      console.log(`code_interpreter print(1) in an existing container (warm): ${fmt(warm.a)}; added p50 ${(pct(warm.a, 0.5) - pct(warm.b, 0.5)).toFixed(0)} ms`);
      const job = "import pandas as pd, numpy as np\ndf = pd.DataFrame({'k': np.arange(200000) % 100, 'v': np.random.rand(200000)})\ndf.groupby('k').v.agg(['sum','mean']).to_csv('out.csv')\nprint(len(df))";
      const pandas = await ab(s2, () => c.responses.create({ model: MODEL, input: script({ calls: [py(job)], answer: 'ok' }), tools: inCtr }), plain, Math.max(5, Math.floor(REPS / 2)));
      console.log(`code_interpreter pandas group-by of 200,000 rows to CSV: ${fmt(pandas.a)}; added p50 ${(pct(pandas.a, 0.5) - pct(pandas.b, 0.5)).toFixed(0)} ms`);
      await c.containers.delete(ctr.id);
    }
  } finally {
    await s2.stop();
  }
} finally {
  await upstream.close();
  await engine.close();
}
