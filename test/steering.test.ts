// Steering (OpenAI's beta `response.steer`, issue 22 item 3): over a real WebSocket (`ws`), input steered
// into a running response stops it (`incomplete`, reason `steered`) and a successor on the same lane
// commits the input; failures are `response.steer.failed` events. Over HTTP, respd's extension
// POST /responses/{id}/steer does the same for background responses, also when another instance runs
// the response (two instances on PostgreSQL + Redis; skipped with a reason when they do not answer,
// except in CI). The mock upstream streams slowly, so a steer lands mid-response.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { performance } from 'node:perf_hooks';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_B, startServer, type TestServer } from './support/server.js';
import { answers, dropRedisPrefix, dropSchema, randomName } from './support/backends.js';
import { Conn, type Msg } from './support/ws-conn.js';
import { ConnectionSteers, withQueuedInput } from '../src/http/ws-steer.js';
import type { ResponseObject } from '../src/wire/types.js';

const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
// 60 chunks 50 ms apart: about 3 s of streaming, long enough to steer in the middle.
const MODEL = 'openai:mock-text';
const STEER = 'Actually, answer in one word about cats.';

let upstream: MockUpstream;
let server: TestServer;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const userTexts = (items: Msg[]) => items.filter((i) => i.type === 'message' && i.role === 'user')
  .map((i) => (typeof i.content === 'string' ? i.content : i.content.map((c: Msg) => c.text).join('')));

async function steerHttp(s: TestServer, id: string, body: unknown): Promise<{ status: number; json: Msg }> {
  const res = await s.fetch(`/responses/${id}/steer`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Msg };
}

/** Polls until the response has the wanted status (or any terminal one when `status` is omitted). */
async function until(client: OpenAI, id: string, ok: (r: OpenAI.Responses.Response) => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await client.responses.retrieve(id);
    if (ok(r)) return r;
    if (Date.now() > end) throw new Error(`response ${id} still ${r.status}`);
    await sleep(50);
  }
}
const terminal = (r: { status?: string | null }) => ['completed', 'incomplete', 'failed', 'cancelled'].includes(r.status ?? '');

function assertErrorShape(json: Msg, code: string, status: number, got: number) {
  assert.equal(got, status, JSON.stringify(json));
  assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(json.error.code, code);
  assert.equal(typeof json.error.message, 'string');
}

before(async () => {
  upstream = await startMockUpstream({ text: { chunks: 60, chunkSize: 4, delayMs: 50 } });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, RATE_LIMIT_REQUESTS: '100000' } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('steering over the WebSocket (response.steer)', () => {
  it('accepted steer: the response ends incomplete (steered), a chained successor commits the input and completes', async (t) => {
    const c = await Conn.open(server);
    try {
      c.ws.send(JSON.stringify({ type: 'response.create', model: MODEL, input: 'Tell me a long story.', stream_id: 'lane-1' }));
      const created = await c.next(0, (m) => m.type === 'response.created');
      const id = created.response.id as string;
      await c.next(0, (m) => m.type === 'response.output_text.delta');
      const from = c.messages.length;
      const t0 = performance.now();
      c.ws.send(JSON.stringify({ type: 'response.steer', previous_response_id: id, input: STEER }));
      const accepted = await c.next(from, (m) => m.type === 'response.steer.accepted');
      const acceptedMs = performance.now() - t0;
      assert.match(accepted.steer.id, /^steer_/);
      assert.equal(accepted.steer.previous_response_id, id);
      assert.equal(accepted.stream_id, 'lane-1');
      assert.equal(typeof accepted.sequence_number, 'number');

      const incomplete = await c.next(from, (m) => m.type === 'response.incomplete');
      assert.equal(incomplete.response.id, id);
      assert.equal(incomplete.response.status, 'incomplete');
      assert.deepEqual(incomplete.response.incomplete_details, { reason: 'steered' });
      assert.equal(incomplete.stream_id, 'lane-1');
      // Stopped mid-way: fewer deltas than the 60 the upstream would have sent.
      const deltas = c.messages.filter((m) => m.type === 'response.output_text.delta' && m.item_id && c.messages.indexOf(m) < c.messages.indexOf(incomplete));
      assert.ok(deltas.length > 0 && deltas.length < 60, `${deltas.length} deltas`);

      // The successor's response.created is the commit point; it continues the steered response.
      const next = await c.next(c.messages.indexOf(incomplete), (m) => m.type === 'response.created' && m.response.id !== id);
      assert.equal(next.response.previous_response_id, id);
      assert.equal(next.stream_id, 'lane-1');
      assert.equal(next.sequence_number, 0);
      t.diagnostic(`steer accepted in ${acceptedMs.toFixed(1)} ms; successor created ${(performance.now() - t0).toFixed(0)} ms after the steer`);
      const done = await c.next(c.messages.indexOf(next), (m) => m.type === 'response.completed');
      assert.equal(done.response.id, next.response.id);
      assert.equal(done.response.status, 'completed');

      // Stored and chained: the steered input is the successor's input; the model saw the partial answer, then it.
      const client = server.client();
      const steered = await client.responses.retrieve(id);
      assert.equal(steered.status, 'incomplete');
      assert.equal(steered.incomplete_details?.reason, 'steered');
      const items = await client.responses.inputItems.list(next.response.id);
      assert.deepEqual(userTexts(items.data as Msg[]), [STEER]);
      const messages = upstream.lastChat().body.messages as Msg[];
      assert.equal(messages[messages.length - 1].role, 'user');
      assert.equal(messages[messages.length - 1].content, STEER);
      assert.equal(messages[messages.length - 2].role, 'assistant');
      assert.equal(messages[messages.length - 3].content, 'Tell me a long story.');

      // The lane is free again: a next turn runs on it.
      const t2 = await c.turn({ model: 'openai:mock-echo', input: 'and now?', previous_response_id: next.response.id, stream_id: 'lane-1' });
      assert.equal(t2.response?.status, 'completed');
    } finally {
      c.close();
    }
  });

  it('two steers before the stop commit both, in order, to one successor', async () => {
    const c = await Conn.open(server);
    try {
      c.ws.send(JSON.stringify({ type: 'response.create', model: MODEL, input: 'Count slowly.' }));
      const id = (await c.next(0, (m) => m.type === 'response.created')).response.id as string;
      await c.next(0, (m) => m.type === 'response.output_text.delta');
      c.ws.send(JSON.stringify({ type: 'response.steer', previous_response_id: id, input: 'first' }));
      c.ws.send(JSON.stringify({ type: 'response.steer', previous_response_id: id, input: [{ role: 'user', content: [{ type: 'input_text', text: 'second' }] }] }));
      const next = await c.next(0, (m) => m.type === 'response.created' && m.response.id !== id);
      const accepted = c.messages.filter((m) => m.type === 'response.steer.accepted');
      // Both acknowledged before the successor's creation; no stray failures.
      assert.ok(accepted.length >= 1);
      await c.next(0, (m) => m.type === 'response.completed' && m.response.id === next.response.id);
      const all = c.messages.filter((m) => m.type === 'response.steer.accepted').length;
      const failed = c.messages.filter((m) => m.type === 'response.steer.failed');
      assert.equal(all + failed.length, 2);
      const items = await server.client().responses.inputItems.list(next.response.id, { order: 'asc' });
      if (all === 2) assert.deepEqual(userTexts(items.data as Msg[]), ['first', 'second']);
      else assert.deepEqual(userTexts(items.data as Msg[]), ['first']);
    } finally {
      c.close();
    }
  });

  it('refuses what cannot be steered with response.steer.failed, in OpenAI\'s shape', async () => {
    const c = await Conn.open(server);
    try {
      const failed = async (msg: Msg) => {
        const from = c.messages.length;
        c.ws.send(JSON.stringify({ type: 'response.steer', ...msg }));
        const f = await c.next(from, (m) => m.type === 'response.steer.failed' || m.type === 'error');
        assert.equal(f.type, 'response.steer.failed', JSON.stringify(f));
        assert.equal(f.error.type, 'invalid_request_error');
        assert.equal(typeof f.error.message, 'string');
        assert.equal(typeof f.sequence_number, 'number');
        return f;
      };
      // Nothing running under that id on this connection (no steering id is allocated).
      const nf = await failed({ previous_response_id: 'resp_0000000000000000000000000000000a', input: 'hi' });
      assert.equal(nf.error.code, 'response_not_found');
      assert.equal(nf.steer.id, undefined);
      assert.equal(nf.steer.input, 'hi');
      assert.equal(nf.steer.previous_response_id, 'resp_0000000000000000000000000000000a');
      // A response that has ended.
      const t = await c.turn({ model: 'openai:mock-echo', input: 'quick' });
      const done = await failed({ previous_response_id: t.response!.id, input: 'too late' });
      assert.equal(done.error.code, 'response_already_completed');
      // Bad input: other roles, tool outputs, extra fields, stream_id, no target.
      assert.equal((await failed({ previous_response_id: t.response!.id, input: [{ role: 'assistant', content: 'x' }] })).error.code, 'invalid_input');
      assert.equal((await failed({ previous_response_id: t.response!.id, input: [] })).error.code, 'invalid_input');
      assert.equal((await failed({ previous_response_id: t.response!.id, input: '' })).error.code, 'invalid_input');
      assert.equal((await failed({ previous_response_id: t.response!.id, input: [{ type: 'function_call_output', call_id: 'c', output: 'x' }] })).error.code, 'invalid_input');
      assert.equal((await failed({ previous_response_id: t.response!.id, input: 'x', stream_id: 'a' })).error.code, 'invalid_input');
      assert.equal((await failed({ input: 'x' })).error.code, 'invalid_input');
      // The connection is still usable.
      assert.equal((await c.turn({ model: 'openai:mock-echo', input: 'still here' })).response?.status, 'completed');
    } finally {
      c.close();
    }
  });
});

describe('steering state of a connection (ws-steer.ts)', () => {
  const response = (id: string, status: string, output: Msg[] = []) => ({ id, status, output, conversation: null }) as unknown as ResponseObject;

  it('input accepted for a response that completes waiting for a tool output stays queued (steer.pending) for the continuation', () => {
    const sent: Msg[] = [];
    const stopped: string[] = [];
    const steers = new ConnectionSteers((id) => (stopped.push(id), true), (json) => sent.push(JSON.parse(json)));
    steers.started(response('resp_1', 'in_progress'), 'lane');
    steers.sent('resp_1', 4, false);
    steers.steer({ type: 'response.steer', previous_response_id: 'resp_1', input: 'also this' });
    assert.deepEqual(stopped, ['resp_1']);
    assert.equal(sent[0].type, 'response.steer.accepted');
    assert.equal(sent[0].sequence_number, 4);
    assert.equal(sent[0].stream_id, 'lane');
    // The run had already produced its client function call: the terminal event keeps the lane for the input…
    assert.equal(steers.sent('resp_1', 9, true), true);
    const call = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: '{}', status: 'completed' };
    assert.equal(steers.turnEnded(response('resp_1', 'completed', [call])), undefined);
    // …which waits for the tool output instead of becoming a successor.
    assert.deepEqual(sent[1], {
      type: 'response.steer.pending', sequence_number: 9, stream_id: 'lane', reason: 'waiting_for_required_input',
      required_input: [{ type: 'function_call_output', call_id: 'call_1', name: 'lookup' }],
      steer: { id: sent[0].steer.id, previous_response_id: 'resp_1' },
    });
    const queued = steers.queuedFor('resp_1')!;
    assert.deepEqual(withQueuedInput(queued, [{ type: 'function_call_output', call_id: 'call_1', output: '42' }]), [
      { type: 'message', role: 'user', content: 'also this' },
      { type: 'function_call_output', call_id: 'call_1', output: '42' },
    ]);
    steers.committed('resp_1');
    assert.equal(steers.queuedFor('resp_1'), undefined);
    // A steer of it now: it has completed.
    steers.steer({ type: 'response.steer', previous_response_id: 'resp_1', input: 'late' });
    assert.equal(sent[2].error.code, 'response_already_completed');
  });

  it('input queued for a response that failed is returned (steer.failed with its id)', () => {
    const sent: Msg[] = [];
    const steers = new ConnectionSteers(() => true, (json) => sent.push(JSON.parse(json)));
    steers.started(response('resp_2', 'in_progress'), undefined);
    steers.steer({ type: 'response.steer', previous_response_id: 'resp_2', input: 'x' });
    steers.sent('resp_2', 3, true);
    assert.equal(steers.turnEnded(response('resp_2', 'failed')), undefined);
    assert.equal(sent[1].type, 'response.steer.failed');
    assert.equal(sent[1].error.code, 'response_not_active');
    assert.equal(sent[1].steer.id, sent[0].steer.id);
    assert.equal(sent[1].steer.input, 'x');
    assert.equal('stream_id' in sent[1], false);
  });
});

describe('steering a background response over HTTP (POST /responses/{id}/steer, respd extension)', () => {
  it('stops it (incomplete, steered) and answers with its background successor, which commits the input', async () => {
    const client = server.client();
    const bg = await client.responses.create({ model: MODEL, input: 'Write a long essay.', background: true });
    await until(client, bg.id, (r) => r.status === 'in_progress' && r.output.length > 0);
    const { status, json } = await steerHttp(server, bg.id, { input: STEER });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.object, 'response.steer');
    assert.match(json.id, /^steer_/);
    assert.equal(json.previous_response_id, bg.id);
    assert.equal(json.response.previous_response_id, bg.id);
    assert.equal(json.response.background, true);
    assert.ok(['queued', 'in_progress'].includes(json.response.status));
    const steered = await client.responses.retrieve(bg.id);
    assert.equal(steered.status, 'incomplete');
    assert.equal(steered.incomplete_details?.reason, 'steered');
    const done = await until(client, json.response.id, terminal);
    assert.equal(done.status, 'completed');
    assert.equal(done.model, bg.model);
    const items = await client.responses.inputItems.list(json.response.id);
    assert.deepEqual(userTexts(items.data as Msg[]), [STEER]);
  });

  it('4xx in OpenAI\'s error shape: finished, foreground, unknown, bad input', async () => {
    const client = server.client();
    const fg = await client.responses.create({ model: 'openai:mock-echo', input: 'hi' });
    let r = await steerHttp(server, fg.id, { input: 'x' });
    assertErrorShape(r.json, 'steering_not_supported', 400, r.status);
    const bg = await client.responses.create({ model: 'openai:mock-echo', input: 'hi', background: true });
    await until(client, bg.id, terminal);
    r = await steerHttp(server, bg.id, { input: 'x' });
    assertErrorShape(r.json, 'response_already_completed', 409, r.status);
    r = await steerHttp(server, 'resp_0000000000000000000000000000000b', { input: 'x' });
    assertErrorShape(r.json, 'not_found', 404, r.status);
    // Another owner's response is unknown to the caller.
    const foreign = await server.fetch(`/responses/${bg.id}/steer`, { method: 'POST', key: KEY_B, body: JSON.stringify({ input: 'x' }) });
    assertErrorShape((await foreign.json()) as Msg, 'not_found', 404, foreign.status);
    for (const body of [{}, { input: 5 }, { input: 'x', extra: 1 }]) {
      r = await steerHttp(server, bg.id, body);
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message', 'param', 'type']);
    }
    r = await steerHttp(server, bg.id, { input: [{ role: 'system', content: 'x' }] });
    assertErrorShape(r.json, 'invalid_input', 400, r.status);
    assert.equal(r.json.error.param, 'input[0].role');
    r = await steerHttp(server, bg.id, { input: '' });
    assertErrorShape(r.json, 'invalid_input', 400, r.status);
  });
});

describe('steering over HTTP across instances (PostgreSQL + Redis)', { timeout: 90_000 }, () => {
  let skipReason: string | undefined;
  let servers: TestServer[] = [];
  const schema = randomName('respd_steer');
  const prefix = randomName('respd_steer');
  const skip = (t: TestContext) => (skipReason ? (t.skip(skipReason), true) : false);

  before(async () => {
    const [pgUp, redisUp] = await Promise.all([answers('127.0.0.1', Number(new URL(PG_URL).port || 5432)), answers('127.0.0.1', Number(new URL(REDIS_URL).port || 6379))]);
    if (!pgUp || !redisUp) {
      skipReason = `needs PostgreSQL (${pgUp ? 'up' : 'no answer'}) and Redis (${redisUp ? 'up' : 'no answer'})`;
      if (process.env.CI) throw new Error(skipReason);
      return;
    }
    const env = { OPENAI_BASE_URL: upstream.url, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, REDIS_URL, REDIS_PREFIX: prefix, LEASE_SECONDS: '5' };
    servers = [await startServer({ env })];
    servers.push(await startServer({ env }));
  });
  after(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    if (skipReason) return;
    await dropSchema(PG_URL, schema);
    await dropRedisPrefix(REDIS_URL, prefix);
  });

  it('a steer sent to the instance not running the response reaches the one that does', async (t) => {
    if (skip(t)) return;
    const [a, b] = servers;
    const client = a.client();
    const bg = await client.responses.create({ model: MODEL, input: 'Write a long essay.', background: true });
    await until(client, bg.id, (r) => r.status === 'in_progress' && r.output.length > 0);
    const runner = servers.find((s) => s.logs.some((l) => l.includes('background job started') && l.includes(bg.id)));
    assert.ok(runner, 'no instance logged the job');
    const other = runner === a ? b : a;
    const t0 = performance.now();
    const { status, json } = await steerHttp(other, bg.id, { input: STEER });
    t.diagnostic(`steer answered across instances in ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.response.previous_response_id, bg.id);
    const steered = await other.client().responses.retrieve(bg.id);
    assert.equal(steered.status, 'incomplete');
    assert.equal(steered.incomplete_details?.reason, 'steered');
    // Cut short: far fewer than the 60 chunks' worth of text.
    assert.ok(steered.output_text.length < 240, `${steered.output_text.length} characters`);
    const done = await until(runner!.client(), json.response.id, terminal);
    assert.equal(done.status, 'completed');
    const items = await b.client().responses.inputItems.list(json.response.id);
    assert.deepEqual(userTexts(items.data as Msg[]), [STEER]);
  });
});
