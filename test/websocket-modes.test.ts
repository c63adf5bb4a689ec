// WebSocket mode of /responses, the parts OpenAI's WebSocket mode adds to Open Responses' transport:
// `generate: false` (a warm-up turn that prepares a request without calling the model, continued by
// previous_response_id), the connection age limit (`websocket_connection_limit_reached`, after the running
// turn ends) and the idle timeout. Over a real WebSocket (`ws`), messages checked against the schema.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_A, startServer, type TestServer } from './support/server.js';
import { openResponsesAvailable, validateResponseObject } from './support/openresponses.js';
import { Conn, type Msg } from './support/ws-conn.js';
import { waitFor } from './support/wait.js';

let upstream: MockUpstream;
let server: TestServer;
/** Connections closed after 0.4 s unused. */
let idling: TestServer;
/** Connections that live 3 s, never closed for idling. */
let aging: TestServer;
const MAX_MS = 3000;
const IDLE_MS = 400;

const chatRequests = () => upstream.requests.filter((r) => r.path.startsWith('/v1/chat/completions'));

before(async () => {
  upstream = await startMockUpstream();
  const env = { OPENAI_BASE_URL: upstream.url };
  // One after another, each kept as soon as it runs: after() then stops every server that started (each
  // loads the embedded model, slow on a busy machine).
  server = await startServer({ env });
  idling = await startServer({ env: { ...env, WS_IDLE_TIMEOUT_MS: String(IDLE_MS) } });
  aging = await startServer({ env: { ...env, WS_MAX_CONNECTION_MS: String(MAX_MS), WS_IDLE_TIMEOUT_MS: '0' } });
});
after(async () => {
  await Promise.all([server?.stop(), idling?.stop(), aging?.stop()]);
  await upstream?.close();
});

describe('generate: false (warm-up)', () => {
  it('completes without output or a model call, and the next turn continues from it', async () => {
    const c = await Conn.open(server);
    const before = chatRequests().length;
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const warm = await c.turn({ model: 'openai:mock-echo', store: false, generate: false, instructions: 'Be brief.', tools, input: 'Remember the code word: cobalt.' });
    assert.ok(warm.response, JSON.stringify(warm.error));
    assert.deepEqual(warm.events.map((e) => e.type), ['response.created', 'response.in_progress', 'response.completed']);
    assert.deepEqual(warm.events.map((e) => e.sequence_number), [0, 1, 2]);
    assert.equal(warm.response.status, 'completed');
    assert.deepEqual(warm.response.output, []);
    assert.equal(warm.response.usage.total_tokens, 0);
    assert.equal(warm.response.instructions, 'Be brief.');
    assert.equal(warm.response.tools.length, 1);
    if (openResponsesAvailable) assert.deepEqual(validateResponseObject(warm.response), []);
    assert.equal(chatRequests().length, before, 'a warm-up does not call the model');

    // Only the new input is sent; the warmed-up input is part of the chain the model sees.
    const next = await c.turn({ model: 'openai:mock-echo', store: false, previous_response_id: warm.response.id, input: 'What is the code word?' });
    c.close();
    assert.equal(next.response?.status, 'completed', JSON.stringify(next.error));
    assert.equal(next.response.previous_response_id, warm.response.id);
    const sent = JSON.stringify(chatRequests().at(-1)!.body.messages);
    assert.match(sent, /Remember the code word: cobalt\./);
    assert.match(sent, /What is the code word\?/);
  });

  it('stores a store:true warm-up like any response (readable and continuable over HTTP)', async () => {
    const c = await Conn.open(server);
    const warm = await c.turn({ model: 'openai:mock-echo', generate: false, input: 'stored warm-up' });
    c.close();
    const got = await server.fetch(`/responses/${warm.response!.id}`);
    assert.equal(got.status, 200);
    const json = (await got.json()) as Msg;
    assert.equal(json.status, 'completed');
    assert.deepEqual(json.output, []);
    const next = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-echo', previous_response_id: warm.response!.id, input: 'and now?' }) });
    assert.equal(next.status, 200);
    assert.match(JSON.stringify(chatRequests().at(-1)!.body.messages), /stored warm-up/);
  });

  it('is checked like any turn: a bad request is an error event, `generate` must be a boolean', async () => {
    const c = await Conn.open(server);
    const bad = await c.turn({ model: 'openai:mock-echo', generate: false, input: 'x', temperature: 'hot' });
    assert.equal(bad.error?.status, 400);
    assert.equal(bad.error?.error.param, 'temperature');
    const wrong = await c.turn({ model: 'openai:mock-echo', generate: 'no', input: 'x' });
    assert.equal(wrong.error?.error.code, 'invalid_value');
    assert.equal(wrong.error?.error.param, 'generate');
    // generate: true is an ordinary turn.
    const ok = await c.turn({ model: 'openai:mock-echo', generate: true, store: false, input: 'hello there' });
    c.close();
    assert.equal(ok.response?.status, 'completed');
    assert.ok(ok.response.output.length > 0);
    // Over HTTP it is not a parameter.
    const http = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-echo', input: 'x', generate: false }) });
    assert.equal(http.status, 400);
    assert.equal(((await http.json()) as Msg).error.code, 'unknown_parameter');
  });
});

describe('connection limits', () => {
  it('closes a connection left idle (1000, "idle timeout"), but never during a turn', async () => {
    const c = await Conn.open(idling, KEY_A);
    // mock-slow streams for a second or more, longer than the idle timeout: the turn completes.
    const t = await c.turn({ model: 'openai:mock-slow', store: false, input: 'slow' });
    assert.equal(t.response?.status, 'completed', JSON.stringify(t.error));
    await waitFor(() => c.closed, 5000);
    assert.equal(c.closeCode, 1000);
    assert.equal(c.closeReason, 'idle timeout');
    assert.ok(!c.messages.some((m) => m.type === 'error'), 'no error message for an idle close');
  });

  it('counts any client message as activity', async () => {
    const c = await Conn.open(idling, KEY_A);
    // Messages that are not turns (each answered with an error event) every 100 ms, for 3 idle periods.
    const timer = setInterval(() => c.ws.send(JSON.stringify({ type: 'ping' })), 100);
    await new Promise((r) => setTimeout(r, 3 * IDLE_MS));
    clearInterval(timer);
    assert.equal(c.closed, false);
    await waitFor(() => c.closed, 5000);
    assert.equal(c.closeReason, 'idle timeout');
  });

  it('ends a connection at its age limit with websocket_connection_limit_reached, after the running turn', async () => {
    const c = await Conn.open(aging, KEY_A);
    // Back-to-back slow turns (a second or more each), so the deadline falls inside one.
    const completed: Array<{ response: Msg; at: number }> = [];
    for (;;) {
      const from = c.messages.length;
      c.ws.send(JSON.stringify({ type: 'response.create', model: 'openai:mock-slow', store: false, input: 'slow' }));
      const end = await c.next(from, (m) => m.type === 'error' || m.type === 'response.completed', 30_000);
      if (end.type === 'error') break;
      completed.push({ response: end.response, at: Date.now() });
      if (c.messages.at(-1)!.type === 'error') break;
    }
    await waitFor(() => c.closed, 5000);
    const last = c.messages.at(-1)!;
    assert.equal(last.type, 'error');
    assert.equal(last.status, 400);
    assert.equal(last.error.code, 'websocket_connection_limit_reached');
    assert.equal(last.error.type, 'invalid_request_error');
    assert.match(last.error.message, /connection limit reached .* Create a new websocket connection to continue\./);
    assert.equal(c.closeCode, 1000);
    // The turn running at the deadline was not cut: it completed after the deadline, then came the error.
    assert.ok(completed.length >= 1);
    assert.ok(completed.every((t) => t.response.status === 'completed'));
    assert.ok(completed.at(-1)!.at - c.openedAt >= MAX_MS, 'the last turn ended after the deadline');
  });

  it('ends an unused connection at its age too', async () => {
    const c = await Conn.open(aging, KEY_A);
    await waitFor(() => c.closed, MAX_MS + 5000);
    assert.deepEqual(c.messages.map((m) => m.error?.code), ['websocket_connection_limit_reached']);
    assert.equal(c.closeCode, 1000);
    assert.ok(c.closedAt! - c.openedAt >= MAX_MS - 50);
  });
});
