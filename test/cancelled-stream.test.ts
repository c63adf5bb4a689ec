// A cancelled background response's stream ends with an event the SDKs' stream helpers take as final:
// `response.completed` carrying the response with status "cancelled" (OpenAI defines no cancellation
// stream event). Driven with the `openai` client's helpers, and raw SSE for the wire form.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { startMockUpstream } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  // mock-long: 200 chunks 50 ms apart, so a cancel sent at the first delta always lands mid-reply.
  upstream = await startMockUpstream({ models: ['mock-slow', 'mock-long'], scenario: { kind: 'text', chunks: 200, delayMs: 50 } });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

type HelperStream = ReturnType<OpenAI['responses']['stream']>;

/** Reads a helper stream to its end, cancelling the response at its first text delta. */
async function cancelAtFirstDelta(c: OpenAI, stream: HelperStream): Promise<string[]> {
  const types: string[] = [];
  let id: string | undefined;
  let cancel: Promise<unknown> | undefined;
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === 'response.created') id = ev.response.id;
    if (ev.type === 'response.output_text.delta' && !cancel) cancel = c.responses.cancel(id!);
  }
  assert.ok(cancel, `no text delta before the end: ${types.join(' ')}`);
  assert.equal(((await cancel) as { status: string }).status, 'cancelled');
  return types;
}

describe('cancelled stream terminal event', () => {
  it("client.responses.stream() of a background response reaches the final response, status cancelled", async () => {
    const c = server.client();
    const stream = c.responses.stream({ model: 'openai:mock-long', input: 'go', background: true });
    const types = await cancelAtFirstDelta(c, stream);
    const final = await stream.finalResponse();
    assert.equal(final.status, 'cancelled');
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(types.filter((t) => t === 'response.output_text.delta').length < 200, 'generation stopped');
  });

  it('the retrieve helper (stream({ response_id })) reaches it too', async () => {
    const c = server.client();
    const bg = await c.responses.create({ model: 'openai:mock-long', input: 'go', background: true });
    const stream = c.responses.stream({ response_id: bg.id });
    await cancelAtFirstDelta(c, stream);
    const final = await stream.finalResponse();
    assert.equal(final.id, bg.id);
    assert.equal(final.status, 'cancelled');
  });

  it('on the wire: event response.completed with the cancelled snapshot, also on replay', async () => {
    const c = server.client();
    const bg = await c.responses.create({ model: 'openai:mock-slow', input: 'go', background: true });
    const live = server.fetch(`/responses/${bg.id}?stream=true&starting_after=-1`).then((res) => readSse(res));
    await new Promise((r) => setTimeout(r, 150));
    await c.responses.cancel(bg.id);
    for (const events of [await live, await readSse(await server.fetch(`/responses/${bg.id}?stream=true&starting_after=-1`))]) {
      const last = events.at(-1)!;
      assert.equal(last.event, 'response.completed');
      assert.equal(last.data.type, 'response.completed');
      assert.equal(last.data.response.status, 'cancelled');
      assert.equal(events.filter((e) => e.data.type === 'response.completed').length, 1);
    }
  });
});
