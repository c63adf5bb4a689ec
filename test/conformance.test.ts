// Every JSON body and every stream event type respd emits validates against the Open Responses schema
// (../shared/reference/openresponses-openapi.json), skipped with a printed reason where it is absent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { openResponsesAvailable, openResponsesSkipReason, validateResponseObject, validateStreamEvent } from './support/openresponses.js';
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
