// Reasoning models end to end against the real server and the mock upstream, with the `openai` client:
// what reaches the upstream (only the settings the client sent, reasoning effort), reasoning items and
// their stream events from upstreams that stream `reasoning_content` or `reasoning`, encrypted reasoning
// sent back with store: false, and reasoning items in chains.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { startMcpServer, type TestMcpServer } from './support/mcp-server.js';
import { startMockUpstream, type MockUpstream, type ScriptSpec } from './support/mock-upstream.js';
import { openResponsesAvailable, validateComponent, validateResponseObject, validateStreamEvent } from './support/openresponses.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: MockUpstream;
let mcp: TestMcpServer;

before(async () => {
  [upstream, mcp] = await Promise.all([startMockUpstream(), startMcpServer()]);
  // mock-script takes its reasoning back (like gpt-oss); every other model of the upstream does not.
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, OPENAI_REASONING_INPUT: 'mock-script', MCP_ALLOW_PRIVATE: '1' } });
});
after(async () => {
  await server?.stop();
  await Promise.all([upstream?.close(), mcp?.close()]);
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

const script = (spec: ScriptSpec) => JSON.stringify({ ...spec, nonce: nonce++ });

/**
 * Every event validates against the Open Responses schema. It names OpenAI's reasoning_text events
 * `response.reasoning.delta/.done` (same fields); those are checked against its definitions.
 */
function conforms(events: any[]): void {
  if (!openResponsesAvailable) return;
  for (const ev of events) {
    const renamed = { 'response.reasoning_text.delta': 'response.reasoning.delta', 'response.reasoning_text.done': 'response.reasoning.done' }[ev.type as string];
    const errs = renamed
      ? validateComponent(renamed === 'response.reasoning.delta' ? 'ResponseReasoningDeltaStreamingEvent' : 'ResponseReasoningDoneStreamingEvent', { ...ev, type: renamed })
      : validateStreamEvent(ev);
    assert.deepEqual(errs, [], `${ev.type}: ${errs.join('; ')}`);
  }
}

function responseConforms(r: unknown): void {
  if (openResponsesAvailable) assert.deepEqual(validateResponseObject(r), []);
}

async function streamed(body: Record<string, unknown>, key?: string, endUser?: string): Promise<{ events: any[]; response: any }> {
  const stream = await server.client(key, endUser).responses.create({ ...body, stream: true } as any) as unknown as AsyncIterable<any>;
  const events: any[] = [];
  for await (const ev of stream) events.push(ev);
  const last = events.at(-1);
  assert.equal(last.type, 'response.completed', JSON.stringify(last));
  return { events, response: last.response };
}

/** The reasoning item's events in order, as a client sees them. */
function reasoningEvents(events: any[], outputIndex: number): string[] {
  return events.filter((e) => e.output_index === outputIndex).map((e) => e.type);
}

describe('reasoning from upstreams', () => {
  const THOUGHT = 'The user greets me. I should answer briefly and kindly.';

  for (const field of ['reasoning_content', 'reasoning'] as const) {
    it(`streamed \`${field}\` becomes a reasoning item before the message, with its events in order`, async () => {
      const { events, response } = await streamed({ model: 'openai:mock-script', input: script({ reasoning: { text: THOUGHT, field, tokens: 12 }, answer: 'hi' }) });
      conforms(events);
      responseConforms(response);
      assert.deepEqual(response.output.map((i: any) => i.type), ['reasoning', 'message']);
      const [rs, msg] = response.output;
      assert.match(rs.id, /^rs_/);
      assert.deepEqual(rs.content, [{ type: 'reasoning_text', text: THOUGHT }]);
      assert.deepEqual(rs.summary, []);
      assert.equal(rs.status, 'completed');
      assert.equal('encrypted_content' in rs, false);
      assert.equal(msg.content[0].text, 'hi: ');
      assert.equal(response.output_text, 'hi: ');
      assert.equal(response.usage.output_tokens_details.reasoning_tokens, 12);

      const seq = reasoningEvents(events, 0);
      const deltas = seq.filter((t) => t === 'response.reasoning_text.delta').length;
      assert.ok(deltas >= 5, `expected streamed deltas, got ${deltas}`);
      assert.deepEqual(seq, [
        'response.output_item.added', 'response.content_part.added',
        ...Array(deltas).fill('response.reasoning_text.delta'),
        'response.reasoning_text.done', 'response.content_part.done', 'response.output_item.done',
      ]);
      const added = events.find((e) => e.type === 'response.output_item.added' && e.output_index === 0);
      assert.deepEqual({ ...added.item, id: 'x' }, { id: 'x', type: 'reasoning', status: 'in_progress', summary: [], content: [] });
      assert.equal(events.filter((e) => e.type === 'response.reasoning_text.delta').map((e) => e.delta).join(''), THOUGHT);
      assert.equal(events.find((e) => e.type === 'response.reasoning_text.done').text, THOUGHT);
      // The message comes after the reasoning item is done.
      const doneAt = events.findIndex((e) => e.type === 'response.output_item.done' && e.output_index === 0);
      const msgAt = events.findIndex((e) => e.type === 'response.output_item.added' && e.output_index === 1);
      assert.ok(doneAt < msgAt);
      assert.equal(events.some((e) => e.type.startsWith('response.reasoning_summary')), false, 'no invented summary');

      // Retrieve (stored) shows the same item.
      const again = await server.client().responses.retrieve(response.id);
      assert.deepEqual(again.output[0], rs);
    });

    it(`a blocking request (non-streamed upstream reply) takes message.${field} too`, async () => {
      const input = script({ reasoning: { text: THOUGHT, field, tokens: 3 }, answer: 'ok' });
      const r = await server.client().responses.create({ model: 'openai:mock-script', input, store: false });
      assert.equal(upstreamBody(input).stream, undefined, 'the blocking path made a non-streamed call');
      responseConforms(r);
      assert.deepEqual(r.output.map((i) => i.type), ['reasoning', 'message']);
      assert.deepEqual((r.output[0] as any).content, [{ type: 'reasoning_text', text: THOUGHT }]);
      assert.equal(r.usage?.output_tokens_details.reasoning_tokens, 3);
    });
  }

  it('reasoning again between built-in tool calls, in the order produced; the model gets its reasoning back across the calls', async () => {
    const input = script({
      calls: [{ name: 'add', arguments: '{"a":2,"b":3}' }],
      reasoning: { text: 'I need to add two numbers.' },
      answerReasoning: { text: 'The tool said 5.' },
      answer: 'sum',
    });
    const tool = { type: 'mcp', server_label: 'calc', server_url: `${mcp.url}/mcp`, require_approval: 'never' };
    const { events, response } = await streamed({ model: 'openai:mock-script', input, tools: [tool] });
    // The schema knows function tools only: the reasoning events are what this test checks.
    conforms(events.filter((e) => e.type.includes('reasoning') || e.item?.type === 'reasoning' || e.part?.type === 'reasoning_text'));
    assert.deepEqual(response.output.map((i: any) => i.type), ['mcp_list_tools', 'reasoning', 'mcp_call', 'reasoning', 'message']);
    assert.equal(response.output[1].content[0].text, 'I need to add two numbers.');
    assert.equal(response.output[3].content[0].text, 'The tool said 5.');
    // The second upstream call carries the first turn's reasoning on the assistant message with the call.
    const calls = upstream.requests.filter((x) => JSON.stringify(x.body?.messages ?? []).includes(JSON.stringify(input)));
    assert.equal(calls.length, 2);
    const assistant = calls[1].body.messages.find((m: any) => m.role === 'assistant');
    assert.equal(assistant.reasoning_content, 'I need to add two numbers.');
    assert.equal(assistant.tool_calls.length, 1);
  });

  it('a summary from the provider becomes summary parts (and is not taken for reasoning text)', async () => {
    const { events, response } = await streamed({
      model: 'openai:mock-script', input: script({ reasoning: { summary: 'Greeting; answer briefly.' }, answer: 'hi' }), reasoning: { summary: 'auto' },
    });
    conforms(events);
    responseConforms(response);
    const rs = response.output[0];
    assert.equal(rs.type, 'reasoning');
    assert.deepEqual(rs.summary, [{ type: 'summary_text', text: 'Greeting; answer briefly.' }]);
    assert.deepEqual(rs.content, []);
    assert.deepEqual(response.reasoning, { effort: null, summary: 'auto' });
    const seq = reasoningEvents(events, 0).filter((t) => t !== 'response.reasoning_summary_text.delta');
    assert.deepEqual(seq, [
      'response.output_item.added', 'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.done', 'response.reasoning_summary_part.done', 'response.output_item.done',
    ]);
    assert.equal(events.some((e) => e.type === 'response.reasoning_text.delta'), false);
  });
});
