// A 20-tool-call chain (OpenAI's WebSocket-mode use case) over WebSocket and over HTTP, against one
// respd process and the test mock upstream: each turn is a function call answered by a
// function_call_output + previous_response_id. Reports wall time and respd CPU (utime+stime from
// /proc) per turn, median over rounds, for:
//   http-store   POST /responses stream:true, store:true (the chain is read back from the store)
//   ws-store     response.create on one socket, store:true (the chain from the connection cache)
//   ws-nostore   the same with store:false (only possible over WebSocket)
// Run: npx tsc -p tsconfig.json && node dist/bench/ws-chain.js [rounds=5] [turns=20]
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startMockUpstream } from '../test/support/mock-upstream.js';
import { KEY_A, readSse, startServer, type TestServer } from '../test/support/server.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const TURNS = Number(process.argv[3] ?? 20);
const TOOLS = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city', 'unit'], additionalProperties: false } }];
const CLK = 100; // USER_HZ

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK;
}

type Turn = (body: Record<string, unknown>) => Promise<any>;

async function chain(turn: Turn, store: boolean): Promise<void> {
  let r = await turn({ model: 'openai:mock-tool', store, tools: TOOLS, input: 'What is the weather in Paris?' });
  for (let i = 1; i < TURNS; i++) {
    const call = r.output.find((o: any) => o.type === 'function_call');
    if (!call) throw new Error(`turn ${i}: no function call (${r.status})`);
    r = await turn({ model: 'openai:mock-tool', store, tools: TOOLS, previous_response_id: r.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' }] });
  }
}

function httpTurn(server: TestServer): Turn {
  return async (body) => {
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
    const events = await readSse(res);
    return events.at(-1)!.data.response;
  };
}

async function wsTurn(server: TestServer): Promise<{ turn: Turn; close: () => void }> {
  const ws = new WebSocket(`${server.baseURL.replace(/^http/, 'ws')}/responses`, { headers: { authorization: `Bearer ${KEY_A}` } });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  let pending: ((m: any) => void) | undefined;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.type === 'error') throw new Error(JSON.stringify(m));
    if (/^response\.(completed|failed|incomplete)$/.test(m.type)) pending?.(m.response);
  });
  return {
    turn: (body) => new Promise((resolve) => { pending = resolve; ws.send(JSON.stringify({ type: 'response.create', ...body })); }),
    close: () => ws.close(),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const upstream = await startMockUpstream();
  const server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
  const pid = server.proc.pid!;
  const systems: Record<string, () => Promise<void>> = {
    'http-store': () => chain(httpTurn(server), true),
    'ws-store': async () => { const s = await wsTurn(server); await chain(s.turn, true); s.close(); },
    'ws-nostore': async () => { const s = await wsTurn(server); await chain(s.turn, false); s.close(); },
  };
  const out: Record<string, { wall: number[]; cpu: number[] }> = {};
  // One warm-up round, then ROUNDS measured ones with the order rotated each round.
  const names = Object.keys(systems);
  for (let round = -1; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + Math.max(round, 0)) % names.length];
      const c0 = cpuMs(pid);
      const t0 = performance.now();
      await systems[name]();
      const wall = (performance.now() - t0) / TURNS;
      const cpu = (cpuMs(pid) - c0) / TURNS;
      if (round >= 0) ((out[name] ??= { wall: [], cpu: [] }).wall.push(wall), out[name].cpu.push(cpu));
    }
  }
  console.log(`${TURNS}-turn tool-call chain, ${ROUNDS} rounds, per turn (median, min–max):`);
  for (const [name, r] of Object.entries(out)) {
    const f = (xs: number[]) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    console.log(`  ${name.padEnd(11)} wall ms ${f(r.wall)}   respd CPU ms ${f(r.cpu)}`);
  }
  await server.stop();
  await upstream.close();
}

await main();
