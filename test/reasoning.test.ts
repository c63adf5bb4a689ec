// Reasoning models end to end against the real server and the mock upstream, with the `openai` client:
// what reaches the upstream (only the settings the client sent, reasoning effort), reasoning items and
// their stream events from upstreams that stream `reasoning_content` or `reasoning`, encrypted reasoning
// sent back with store: false, and reasoning items in chains.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { startMcpServer, type TestMcpServer } from './support/mcp-server.js';
import { startMockUpstream, type MockUpstream, type ScriptSpec } from './support/mock-upstream.js';
import { openResponsesAvailable, validateComponent, validateResponseObject, validateStreamEvent } from './support/openresponses.js';
import { KEY_B, startServer, type TestServer } from './support/server.js';

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

  it("the client's stream helper (responses.stream) accumulates the reasoning item", async () => {
    const stream = server.client().responses.stream({ model: 'openai:mock-script', input: script({ reasoning: { text: THOUGHT }, answer: 'hey' }) });
    const final = await stream.finalResponse();
    assert.deepEqual((final.output[0] as any).content, [{ type: 'reasoning_text', text: THOUGHT }]);
    assert.equal(final.output_text, 'hey: ');
  });

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

/** Every byte of every file under `dir` (the SQLite database, its WAL, the key file…). */
function filesContain(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile() && readFileSync(path).includes(needle)) hits.push(name);
  }
  return hits;
}

const WEATHER_TOOL = { type: 'function' as const, name: 'get_weather', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } } } };

describe('encrypted reasoning', () => {
  /** Turn 1 with store: false: reasoning, then a function call the client runs. */
  async function firstTurn(thought: string, key?: string, endUser?: string) {
    const input = script({ calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }], reasoning: { text: thought }, answer: 'weather' });
    const { events, response } = await streamed({
      model: 'openai:mock-script', input, tools: [WEATHER_TOOL], store: false, include: ['reasoning.encrypted_content'],
    }, key, endUser);
    return { input, events, response };
  }
  /** Turn 2 as a store:false client sends it: the whole context again, reasoning item included. */
  const secondTurn = (input: string, reasoning: Record<string, unknown>, call: any) => ({
    model: 'openai:mock-script', store: false, include: ['reasoning.encrypted_content'], tools: [WEATHER_TOOL],
    input: [
      { role: 'user', content: input },
      reasoning,
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: '18°C and sunny' },
    ],
  });

  it('with the include, each reasoning item carries encrypted_content; sent back with store: false the upstream receives the reasoning', async () => {
    const thought = `Paris weather needs a tool call ${randomBytes(6).toString('hex')}.`;
    const { input, events, response } = await firstTurn(thought);
    conforms(events);
    const [rs, call] = response.output;
    assert.equal(rs.type, 'reasoning');
    assert.equal(call.type, 'function_call');
    assert.equal(typeof rs.encrypted_content, 'string');
    assert.ok(!rs.encrypted_content.includes(thought) && !Buffer.from(rs.encrypted_content, 'base64').includes(thought), 'the blob does not show the text');
    const done = events.find((e) => e.type === 'response.output_item.done' && e.item.type === 'reasoning');
    assert.equal(done.item.encrypted_content, rs.encrypted_content, 'the streamed item carries it too');
    // Sealed twice, the same text gives different blobs (a fresh nonce each time).
    const again = await firstTurn(thought);
    assert.notEqual(again.response.output[0].encrypted_content, rs.encrypted_content);

    // Only the sealed text comes back (no content): what the upstream gets must come from the blob.
    const turn2 = await server.client().responses.create(secondTurn(input, { type: 'reasoning', id: rs.id, summary: [], encrypted_content: rs.encrypted_content }, call) as any);
    assert.equal(turn2.status, 'completed');
    assert.equal(turn2.output_text, 'weather: 18°C and sunny');
    const sent = upstream.requests.filter((x) => JSON.stringify(x.body?.messages ?? []).includes('18°C and sunny')).at(-1)!.body;
    const assistant = sent.messages.find((m: any) => m.role === 'assistant');
    assert.equal(assistant.reasoning_content, thought);
    assert.equal(assistant.tool_calls[0].function.name, 'get_weather');

    // store: false throughout: neither the text nor the blob was written anywhere, nor logged.
    assert.deepEqual(filesContain(server.dataDir, thought), []);
    assert.deepEqual(filesContain(server.dataDir, rs.encrypted_content.slice(0, 40)), []);
    assert.equal(server.logs.some((l) => l.includes(thought) || l.includes(rs.encrypted_content.slice(0, 40))), false);
  });

  it('a model that does not take reasoning back gets none (the blob is still checked)', async () => {
    const thought = `private thought ${randomBytes(6).toString('hex')}`;
    const { response } = await firstTurn(thought);
    const input = unique('echo me');
    const r = await server.client().responses.create({
      model: 'openai:mock-echo', store: false,
      input: [{ role: 'user', content: 'q' }, { type: 'reasoning', summary: [], encrypted_content: response.output[0].encrypted_content }, { role: 'assistant', content: 'a' }, { role: 'user', content: input }],
    } as any);
    assert.equal(r.status, 'completed');
    const body = upstreamBody(input);
    assert.equal(JSON.stringify(body).includes(thought), false);
    assert.equal(body.messages.find((m: any) => m.role === 'assistant').reasoning_content, undefined);
  });

  it('a tampered, truncated, foreign or garbage blob is a 400 naming the input item, never a 500', async () => {
    const { input, response } = await firstTurn('Think before calling.', undefined, 'alice');
    const [rs, call] = response.output;
    const blob: string = rs.encrypted_content;
    const raw = Buffer.from(blob, 'base64');
    const flipped = Buffer.from(raw);
    flipped[flipped.length - 20] ^= 1;
    const cases: Array<[string, string, string | undefined, string | undefined]> = [
      ['tampered', flipped.toString('base64'), undefined, 'alice'],
      ['truncated', raw.subarray(0, raw.length - 5).toString('base64'), undefined, 'alice'],
      ['cut to its header', raw.subarray(0, 8).toString('base64'), undefined, 'alice'],
      ['another tenant', blob, KEY_B, 'alice'],
      ['another end user', blob, undefined, 'bob'],
      ['no end user', blob, undefined, undefined],
      ['garbage', 'not a blob at all', undefined, 'alice'],
      ['empty', '', undefined, 'alice'],
    ];
    for (const [what, encrypted, key, endUser] of cases) {
      const res = await server.fetch('/responses', {
        method: 'POST', key, endUser,
        body: JSON.stringify(secondTurn(input, { type: 'reasoning', summary: [], encrypted_content: encrypted }, call)),
      });
      const body = await res.json() as any;
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.error.param, 'input[1].encrypted_content', what);
      assert.equal(body.error.code, 'invalid_encrypted_content', what);
      assert.equal(body.error.type, 'invalid_request_error', what);
    }
    // The genuine blob, for the user it was sealed for, opens.
    const ok = await server.client(undefined, 'alice').responses.create(secondTurn(input, { type: 'reasoning', summary: [], encrypted_content: blob }, call) as any);
    assert.equal(ok.status, 'completed');
    // A malformed item is a 400 too.
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify(secondTurn(input, { type: 'reasoning', summary: [], encrypted_content: 42 }, call)) });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error.param, 'input[1].encrypted_content');
  });

  it("Codex's request: store false, the include, reasoning sent back without ids; the reasoning reaches the model on every turn", async () => {
    // The body codex-rs sends (ResponsesApiRequest; ResponseItem serialisation: no ids, content null or
    // reasoning_text parts, encrypted_content), to a model that takes reasoning back.
    const task = script({ calls: [{ name: 'shell', arguments: '{"command":["ls"]}' }], reasoning: { text: 'List the files first.' }, answerReasoning: { text: 'Two files; say so.' }, answer: 'done' });
    const shell = { type: 'function', name: 'shell', description: 'Runs a shell command.', strict: false, parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } }, required: ['command'], additionalProperties: false } };
    const base = {
      model: 'openai:mock-script', instructions: 'You are a coding agent.', tools: [shell], tool_choice: 'auto', parallel_tool_calls: false,
      reasoning: { effort: 'medium', summary: 'auto' }, store: false, stream: true, include: ['reasoning.encrypted_content'], prompt_cache_key: 'c0dex-session',
    };
    const user = { type: 'message', role: 'user', content: [{ type: 'input_text', text: task }] };
    const turn = async (input: unknown[]) => {
      const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ ...base, input }) });
      assert.equal(res.status, 200);
      const evs = (await readSseEvents(res)).filter((e) => e.type === 'response.output_item.done').map((e) => e.item);
      return evs;
    };
    const codexItem = (it: any) => {
      if (it.type === 'reasoning') return { type: 'reasoning', summary: it.summary, content: it.content?.length ? it.content : null, encrypted_content: it.encrypted_content ?? null };
      if (it.type === 'function_call') return { type: 'function_call', name: it.name, arguments: it.arguments, call_id: it.call_id };
      return { type: 'message', role: it.role, content: it.content.map((p: any) => ({ type: 'output_text', text: p.text })) };
    };
    const first = await turn([user]);
    assert.deepEqual(first.map((i) => i.type), ['reasoning', 'function_call']);
    assert.equal(typeof first[0].encrypted_content, 'string');
    const history = [user, ...first.map(codexItem), { type: 'function_call_output', call_id: first[1].call_id, output: 'a.txt\nb.txt' }];
    const second = await turn(history);
    assert.deepEqual(second.map((i) => i.type), ['reasoning', 'message']);
    // Turn 3: a new user message after the whole history; both earlier reasonings go back.
    const third = await turn([...history, ...second.map(codexItem), { type: 'message', role: 'user', content: [{ type: 'input_text', text: task }] }]);
    assert.ok(third.length >= 1);
    const calls = upstream.requests.filter((x) => JSON.stringify(x.body?.messages ?? []).includes(JSON.stringify(task)));
    assert.equal(calls.length, 3);
    assert.equal(calls[0].body.reasoning_effort, 'medium');
    assert.equal('temperature' in calls[0].body, false);
    const assistants = (i: number) => calls[i].body.messages.filter((m: any) => m.role === 'assistant');
    assert.deepEqual(assistants(1).map((m: any) => m.reasoning_content), ['List the files first.']);
    assert.deepEqual(assistants(2).map((m: any) => m.reasoning_content), ['List the files first.', 'Two files; say so.']);
  });

  it('keys: another instance with the same key (in REASONING_KEYS, after a new one) opens the blobs; the new key seals, and an instance without it refuses them', async () => {
    // The running server generated its key into its data folder (0600); a second instance is given it
    // as an old key behind a new one, as during a rotation (or a scale-out deployment sharing keys).
    const file = join(server.dataDir, 'reasoning-keys.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const old = JSON.parse(readFileSync(file, 'utf8')).keys[0];
    const other = await startServer({ env: {
      OPENAI_BASE_URL: upstream.url, OPENAI_REASONING_INPUT: 'true', REASONING_KEYS: `new:${randomBytes(32).toString('base64')},${old.id}:${old.key}`,
    } });
    try {
      const turn = async (s: TestServer, blob?: string) => {
        const input = script({ reasoning: { text: 'rotating thoughts' }, answer: 'k' });
        const body: any = { model: 'openai:mock-script', store: false, include: ['reasoning.encrypted_content'], input: [{ role: 'user', content: input }] };
        if (blob) body.input.push({ type: 'reasoning', summary: [], encrypted_content: blob }, { role: 'assistant', content: 'earlier' }, { role: 'user', content: input });
        const res = await s.fetch('/responses', { method: 'POST', body: JSON.stringify(body) });
        return { status: res.status, body: await res.json() as any };
      };
      const sealedHere = (await turn(server)).body.output[0].encrypted_content;
      assert.equal((await turn(other, sealedHere)).status, 200, "the old key opens the first instance's blob");
      const sealedThere = (await turn(other)).body.output[0].encrypted_content;
      assert.equal(Buffer.from(sealedThere, 'base64').subarray(2, 5).toString(), 'new', 'the first key seals');
      const refused = await turn(server, sealedThere);
      assert.equal(refused.status, 400, 'an instance without the new key');
      assert.equal(refused.body.error.code, 'invalid_encrypted_content');
    } finally {
      await other.stop();
    }
  });
});

describe('reasoning in chains', () => {
  const upstreamCallsWith = (text: string) => upstream.requests.filter((x) => JSON.stringify(x.body?.messages ?? []).includes(JSON.stringify(text).slice(1, -1)));
  const assistantReasoning = (body: any) => body.messages.filter((m: any) => m.role === 'assistant').map((m: any) => m.reasoning_content);

  it('previous_response_id: stored reasoning goes back to a model that takes it, not to one that does not', async () => {
    const client = server.client();
    const input = script({ calls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }], reasoning: { text: 'Oslo needs the tool.' }, answerReasoning: { text: 'Now answer.' }, answer: 'w' });
    const r1 = await client.responses.create({ model: 'openai:mock-script', input, tools: [WEATHER_TOOL] });
    assert.deepEqual(r1.output.map((i) => i.type), ['reasoning', 'function_call']);
    const call = r1.output[1] as any;
    const r2 = await client.responses.create({
      model: 'openai:mock-script', previous_response_id: r1.id, tools: [WEATHER_TOOL],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'cold' }],
    });
    assert.deepEqual(r2.output.map((i) => i.type), ['reasoning', 'message']);
    assert.equal((r2.output[0] as any).content[0].text, 'Now answer.');
    assert.deepEqual(assistantReasoning(upstreamCallsWith(input).at(-1)!.body), ['Oslo needs the tool.']);
    // The same chain continued on a model that does not take reasoning back.
    const echo = unique('echo');
    await client.responses.create({ model: 'openai:mock-echo', previous_response_id: r2.id, input: echo });
    assert.equal(JSON.stringify(upstreamBody(echo)).includes('reasoning_content'), false);
    // Retrieve and the chain's input items show the reasoning item like any other item.
    assert.deepEqual((await client.responses.retrieve(r1.id)).output[0], r1.output[0]);
    const items = await client.responses.inputItems.list(r2.id);
    assert.deepEqual(items.data.map((i) => i.type), ['function_call_output']);
  });

  it('a blob sent back with store: true is stored as sent (never its text) and is opened again for the next turn of the chain', async () => {
    const thought = `kept sealed ${randomBytes(6).toString('hex')}`;
    const first = await streamed({
      model: 'openai:mock-script', input: script({ calls: [{ name: 'get_weather', arguments: '{}' }], reasoning: { text: thought } }),
      tools: [WEATHER_TOOL], store: false, include: ['reasoning.encrypted_content'],
    });
    const [rs, call] = first.response.output;
    const input = script({ answerReasoning: { text: 'fine' }, answer: 'stored' });
    const client = server.client();
    const sentItem = { type: 'reasoning', id: rs.id, summary: [], encrypted_content: rs.encrypted_content };
    const r1 = await client.responses.create({
      model: 'openai:mock-script', tools: [WEATHER_TOOL],
      input: [{ role: 'user', content: input }, sentItem, { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments }, { type: 'function_call_output', call_id: call.call_id, output: 'ok' }],
    } as any);
    assert.equal(r1.status, 'completed');
    const listed = (await client.responses.inputItems.list(r1.id)).data as any[];
    assert.deepEqual(listed.find((i) => i.type === 'reasoning'), sentItem);
    const r2 = await client.responses.create({ model: 'openai:mock-script', previous_response_id: r1.id, input });
    assert.equal(r2.status, 'completed');
    const sent = upstreamCallsWith(input).at(-1)!.body;
    assert.deepEqual(assistantReasoning(sent), [thought, 'fine']);
    await client.responses.retrieve(r2.id); // finished and committed
    assert.deepEqual(filesContain(server.dataDir, thought), []);
  });

  it('conversations keep reasoning items and give them back; /responses/compact takes them like any item', async () => {
    const client = server.client();
    const conv = await client.conversations.create({});
    const input = script({ reasoning: { text: 'Think in the conversation.' }, answer: 'c' });
    const r1 = await client.responses.create({ model: 'openai:mock-script', conversation: conv.id, input });
    assert.deepEqual(r1.output.map((i) => i.type), ['reasoning', 'message']);
    const items: any[] = [];
    for await (const it of client.conversations.items.list(conv.id, { order: 'asc' })) items.push(it);
    assert.deepEqual(items.map((i) => i.type), ['message', 'reasoning', 'message']);
    const { response_id: from, ...stored } = items[1];
    assert.equal(from, r1.id);
    assert.deepEqual(stored, r1.output[0]);
    await client.responses.create({ model: 'openai:mock-script', conversation: conv.id, input });
    assert.deepEqual(assistantReasoning(upstreamCallsWith(input).at(-1)!.body), ['Think in the conversation.']);

    const before = upstream.requests.length;
    const c = await client.responses.compact({ model: 'openai:mock-script', previous_response_id: r1.id } as any);
    assert.equal(c.object, 'response.compaction');
    const summaryCall = upstream.requests.slice(before).find((x) => x.path === '/v1/chat/completions')!.body;
    assert.deepEqual(assistantReasoning(summaryCall), ['Think in the conversation.']);
    // A bad blob in compact's input is the same 400.
    const res = await server.fetch('/responses/compact', {
      method: 'POST',
      body: JSON.stringify({ model: 'openai:mock-script', input: [{ role: 'user', content: 'x' }, { type: 'reasoning', summary: [], encrypted_content: 'AQ==' }] }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error.param, 'input[1].encrypted_content');
  });
});

/** Parsed `data:` of each SSE event (raw framing). */
async function readSseEvents(res: Response): Promise<any[]> {
  const text = await res.text();
  return text.split('\n\n').map((b) => b.split('\n').find((l) => l.startsWith('data: '))).filter(Boolean).map((l) => JSON.parse(l!.slice(6)));
}
