// Bad input, auth and tenancy over raw HTTP: every error is a 4xx in OpenAI's shape, never a 500, and
// one identity never sees another's responses (404, not 403).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { KEY_A, KEY_B, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, BODY_LIMIT: '65536' } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

async function expectError(res: Response, status: number, param?: string | null) {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  const body = JSON.parse(text);
  assert.equal(typeof body.error, 'object', text);
  for (const k of ['message', 'type', 'param', 'code']) assert.ok(k in body.error, `error.${k} missing in ${text}`);
  assert.equal(typeof body.error.message, 'string');
  if (param !== undefined) assert.equal(body.error.param, param, text);
  return body.error;
}

const post = (body: unknown, init: Parameters<TestServer['fetch']>[1] = {}) =>
  server.fetch('/responses', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), ...init });

describe('validation', () => {
  const cases: Array<[string, unknown, string | null]> = [
    ['missing model', { input: 'x' }, 'model'],
    ['model wrong type', { model: 5, input: 'x' }, 'model'],
    ['unknown model', { model: 'nope:nothing', input: 'x' }, 'model'],
    ['unknown field', { model: 'auto', input: 'x', bogus: 1 }, 'bogus'],
    ['temperature too high', { model: 'auto', input: 'x', temperature: 3 }, 'temperature'],
    ['temperature string', { model: 'auto', input: 'x', temperature: '1' }, 'temperature'],
    ['top_p negative', { model: 'auto', input: 'x', top_p: -0.1 }, 'top_p'],
    ['max_output_tokens zero', { model: 'auto', input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    ['max_output_tokens float', { model: 'auto', input: 'x', max_output_tokens: 1.5 }, 'max_output_tokens'],
    ['input number', { model: 'auto', input: 42 }, 'input'],
    ['input item not object', { model: 'auto', input: [1] }, 'input[0]'],
    ['bad role', { model: 'auto', input: [{ role: 'wizard', content: 'x' }] }, 'input[0].role'],
    ['bad content part', { model: 'auto', input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 'input[0].content[0].text'],
    ['unknown item type', { model: 'auto', input: [{ type: 'teleport' }] }, 'input[0].type'],
    ['include unknown', { model: 'auto', input: 'x', include: ['everything'] }, 'include[0]'],
    ['tools not array', { model: 'auto', input: 'x', tools: {} }, 'tools'],
    ['function tool bad name', { model: 'auto', input: 'x', tools: [{ type: 'function', name: 'has space' }] }, 'tools[0].name'],
    ['unsupported tool', { model: 'auto', input: 'x', tools: [{ type: 'computer_use' }] }, 'tools[0].type'],
    ['tool_choice unknown function', { model: 'auto', input: 'x', tool_choice: { type: 'function', name: 'ghost' } }, 'tool_choice'],
    ['metadata too many keys', { model: 'auto', input: 'x', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ['metadata value too long', { model: 'auto', input: 'x', metadata: { k: 'v'.repeat(513) } }, 'metadata.k'],
    ['previous_response_id malformed', { model: 'auto', input: 'x', previous_response_id: 'nope' }, 'previous_response_id'],
    ['stream wrong type', { model: 'auto', input: 'x', stream: 'yes' }, 'stream'],
    ['truncation bad', { model: 'auto', input: 'x', truncation: 'sometimes' }, 'truncation'],
    ['json_schema without schema', { model: 'auto', input: 'x', text: { format: { type: 'json_schema', name: 'x' } } }, 'text.format.schema'],
    ['conversation with previous_response_id', { model: 'auto', input: 'x', conversation: 'conv_1', previous_response_id: 'resp_abc' }, 'conversation'],
  ];
  for (const [name, body, param] of cases) {
    it(`${name} → 400 naming ${param}`, async () => {
      const err = await expectError(await post(body), 400);
      if (param) assert.ok(err.param === param || err.param?.startsWith(param.split('[')[0]), `param ${err.param} vs ${param}`);
    });
  }

  it('malformed JSON → 400', async () => {
    await expectError(await post('{"model":'), 400);
  });
  it('empty body → 400', async () => {
    await expectError(await server.fetch('/responses', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } }), 400);
  });
  it('oversized body → 413', async () => {
    await expectError(await post({ model: 'auto', input: 'x'.repeat(70_000) }), 413);
  });
  it('deeply nested JSON → 4xx, server stays up', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const res = await post(`{"model":"auto","input":${deep}}`);
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    assert.equal((await server.fetch('/models')).status, 200);
  });
  it('wrong content type → 4xx', async () => {
    const res = await server.fetch('/responses', { method: 'POST', body: 'model=auto', headers: { 'content-type': 'text/plain' } });
    assert.ok(res.status === 415 || res.status === 400);
    await expectError(res, res.status);
  });
  it('malformed response id → 400; unknown → 404', async () => {
    await expectError(await server.fetch('/responses/not-an-id'), 400);
    await expectError(await server.fetch('/responses/resp_0000000000000000'), 404);
    await expectError(await server.fetch('/responses/resp_0000000000000000/cancel', { method: 'POST' }), 404);
    await expectError(await server.fetch('/responses/resp_0000000000000000', { method: 'DELETE' }), 404);
    await expectError(await server.fetch('/responses/resp_0000000000000000/input_items'), 404);
  });
  it('query validation: limit range, order enum, include values, starting_after type', async () => {
    await expectError(await server.fetch('/responses?limit=0'), 400, 'limit');
    await expectError(await server.fetch('/responses?limit=101'), 400, 'limit');
    await expectError(await server.fetch('/responses?order=sideways'), 400, 'order');
    const r = await server.client().responses.create({ model: 'openai:mock-text', input: 'x' });
    await expectError(await server.fetch(`/responses/${r.id}?include=nope`), 400, 'include');
    await expectError(await server.fetch(`/responses/${r.id}?starting_after=abc`), 400, 'starting_after');
    await expectError(await server.fetch(`/responses/${r.id}?stream=maybe`), 400, 'stream');
    await expectError(await server.fetch(`/responses/${r.id}/input_items?limit=500`), 400, 'limit');
    // Comma form and bracket form both work.
    assert.equal((await server.fetch(`/responses/${r.id}?include=message.output_text.logprobs,message.input_image.image_url`)).status, 200);
    assert.equal((await server.fetch(`/responses/${r.id}?include[]=message.output_text.logprobs`)).status, 200);
  });
  it('unknown route → 404, wrong method → 405', async () => {
    await expectError(await server.fetch('/nothing-here'), 404);
    await expectError(await server.fetch('/responses', { method: 'PUT', body: '{}' }), 405);
  });
  it('upstream failure → failed response carrying the upstream message, not a 500', async () => {
    const r = await server.client().responses.create({ model: 'openai:mock-error-500', input: 'x' });
    assert.equal(r.status, 'failed');
    assert.ok(r.error?.message.length);
  });
});

describe('auth and tenancy', () => {
  it('missing or wrong key → 401 in the OpenAI shape', async () => {
    await expectError(await server.fetch('/responses', { key: null }), 401);
    await expectError(await server.fetch('/responses', { key: 'wrong' }), 401);
    const res = await fetch(`${server.baseURL}/responses`, { headers: { authorization: 'Basic abc' } });
    await expectError(res, 401);
  });
  it('X-On-Behalf-Of must be 1-150 printable ASCII and not *', async () => {
    await expectError(await server.fetch('/responses', { endUser: '*' }), 400);
    await expectError(await server.fetch('/responses', { endUser: 'x'.repeat(151) }), 400);
    await expectError(await server.fetch('/responses', { headers: { 'x-on-behalf-of': 'tab\there' } }), 400);
  });
  it('X-Request-ID is echoed when valid, generated otherwise, also on errors and streams', async () => {
    const a = await server.fetch('/models', { headers: { 'x-request-id': 'my-req-123' } });
    assert.equal(a.headers.get('x-request-id'), 'my-req-123');
    const b = await server.fetch('/models');
    assert.match(b.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
    const c = await server.fetch('/responses', { key: 'wrong', headers: { 'x-request-id': 'err-1' } });
    assert.equal(c.headers.get('x-request-id'), 'err-1');
    const d = await post({ model: 'openai:mock-text', input: 'x', stream: true }, { headers: { 'x-request-id': 'stream-1' } });
    assert.equal(d.headers.get('x-request-id'), 'stream-1');
    await d.text();
  });
  it('two keys and two end users cannot see each other\'s responses', async () => {
    const identities = [
      { key: KEY_A, endUser: undefined }, { key: KEY_A, endUser: 'alice' }, { key: KEY_A, endUser: 'bob' },
      { key: KEY_B, endUser: undefined }, { key: KEY_B, endUser: 'alice' },
    ];
    const created = [];
    for (const id of identities) {
      created.push((await server.client(id.key, id.endUser).responses.create({ model: 'openai:mock-text', input: 'x', background: true })).id);
    }
    for (let i = 0; i < identities.length; i++) {
      const me = identities[i];
      const list = await server.fetch('/responses?limit=100', { key: me.key, endUser: me.endUser }).then((r) => r.json());
      const ids = new Set(list.data.map((r: any) => r.id));
      for (let j = 0; j < identities.length; j++) {
        assert.equal(ids.has(created[j]), i === j, `identity ${i} listing ${j}`);
        if (i === j) continue;
        for (const [path, method] of [[`/responses/${created[j]}`, 'GET'], [`/responses/${created[j]}?stream=true`, 'GET'],
          [`/responses/${created[j]}/input_items`, 'GET'], [`/responses/${created[j]}/cancel`, 'POST'], [`/responses/${created[j]}`, 'DELETE'],
          [`/responses/${created[j]}/wake`, 'POST'], [`/responses/${created[j]}?stream=true&starting_after=0`, 'GET'], [`/responses/${created[j]}`, 'POST']] as const) {
          const body = path.endsWith('/wake') ? JSON.stringify({ input: 'hi' }) : method === 'POST' && !path.endsWith('/cancel') ? JSON.stringify({ metadata: { x: 'y' } }) : undefined;
          const res = await server.fetch(path, { method, key: me.key, endUser: me.endUser, body });
          assert.equal(res.status, 404, `identity ${i} ${method} ${path} → ${res.status}`);
          await res.text();
        }
      }
    }
    // Chaining onto a foreign response is refused like an unknown one.
    const chained = await server.fetch('/responses', { method: 'POST', key: KEY_B, body: JSON.stringify({ model: 'openai:mock-text', input: 'x', previous_response_id: created[0] }) });
    assert.equal(chained.status, 400);
    assert.equal((await chained.json()).error.param, 'previous_response_id');
    // Nothing was deleted or changed by the foreign attempts.
    for (let j = 0; j < identities.length; j++) {
      const res = await server.fetch(`/responses/${created[j]}`, { key: identities[j].key, endUser: identities[j].endUser });
      assert.equal(res.status, 200);
      await res.text();
    }
  });
  it('keys are never written to the logs', () => {
    const all = server.logs.join('\n');
    assert.ok(!all.includes(KEY_A) && !all.includes(KEY_B));
  });
});

describe('documents', () => {
  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await fetch(`${server.baseURL}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/llm/responses'].post.requestBody);
    assert.ok(doc.paths['/api/v1/llm/responses/{response_id}'].get);
    assert.ok(doc.paths['/api/v1/llm/models'].get);
  });
  it('lists models in the reference shape, auto included', async () => {
    const models = await server.client().models.list();
    const ids = models.data.map((m) => m.id);
    assert.ok(ids.includes('auto'));
    assert.ok(ids.some((id) => id.startsWith('local:')));
    assert.ok(ids.includes('openai:mock-text') || ids.some((id) => id.startsWith('openai:')));
    const auto = models.data.find((m) => m.id === 'auto') as any;
    assert.deepEqual(Object.keys(auto).sort(), ['created', 'id', 'model_type', 'object', 'owned_by']);
    const one = await server.client().models.retrieve(ids.find((id) => id.startsWith('local:'))!);
    assert.equal(one.object, 'model');
    await expectError(await server.fetch('/models/none:such'), 404);
  });
});
