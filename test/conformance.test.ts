// Every JSON body and every stream event type respd emits validates against the Open Responses schema
// (../shared/reference/openresponses-openapi.json), skipped with a printed reason where it is absent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { openResponsesAvailable, openResponsesSkipReason, validateComponent, validateResponseObject, validateStreamEvent } from './support/openresponses.js';
import { readSse, startServer, type TestServer } from './support/server.js';

// Event types the schema does not define: respd emits them on purpose (documented in the README).
const NOT_IN_SPEC = new Set(['response.cancelled']);
// Known defect of the schema: JsonSchemaResponseFormat.schema is typed as null.
const SPEC_BUGS = [/text\/format\/schema/];

function check(errors: string[], what: string) {
  const real = errors.filter((e) => !SPEC_BUGS.some((re) => re.test(e)));
  assert.deepEqual(real, [], `${what} does not validate:\n${real.join('\n')}`);
}

describe('Open Responses schema conformance', { skip: openResponsesAvailable ? false : openResponsesSkipReason }, () => {
  let server: TestServer;
  let upstream: Awaited<ReturnType<typeof startMockUpstream>>;
  const seenTypes = new Set<string>();

  before(async () => {
    upstream = await startMockUpstream();
    server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
  });
  after(async () => {
    console.log(`# validated stream event types: ${[...seenTypes].sort().join(', ')}`);
    await server?.stop();
    await upstream?.close();
  });

  async function streamAndValidate(body: Record<string, unknown>) {
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
    assert.equal(res.status, 200);
    const events = await readSse(res);
    for (const e of events) {
      seenTypes.add(e.event!);
      if (NOT_IN_SPEC.has(e.event!)) continue;
      check(validateStreamEvent(e.data), `event ${e.event}`);
    }
    return events;
  }

  it('blocking responses (completed, incomplete, failed) validate', async () => {
    const c = server.client();
    for (const body of [
      { model: 'auto', input: 'Once upon a time', max_output_tokens: 12 },
      { model: 'auto', input: 'Once', max_output_tokens: 2 },
      { model: 'openai:mock-error-500', input: 'x' },
      { model: 'openai:mock-text', input: 'x', instructions: 'be nice', metadata: { a: 'b' }, reasoning: { effort: 'low', summary: 'auto' } },
      { model: 'openai:mock-text', input: 'x', text: { format: { type: 'json_schema', name: 'o', schema: { type: 'object' } } } },
    ] as const) {
      const r = await c.responses.create(body as any);
      check(validateResponseObject(r), `response (${JSON.stringify(body).slice(0, 60)})`);
    }
  });

  it('stream events of text, logprobs and tool-call responses validate', async () => {
    await streamAndValidate({ model: 'auto', input: 'Once upon a time', max_output_tokens: 12 });
    await streamAndValidate({ model: 'auto', input: 'Once', max_output_tokens: 12, include: ['message.output_text.logprobs'], top_logprobs: 2 });
    await streamAndValidate({ model: 'openai:mock-error-500', input: 'x' });
    await streamAndValidate({
      model: 'openai:mock-tool', input: 'x',
      tools: [{ type: 'function', name: 'get_weather', description: 'w', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    await streamAndValidate({ model: 'openai:mock-text', input: 'x', background: true });
  });

  // What the Open Responses compliance suite (openresponses/openresponses, 17 tests) sends beyond the cases
  // above, against a tool-calling upstream: phase-labelled assistant history, a function-call round trip,
  // an image as a data URL, and /responses/compact (CompactResource, and a 400 without `model`).
  it("the compliance suite's requests are accepted and their bodies validate", async () => {
    const post = async (path: string, body: unknown) => {
      const res = await server.fetch(path, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };
    const phase = await post('/responses', {
      model: 'openai:mock-agent',
      input: [
        { type: 'message', role: 'assistant', phase: 'commentary', content: 'I should answer with the saved number.' },
        { type: 'message', role: 'assistant', phase: 'final_answer', content: 'The number is four.' },
        { type: 'message', role: 'user', content: 'Repeat only the number.' },
      ],
    });
    assert.equal(phase.status, 200, JSON.stringify(phase.json));
    assert.equal(phase.json.status, 'completed');
    check(validateResponseObject(phase.json), 'response to phase-labelled history');

    const weather = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } };
    const call = await post('/responses', { model: 'openai:mock-agent', input: 'Weather in San Francisco?', tools: [weather], tool_choice: { type: 'function', name: 'get_weather' } });
    assert.equal(call.status, 200, JSON.stringify(call.json));
    check(validateResponseObject(call.json), 'function_call response');
    const fc = call.json.output.find((o: any) => o.type === 'function_call');
    assert.ok(fc, 'a function_call item');
    assert.deepEqual(JSON.parse(fc.arguments), { location: 'test' });
    const answer = await post('/responses', {
      model: 'openai:mock-agent', previous_response_id: call.json.id, tools: [weather],
      input: [{ type: 'function_call_output', call_id: fc.call_id, output: '{"temperature":"18C"}' }],
    });
    assert.equal(answer.json.status, 'completed', JSON.stringify(answer.json));
    assert.ok(answer.json.output.some((o: any) => o.type === 'message'));
    check(validateResponseObject(answer.json), 'response after function_call_output');

    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    const image = await post('/responses', { model: 'openai:mock-agent', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: png }] }] });
    assert.equal(image.json.status, 'completed', JSON.stringify(image.json));
    check(validateResponseObject(image.json), 'response to an image input');

    const history = [
      { type: 'message', role: 'user', content: 'We agreed to launch on Tuesday and notify support first.' },
      { type: 'message', role: 'assistant', content: 'Understood. The launch is Tuesday, with support notified beforehand.' },
    ];
    const compact = await post('/responses/compact', { model: 'openai:mock-agent', prompt_cache_key: 'compliance', input: history });
    assert.equal(compact.status, 200, JSON.stringify(compact.json));
    assert.equal(compact.json.object, 'response.compaction');
    assert.ok(compact.json.output.some((o: any) => o.type === 'compaction'));
    check(validateComponent('CompactResource', compact.json), 'compaction');
    const noModel = await post('/responses/compact', { input: history });
    assert.equal(noModel.status, 400);
    assert.equal(noModel.json.error.param, 'model');
  });

  it('retrieve, list, update and cancel bodies validate', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-slow', input: 'x', background: true });
    check(validateResponseObject(r), 'queued response');
    await new Promise((res) => setTimeout(res, 100));
    check(validateResponseObject(await c.responses.retrieve(r.id)), 'in-progress response');
    check(validateResponseObject(await c.responses.cancel(r.id)), 'cancelled response');
    const list = await server.fetch('/responses').then((x) => x.json());
    for (const item of list.data) check(validateResponseObject(item), 'listed response');
    const upd = await server.fetch(`/responses/${r.id}`, { method: 'POST', body: JSON.stringify({ metadata: { k: 'v' } }) }).then((x) => x.json());
    check(validateResponseObject(upd), 'updated response');
    const replay = await readSse(await server.fetch(`/responses/${r.id}?stream=true&starting_after=-1`));
    for (const e of replay) if (!NOT_IN_SPEC.has(e.event!)) check(validateStreamEvent(e.data), `replayed ${e.event}`);
  });
});
