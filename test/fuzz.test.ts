// Property test over hostile input: random JSON bodies, queries, ids and headers against every endpoint.
// Invariants: never a 5xx, every error is a 4xx in OpenAI's shape, the process survives, and no request
// that failed validation leaves a record behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startMockUpstream } from './support/mock-upstream.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, BODY_LIMIT: '200000' }, keepData: false });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

async function checkReply(res: Response, what: string) {
  const text = await res.text();
  assert.ok(res.status < 500, `${what} → ${res.status}: ${text.slice(0, 300)}`);
  if (res.status >= 400) {
    const body = JSON.parse(text);
    assert.equal(typeof body.error?.message, 'string', `${what}: not the OpenAI error shape: ${text.slice(0, 200)}`);
    for (const k of ['type', 'param', 'code']) assert.ok(k in body.error, `${what}: error.${k} missing`);
  }
  return res.status;
}

const weird = fc.oneof(
  fc.string(), fc.string({ unit: 'grapheme' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constant(-1), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(1e308), fc.constant('x'.repeat(5000)),
  fc.array(fc.anything(), { maxLength: 5 }), fc.dictionary(fc.string(), fc.anything(), { maxKeys: 4 }),
);
const FIELDS = ['model', 'input', 'instructions', 'previous_response_id', 'include', 'tools', 'tool_choice', 'metadata', 'text',
  'temperature', 'top_p', 'max_output_tokens', 'max_tool_calls', 'parallel_tool_calls', 'stream', 'background', 'store',
  'reasoning', 'truncation', 'service_tier', 'user', 'stream_options', 'top_logprobs', 'conversation', 'unknown_field'];
const body = fc.record(Object.fromEntries(FIELDS.map((f) => [f, weird])), { requiredKeys: [] })
  .map((b) => ({ model: 'openai:mock-text', ...b }));
const itemish = fc.record({ type: fc.oneof(fc.constantFrom('message', 'function_call', 'function_call_output', 'item_reference', 'input_text', 'bogus'), weird), role: weird, content: weird, call_id: weird, output: weird, id: weird, arguments: weird, name: weird }, { requiredKeys: [] });

describe('hostile input', () => {
  it('random create bodies never cause a 5xx', async () => {
    await fc.assert(fc.asyncProperty(body, async (b) => {
      await checkReply(await server.fetch('/responses', { method: 'POST', body: JSON.stringify(b) }), `POST ${JSON.stringify(b).slice(0, 200)}`);
    }), { numRuns: RUNS });
  });

  it('random input items never cause a 5xx', async () => {
    await fc.assert(fc.asyncProperty(fc.array(itemish, { maxLength: 4 }), async (input) => {
      await checkReply(await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input }) }), `input ${JSON.stringify(input).slice(0, 200)}`);
    }), { numRuns: RUNS });
  });

  it('random ids, queries and headers on every route never cause a 5xx', async () => {
    const r = await server.client().responses.create({ model: 'openai:mock-text', input: 'x' });
    const id = fc.oneof(fc.constant(r.id), fc.string(), fc.constantFrom('resp_', 'resp-abc', 'resp_../../etc', '%00', '%E0%A4%A', 'resp_' + 'a'.repeat(600)));
    const query = fc.dictionary(fc.constantFrom('limit', 'after', 'before', 'order', 'include', 'include[]', 'stream', 'starting_after', 'include_obfuscation', 'x'), fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom('-1', '1e9', 'true', 'NaN', '')), { maxKeys: 3 });
    const route = fc.constantFrom('GET /responses/:id', 'POST /responses/:id', 'DELETE /responses/:id', 'POST /responses/:id/cancel', 'GET /responses/:id/input_items', 'GET /responses', 'GET /models/:id');
    const header = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 200 }), fc.constant('*'));
    await fc.assert(fc.asyncProperty(route, id, query, header, fc.oneof(fc.constant(undefined), weird), async (rt, rid, q, hdr, b) => {
      const [method, pattern] = rt.split(' ');
      if (method === 'DELETE' && rid === r.id) return; // keep the one real response around
      const qs = new URLSearchParams(q as Record<string, string>).toString();
      const path = pattern.replace(':id', encodeURIComponent(rid)) + (qs ? `?${qs}` : '');
      const headers: Record<string, string> = {};
      if (hdr !== undefined && /^[\x20-\x7e]*$/.test(hdr)) headers['x-on-behalf-of'] = hdr;
      const res = await server.fetch(path, { method, headers, body: method === 'POST' && b !== undefined ? JSON.stringify(b) : undefined, signal: AbortSignal.timeout(10_000) });
      if ((res.headers.get('content-type') ?? '').includes('event-stream')) { await res.body?.cancel(); return; }
      await checkReply(res, `${method} ${path}`);
    }), { numRuns: RUNS });
  });

  it('invalid UTF-8 and binary bodies are 4xx', async () => {
    const bad = new Uint8Array([0x7b, 0x22, 0x6d, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await checkReply(await server.fetch('/responses', { method: 'POST', body: bad }), 'invalid utf-8');
    await checkReply(await server.fetch('/responses', { method: 'POST', body: '\u0000\u0001' }), 'binary');
  });

  it('the process survived and failed validations left no records', async () => {
    assert.equal(server.proc.exitCode, null);
    const list = await server.fetch('/responses?limit=100').then((x) => x.json());
    for (const r of list.data) assert.ok(['completed', 'failed', 'incomplete', 'cancelled', 'in_progress', 'queued'].includes(r.status));
    assert.ok(!server.logs.some((l) => /"level":50/.test(l) && /unhandled error/.test(l)), 'no unhandled errors logged');
  });
});
