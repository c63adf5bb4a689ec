// WebSocket lanes (OpenAI's `stream_id` on response.create): lanes of one connection run side by side,
// turns of one lane FIFO, every message of a laned response (errors too) echoes its stream_id and no other
// message has one; previous_response_id forks across lanes from the shared connection cache; the lane cap
// and a bad stream_id are error events; over HTTP stream_id stays an unknown parameter. Real `ws` client,
// mock upstream; messages checked against the Open Responses schema by Conn.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { startServer, type TestServer } from './support/server.js';
import { Conn, type Msg } from './support/ws-conn.js';

let upstream: MockUpstream;
let server: TestServer;
/** Connections that live 1.5 s and are closed after 0.4 s unused. */
let aging: TestServer;

const TERMINAL = /^response\.(completed|failed|incomplete|cancelled)$/;
const send = (c: Conn, body: Msg) => c.ws.send(JSON.stringify({ type: 'response.create', ...body }));
/** The `n`th (0-based) terminal event or error of lane `id` from message `from` on. */
async function endOf(c: Conn, from: number, id: string | undefined, n = 0): Promise<Msg> {
  const isEnd = (m: Msg) => m.stream_id === id && (m.type === 'error' || TERMINAL.test(m.type));
  return c.next(from, (m) => isEnd(m) && c.messages.slice(from).filter(isEnd).indexOf(m) === n, 20_000);
}
const indexOf = (c: Conn, m: Msg) => c.messages.indexOf(m);

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, RATE_LIMIT_REQUESTS: '100000', WS_MAX_LANES: '2' } });
  aging = await startServer({ env: { OPENAI_BASE_URL: upstream.url, WS_MAX_CONNECTION_MS: '1500', WS_IDLE_TIMEOUT_MS: '400' } });
});
after(async () => {
  await Promise.all([server?.stop(), aging?.stop()]);
  await upstream?.close();
});

describe('WebSocket lanes (stream_id)', () => {
  it('runs two lanes side by side: both make progress before either ends, every message echoes its lane', async () => {
    const c = await Conn.open(server);
    const from = c.messages.length;
    send(c, { stream_id: 'a', model: 'openai:mock-slow', store: false, input: 'lane a' });
    send(c, { stream_id: 'b', model: 'openai:mock-slow', store: false, input: 'lane b' });
    const [ea, eb] = [await endOf(c, from, 'a'), await endOf(c, from, 'b')];
    c.close();
    assert.equal(ea.type, 'response.completed', JSON.stringify(ea));
    assert.equal(eb.type, 'response.completed', JSON.stringify(eb));
    const msgs = c.messages.slice(from);
    const deltas = (id: string) => msgs.map((m, i) => (m.stream_id === id && m.type === 'response.output_text.delta' ? i : -1)).filter((i) => i >= 0);
    const [da, db] = [deltas('a'), deltas('b')];
    assert.ok(da.length > 2 && db.length > 2);
    // Interleaved: each lane's deltas began before the other lane's last one.
    assert.ok(da[0] < db.at(-1)! && db[0] < da.at(-1)!, `a ${da.join(',')} / b ${db.join(',')}`);
    assert.ok(msgs.every((m) => m.stream_id === 'a' || m.stream_id === 'b'), 'every message carries its lane');
    for (const id of ['a', 'b']) {
      const lane = msgs.filter((m) => m.stream_id === id);
      assert.deepEqual(lane.map((m) => m.sequence_number), lane.map((_, i) => i), `lane ${id} numbered from 0`);
      assert.equal(new Set(lane.filter((m) => m.response).map((m) => m.response.id)).size, 1);
    }
  });

  it('runs the turns of one lane FIFO (queued, not refused), and unlaned events stay without stream_id', async () => {
    const c = await Conn.open(server);
    const from = c.messages.length;
    send(c, { stream_id: 'q', model: 'openai:mock-slow', store: false, input: 'first' });
    send(c, { stream_id: 'q', model: 'openai:mock-echo', store: false, input: 'Reply with exactly: second' });
    const first = await endOf(c, from, 'q', 0);
    const second = await endOf(c, from, 'q', 1);
    assert.equal(first.type, 'response.completed', JSON.stringify(first));
    assert.equal(second.type, 'response.completed', JSON.stringify(second));
    const created2 = c.messages.find((m, i) => i > from && m.type === 'response.created' && m.response.id === second.response.id)!;
    assert.ok(indexOf(c, created2) > indexOf(c, first), 'the second turn started after the first ended');
    assert.match(JSON.stringify(second.response.output), /second/);
    // The default lane: no stream_id on any of its messages.
    const at = c.messages.length;
    const t = await c.turn({ model: 'openai:mock-text', store: false, input: 'plain' });
    c.close();
    assert.equal(t.response?.status, 'completed');
    assert.ok(c.messages.slice(at).every((m) => !('stream_id' in m)));
  });

  it('forks across lanes: previous_response_id names a store:false response of another lane', async () => {
    const c = await Conn.open(server);
    const from = c.messages.length;
    send(c, { stream_id: 'main', model: 'openai:mock-echo', store: false, input: 'Remember the code word: cobalt.' });
    const a = await endOf(c, from, 'main');
    assert.equal(a.type, 'response.completed');
    const at = c.messages.length;
    const seen = upstream.requests.length;
    send(c, { stream_id: 'side', model: 'openai:mock-echo', store: false, previous_response_id: a.response.id, input: 'What is the code word?' });
    const b = await endOf(c, at, 'side');
    assert.equal(b.type, 'response.completed', JSON.stringify(b));
    assert.equal(b.response.previous_response_id, a.response.id);
    assert.match(JSON.stringify(upstream.requests.slice(seen).at(-1)!.body.messages), /cobalt/);
    // The original lane still continues from its own tip.
    const at2 = c.messages.length;
    send(c, { stream_id: 'main', model: 'openai:mock-echo', store: false, previous_response_id: a.response.id, input: 'again' });
    const a2 = await endOf(c, at2, 'main');
    c.close();
    assert.equal(a2.type, 'response.completed', JSON.stringify(a2));
  });

  it('a failed continuation on one lane evicts the cached response for every lane', async () => {
    const c = await Conn.open(server);
    const from = c.messages.length;
    send(c, { stream_id: 'x', model: 'openai:mock-text', store: false, input: 'one' });
    const a = await endOf(c, from, 'x');
    let at = c.messages.length;
    send(c, { stream_id: 'y', model: 'openai:mock-error-500', store: false, previous_response_id: a.response.id, input: 'two' });
    assert.equal((await endOf(c, at, 'y')).response.status, 'failed');
    at = c.messages.length;
    send(c, { stream_id: 'x', model: 'openai:mock-text', store: false, previous_response_id: a.response.id, input: 'three' });
    const miss = await endOf(c, at, 'x');
    c.close();
    assert.equal(miss.type, 'error');
    assert.equal(miss.error.code, 'previous_response_not_found');
    assert.equal(miss.stream_id, 'x', 'an error of a laned request carries its lane');
  });

  it('refuses a lane past WS_MAX_LANES with an error event on that lane', async () => {
    const c = await Conn.open(server);
    const from = c.messages.length;
    send(c, { stream_id: 'l1', model: 'openai:mock-slow', store: false, input: 'hold' });
    send(c, { stream_id: 'l2', model: 'openai:mock-slow', store: false, input: 'hold' });
    send(c, { stream_id: 'l3', model: 'openai:mock-text', store: false, input: 'too many' });
    const refused = await endOf(c, from, 'l3');
    assert.equal(refused.type, 'error');
    assert.equal(refused.status, 429);
    assert.equal(refused.error.code, 'websocket_lane_limit_reached');
    assert.equal(refused.error.param, 'stream_id');
    // The default lane is a lane too; queuing on a running lane is not a new lane.
    send(c, { model: 'openai:mock-text', store: false, input: 'default' });
    const dflt = await endOf(c, from, undefined);
    assert.equal(dflt.error?.code, 'websocket_lane_limit_reached');
    send(c, { stream_id: 'l1', model: 'openai:mock-text', store: false, input: 'queued' });
    assert.equal((await endOf(c, from, 'l1', 1)).type, 'response.completed');
    await endOf(c, from, 'l2');
    // Once lanes end, a new one runs.
    const at = c.messages.length;
    send(c, { stream_id: 'l3', model: 'openai:mock-text', store: false, input: 'now' });
    const ok = await endOf(c, at, 'l3');
    c.close();
    assert.equal(ok.type, 'response.completed', JSON.stringify(ok));
  });

  it('answers a bad stream_id with an error naming the param, and keeps the connection usable', async () => {
    const c = await Conn.open(server);
    for (const bad of [42, '', 'x'.repeat(65), null]) {
      const t = await c.turn({ stream_id: bad, model: 'openai:mock-text', store: false, input: 'x' });
      assert.equal(t.error?.status, 400, JSON.stringify(bad));
      assert.equal(t.error?.error.code, 'invalid_value');
      assert.equal(t.error?.error.param, 'stream_id');
      assert.ok(!('stream_id' in t.error!), 'an invalid stream_id is not echoed');
    }
    const from = c.messages.length;
    send(c, { stream_id: 'x'.repeat(64), model: 'openai:mock-text', store: false, input: 'ok' });
    const ok = await endOf(c, from, 'x'.repeat(64));
    c.close();
    assert.equal(ok.type, 'response.completed');
  });

  it('keeps stream_id an unknown parameter over HTTP POST /responses', async () => {
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x', stream_id: 'a' }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as Msg;
    assert.equal(body.error.code, 'unknown_parameter');
    assert.equal(body.error.param, 'stream_id');
  });

  it('keeps the connection limits with several lanes: no idle close while lanes run, age limit after the running ones', async () => {
    const c = await Conn.open(aging);
    // Lane a: three slow turns in a row (a second or more each); lane b: one. The 1.5 s deadline falls
    // inside a's second turn; the 0.4 s idle timeout never fires while a lane has work.
    for (const input of ['1', '2', '3']) send(c, { stream_id: 'a', model: 'openai:mock-slow', store: false, input });
    send(c, { stream_id: 'b', model: 'openai:mock-slow', store: false, input: 'b' });
    while (!c.closed) await c.next(c.messages.length, () => false, 30_000).catch(() => {});
    assert.equal(c.closeCode, 1000);
    assert.equal(c.closeReason, 'connection limit reached');
    const last = c.messages.at(-1)!;
    assert.equal(last.error?.code, 'websocket_connection_limit_reached');
    assert.ok(!('stream_id' in last), 'the connection-level error has no lane');
    // Every response that started ran to completion, the closing error came after all of them.
    const created = c.messages.filter((m) => m.type === 'response.created').map((m) => m.response.id);
    const done = c.messages.filter((m) => m.type === 'response.completed').map((m) => m.response.id);
    assert.ok(created.length >= 2);
    assert.deepEqual([...done].sort(), [...created].sort());
    assert.ok(c.closedAt! - c.openedAt >= 1500);
    // A turn still waiting on lane a at the deadline is refused on its lane.
    const refused = c.messages.filter((m) => m.type === 'error' && m.stream_id === 'a');
    assert.ok(refused.every((m) => m.error.code === 'websocket_connection_limit_reached'));
    assert.equal(created.length + refused.length, 4, 'each request got a response or an error');
  });
});
