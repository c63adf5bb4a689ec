// Reasoning models end to end against the real server and the mock upstream, with the `openai` client:
// what reaches the upstream (only the settings the client sent, reasoning effort), reasoning items and
// their stream events from upstreams that stream `reasoning_content` or `reasoning`, encrypted reasoning
// sent back with store: false, and reasoning items in chains.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: MockUpstream;

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

let nonce = 0;
/** A unique input, so the upstream request of one response can be found among all recorded. */
const unique = (text = 'hello') => `${text} #${process.pid}-${nonce++}`;
/** The recorded upstream body whose last user message is `input`. */
function upstreamBody(input: string): any {
  const r = upstream.requests.find((x) => JSON.stringify(x.body?.messages ?? []).includes(JSON.stringify(input)));
  assert.ok(r, `no upstream request for ${input}`);
  return r.body;
}

/** Polls a background response until it has finished; returns it. */
async function settled(id: string, key?: string): Promise<any> {
  const client = server.client(key);
  for (let i = 0; i < 500; i++) {
    const r = await client.responses.retrieve(id);
    if (r.status !== 'queued' && r.status !== 'in_progress') return r;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`${id} did not finish`);
}

describe('only what the client sent reaches the upstream', () => {
  const SAMPLING_KEYS = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'parallel_tool_calls', 'reasoning_effort'];

  it('nothing sent: no sampling settings upstream, defaults in the echoed Response (blocking and streamed)', async () => {
    const client = server.client();
    const input = unique();
    const r = await client.responses.create({ model: 'openai:mock-text', input });
    const body = upstreamBody(input);
    for (const k of SAMPLING_KEYS) assert.equal(k in body, false, `${k} was sent: ${JSON.stringify(body)}`);
    assert.equal(r.temperature, 1);
    assert.equal(r.top_p, 1);
    assert.deepEqual(r.reasoning, { effort: null, summary: null });

    const input2 = unique();
    const stream = await client.responses.create({ model: 'openai:mock-text', input: input2, stream: true });
    let completed: any;
    for await (const ev of stream) if (ev.type === 'response.completed') completed = ev.response;
    for (const k of SAMPLING_KEYS) assert.equal(k in upstreamBody(input2), false, k);
    assert.equal(completed.temperature, 1);
    assert.equal(completed.top_p, 1);
  });

  it("the client's values are forwarded as sent, reasoning.effort as reasoning_effort", async () => {
    const client = server.client();
    const input = unique();
    // presence/frequency_penalty are accepted by the server but not typed by the client: passed as extra body.
    const r = await client.responses.create({
      model: 'openai:mock-text', input, temperature: 0.3, top_p: 0.5, reasoning: { effort: 'high', summary: 'auto' },
      ...{ presence_penalty: 0, frequency_penalty: 0.25 },
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const body = upstreamBody(input);
    assert.equal(body.temperature, 0.3);
    assert.equal(body.top_p, 0.5);
    assert.equal(body.presence_penalty, 0); // sent, so forwarded even though it is the default
    assert.equal(body.frequency_penalty, 0.25);
    assert.equal(body.reasoning_effort, 'high');
    assert.equal('reasoning' in body, false);
    assert.equal(r.temperature, 0.3);
    assert.equal(r.top_p, 0.5);
    assert.deepEqual(r.reasoning, { effort: 'high', summary: 'auto' });
  });

  it('a background job forwards what its client sent (stored with the job), and only that', async () => {
    const client = server.client();
    const sent = unique();
    const bare = unique();
    const a = await client.responses.create({ model: 'openai:mock-text', input: sent, background: true, temperature: 0, reasoning: { effort: 'minimal' } });
    const b = await client.responses.create({ model: 'openai:mock-text', input: bare, background: true });
    for (const id of [a.id, b.id]) await settled(id);
    const body = upstreamBody(sent);
    assert.equal(body.temperature, 0);
    assert.equal(body.reasoning_effort, 'minimal');
    assert.equal('top_p' in body, false);
    for (const k of SAMPLING_KEYS) assert.equal(k in upstreamBody(bare), false, k);
  });

  it('parallel_tool_calls goes upstream only when the client set it', async () => {
    const client = server.client();
    const tool = { type: 'function' as const, name: 'get_weather', strict: false, parameters: { type: 'object', properties: {} } };
    const a = unique();
    const b = unique();
    await client.responses.create({ model: 'openai:mock-text', input: a, tools: [tool] });
    await client.responses.create({ model: 'openai:mock-text', input: b, tools: [tool], parallel_tool_calls: false });
    assert.equal('parallel_tool_calls' in upstreamBody(a), false);
    assert.equal(upstreamBody(b).parallel_tool_calls, false);
  });
});
