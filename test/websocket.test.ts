// WebSocket mode of /responses (the Open Responses 2026-04 transport), driven with a real WebSocket client
// (`ws`) against the server and the mock upstream: one and several responses on a connection, the
// store:false continuation cache (hit, miss after reconnect, eviction after a failed turn), a new chain
// from /responses/compact, store:true responses read and resumed over HTTP, auth, limits and bad
// messages. Every message the server sends is checked against the Open Responses schema.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_A, KEY_B, readSse, startServer, type TestServer } from './support/server.js';
import { answers, dropRedisPrefix, dropSchema, randomName } from './support/backends.js';
import { openResponsesAvailable, validateResponseObject } from './support/openresponses.js';
import { Conn, type Msg } from './support/ws-conn.js';
import { waitFor } from './support/wait.js';

let upstream: MockUpstream;
let server: TestServer;

/** A connection to this file's server (or `on`). */
const open = (key: string | null = KEY_A, headers: Record<string, string> = {}, on: TestServer = server) => Conn.open(on, key, headers);

const text = (r: Msg) => r.output.flatMap((o: Msg) => o.content ?? []).map((c: Msg) => c.text).join('');

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, RATE_LIMIT_REQUESTS: '100000', RATE_LIMIT_MAX_STREAMS: '2', BODY_LIMIT: '262144' } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('WebSocket mode', () => {
  it('streams one response as the same events as SSE, numbered from 0, ending in response.completed', async () => {
    const c = await open();
    const t = await c.turn({ model: 'openai:mock-text', input: [{ type: 'message', role: 'user', content: 'Count from 1 to 3.' }] });
    c.close();
    assert.ok(t.response, JSON.stringify(t.error));
    assert.deepEqual(t.events.map((e) => e.sequence_number), t.events.map((_, i) => i));
    assert.equal(t.events[0].type, 'response.created');
    assert.ok(t.events.some((e) => e.type === 'response.output_text.delta'));
    assert.equal(t.response.status, 'completed');
    if (openResponsesAvailable) assert.deepEqual(validateResponseObject(t.response), []);
    assert.ok(text(t.response).length > 0);
  });

  it('runs several responses one after another on one connection', async () => {
    const c = await open();
    const a = await c.turn({ model: 'openai:mock-echo', store: false, input: 'Reply with exactly: first' });
    const b = await c.turn({ model: 'openai:mock-echo', store: false, input: 'Reply with exactly: second' });
    c.close();
    assert.equal(a.response?.status, 'completed');
    assert.equal(b.response?.status, 'completed');
    assert.notEqual(a.response.id, b.response.id);
    assert.match(text(a.response), /first/);
    assert.match(text(b.response), /second/);
    assert.equal(b.events[0].sequence_number, 0);
  });

  it('continues a store:false chain from the connection cache with only the new input', async () => {
    const c = await open();
    const a = await c.turn({ model: 'openai:mock-echo', store: false, input: 'Remember the code word: cobalt.' });
    const seen = upstream.requests.length;
    const b = await c.turn({ model: 'openai:mock-echo', store: false, previous_response_id: a.response!.id, input: 'What is the code word?' });
    c.close();
    assert.equal(b.response?.status, 'completed', JSON.stringify(b.error));
    assert.equal(b.response.previous_response_id, a.response!.id);
    // The model saw the whole chain: the first turn's input and output, then the new input.
    const sent = JSON.stringify(upstream.requests.slice(seen).at(-1)!.body.messages);
    assert.match(sent, /Remember the code word: cobalt\./);
    assert.match(sent, /What is the code word\?/);
    assert.ok(sent.includes(JSON.stringify(text(a.response!)).slice(1, -1)), 'the first answer is in the history');
    // Nothing of a store:false response reached the store.
    assert.equal((await server.fetch(`/responses/${a.response!.id}`)).status, 404);
  });

  it('answers an unknown previous_response_id with previous_response_not_found, also after a reconnect', async () => {
    const c = await open();
    const miss = await c.turn({ model: 'openai:mock-text', store: false, previous_response_id: `resp_openresponses_missing_${Date.now()}`, input: 'x' });
    assert.equal(miss.error?.error.code, 'previous_response_not_found');
    assert.equal(miss.error?.status, 400);
    assert.equal(miss.error?.error.param, 'previous_response_id');
    const a = await c.turn({ model: 'openai:mock-text', store: false, input: 'Remember the code word: copper.' });
    c.close();
    // The cache belongs to the connection: a new one cannot continue a store:false chain...
    const d = await open();
    const again = await d.turn({ model: 'openai:mock-text', store: false, previous_response_id: a.response!.id, input: 'continue' });
    assert.equal(again.error?.error.code, 'previous_response_not_found');
    // ...and recovers by starting a new one.
    const fresh = await d.turn({ model: 'openai:mock-text', store: false, input: 'start over' });
    d.close();
    assert.equal(fresh.response?.status, 'completed');
  });

  it('evicts the cached response when a continuation of it fails', async () => {
    const c = await open();
    const a = await c.turn({ model: 'openai:mock-text', store: false, input: 'Remember the code word: ember.' });
    const failed = await c.turn({
      model: 'openai:mock-text', store: false, previous_response_id: a.response!.id,
      input: [{ type: 'function_call_output', call_id: 'call_missing', output: 'no such call' }],
    });
    assert.equal(failed.error?.status, 400);
    assert.equal(failed.error?.error.param, 'input[0].call_id');
    const retry = await c.turn({ model: 'openai:mock-text', store: false, previous_response_id: a.response!.id, input: 'stale' });
    c.close();
    assert.equal(retry.error?.error.code, 'previous_response_not_found');
  });

  it('evicts it too when the continuation runs and ends failed', async () => {
    const c = await open();
    const a = await c.turn({ model: 'openai:mock-text', store: false, input: 'one' });
    const failed = await c.turn({ model: 'openai:mock-error-500', store: false, previous_response_id: a.response!.id, input: 'two' });
    assert.equal(failed.response?.status, 'failed');
    const retry = await c.turn({ model: 'openai:mock-text', store: false, previous_response_id: a.response!.id, input: 'three' });
    c.close();
    assert.equal(retry.error?.error.code, 'previous_response_not_found');
  });

  it('starts a new chain from /responses/compact output', async () => {
    const res = await server.fetch('/responses/compact', {
      method: 'POST',
      body: JSON.stringify({
        model: 'openai:mock-text',
        input: [
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Remember the compaction code word: slate.' }] },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'OK.' }] },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const compacted = (await res.json()) as { output: Msg[] };
    assert.ok(compacted.output.some((o) => o.type === 'compaction'));
    const c = await open();
    const seen = upstream.requests.length;
    const t = await c.turn({ model: 'openai:mock-text', store: false, input: [...compacted.output, { type: 'message', role: 'user', content: 'Continue from here.' }], tools: [] });
    c.close();
    assert.equal(t.response?.status, 'completed', JSON.stringify(t.error));
    assert.equal(t.response.previous_response_id, null);
    assert.match(JSON.stringify(upstream.requests.slice(seen).at(-1)!.body.messages), /slate/);
  });

  it('stores a store:true response: retrievable and resumable over HTTP, continuable from a new connection', async () => {
    const c = await open();
    const t = await c.turn({ model: 'openai:mock-text', input: 'stored over a socket', metadata: { via: 'ws' } });
    c.close();
    const id = t.response!.id;
    const got = await server.fetch(`/responses/${id}`);
    assert.equal(got.status, 200);
    const json = (await got.json()) as Msg;
    assert.equal(json.status, 'completed');
    assert.equal(text(json), text(t.response!));
    assert.deepEqual(json.metadata, { via: 'ws' });
    const resumed = await readSse(await server.fetch(`/responses/${id}?stream=true&starting_after=2`));
    assert.deepEqual(resumed.map((e) => (e.data as Msg).sequence_number), t.events.slice(3).map((e) => e.sequence_number));
    assert.deepEqual(resumed.map((e) => e.event), t.events.slice(3).map((e) => e.type));
    // Another connection (or instance) has no cache entry for it: the chain is read from the store.
    const d = await open();
    const next = await d.turn({ model: 'openai:mock-text', previous_response_id: id, input: 'and again' });
    d.close();
    assert.equal(next.response?.status, 'completed', JSON.stringify(next.error));
    // Another tenant cannot continue it.
    const e = await open(KEY_B);
    const foreign = await e.turn({ model: 'openai:mock-text', previous_response_id: id, input: 'x' });
    e.close();
    assert.equal(foreign.error?.error.code, 'previous_response_not_found');
  });

  it('refuses the upgrade without a valid key (401, OpenAI error body) and keeps GET /responses a list', async () => {
    await assert.rejects(open(null), (e: any) => e.status === 401 && JSON.parse(e.body).error.code === 'invalid_api_key');
    await assert.rejects(open('wrong-key'), (e: any) => e.status === 401);
    const list = await server.fetch('/responses');
    assert.equal(list.status, 200);
    assert.equal(((await list.json()) as Msg).object, 'list');
  });

  it('answers bad messages with error events and keeps the connection usable', async () => {
    const c = await open();
    let from = c.messages.length;
    c.ws.send('{not json');
    assert.equal((await c.next(from, (m) => m.type === 'error')).error.code, 'invalid_json');
    from = c.messages.length;
    c.ws.send(JSON.stringify({ type: 'response.cancel' }));
    assert.equal((await c.next(from, (m) => m.type === 'error')).error.param, 'type');
    const unknown = await c.turn({ model: 'openai:mock-text', input: 'x', bogus: 1 });
    assert.equal(unknown.error?.error.code, 'unknown_parameter');
    assert.equal(unknown.error?.error.param, 'bogus');
    const missing = await c.turn({ input: 'x' });
    assert.equal(missing.error?.error.code, 'missing_required_parameter');
    const bg = await c.turn({ model: 'openai:mock-text', input: 'x', background: true });
    assert.equal(bg.error?.error.param, 'background');
    const ok = await c.turn({ model: 'openai:mock-text', input: 'x', store: false });
    c.close();
    assert.equal(ok.response?.status, 'completed');
  });

  it('closes the connection (1009) on a message larger than BODY_LIMIT', async () => {
    const c = await open();
    const code = new Promise<number>((r) => c.ws.once('close', (n) => r(n)));
    c.ws.send(JSON.stringify({ type: 'response.create', model: 'openai:mock-text', input: 'x'.repeat(300_000) }));
    assert.equal(await code, 1009);
  });

  it('refuses a second response.create while one runs, and stops the response when the client leaves', async () => {
    const c = await open();
    const from = c.messages.length;
    c.ws.send(JSON.stringify({ type: 'response.create', model: 'openai:mock-slow', input: 'slow', store: false }));
    await c.next(from, (m) => m.type === 'response.output_text.delta');
    const busy = await c.turn({ model: 'openai:mock-text', input: 'too soon' });
    assert.equal(busy.error?.status, 409);
    const aborted = upstream.aborted;
    c.close();
    await waitFor(() => upstream.aborted > aborted, 5000);
  });

  it('counts each turn as an open stream against the per-key cap', async () => {
    // Two slow SSE streams of the same key take the whole cap (RATE_LIMIT_MAX_STREAMS=2).
    const ctl = new AbortController();
    const streams = await Promise.all([1, 2].map(() => server.fetch('/responses', {
      method: 'POST', signal: ctl.signal, body: JSON.stringify({ model: 'openai:mock-slow', input: 'hold', stream: true, store: false }),
    })));
    assert.deepEqual(streams.map((r) => r.status), [200, 200]);
    const c = await open();
    const limited = await c.turn({ model: 'openai:mock-text', input: 'x', store: false });
    assert.equal(limited.error?.status, 429);
    assert.equal(limited.error?.error.code, 'rate_limit_exceeded');
    ctl.abort();
    await Promise.all(streams.map((r) => r.body?.cancel().catch(() => {})));
    // Once they close, the socket's next turn runs.
    let ok = await c.turn({ model: 'openai:mock-text', input: 'x', store: false });
    for (let i = 0; i < 50 && !ok.response; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ok = await c.turn({ model: 'openai:mock-text', input: 'x', store: false });
    }
    c.close();
    assert.equal(ok?.response?.status, 'completed');
  });
});

describe('WebSocket mode across instances (PostgreSQL + Redis)', { timeout: 60_000 }, () => {
  const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
  const schema = randomName('respd_ws');
  const prefix = randomName('respd_ws');
  let skip: string | undefined;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    const [pgUp, redisUp] = await Promise.all([answers('127.0.0.1', Number(new URL(PG_URL).port || 5432)), answers('127.0.0.1', Number(new URL(REDIS_URL).port || 6379))]);
    if (!pgUp || !redisUp) {
      if (process.env.CI) throw new Error('PostgreSQL and Redis must run in CI');
      skip = 'needs PostgreSQL and Redis';
      return;
    }
    const env = { OPENAI_BASE_URL: upstream.url, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, REDIS_URL, REDIS_PREFIX: prefix };
    a = await startServer({ env });
    b = await startServer({ env });
  });
  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    if (skip) return;
    await dropSchema(PG_URL, schema);
    await dropRedisPrefix(REDIS_URL, prefix);
  });

  it('a store:true response created over a socket on one instance is followed live, retrieved and continued on another', async (t) => {
    if (skip) return t.skip(skip);
    const c = await open(KEY_A, {}, a);
    const from = c.messages.length;
    c.ws.send(JSON.stringify({ type: 'response.create', model: 'openai:mock-slow', input: 'shared' }));
    const created = await c.next(from, (m) => m.type === 'response.created');
    // Instance b follows it while a's socket still streams it.
    const live = await readSse(await b.fetch(`/responses/${created.response.id}?stream=true&starting_after=0`));
    const done = await c.next(from, (m) => m.type === 'response.completed', 20_000);
    c.close();
    const sent = c.messages.slice(from);
    assert.deepEqual(live.map((e) => e.event), sent.slice(1).map((m) => m.type));
    assert.deepEqual(live.map((e) => (e.data as Msg).sequence_number), sent.slice(1).map((m) => m.sequence_number));
    const got = (await (await b.fetch(`/responses/${done.response.id}`)).json()) as Msg;
    assert.equal(text(got), text(done.response));
    // A socket on b continues the chain from the shared store.
    const d = await open(KEY_A, {}, b);
    const next = await d.turn({ model: 'openai:mock-echo', previous_response_id: done.response.id, input: 'go on' });
    d.close();
    assert.equal(next.response?.status, 'completed', JSON.stringify(next.error));
    assert.equal(next.response.previous_response_id, done.response.id);
  });
});
