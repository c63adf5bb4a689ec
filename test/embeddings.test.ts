// POST /embeddings on the embedded engine (real vectors from the dev GGUF) and through an upstream's
// /embeddings (the mock's hashed bag of words), plus the bad-input cases as 4xx in OpenAI's shape.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, mockEmbedding, type MockUpstream } from './support/mock-upstream.js';
import { KEY_A, startServer, type TestServer } from './support/server.js';

let upstream: MockUpstream;
let s: TestServer;

before(async () => {
  upstream = await startMockUpstream({ models: ['mock-embed'] });
  // The default model (stories260K from ../shared, or the generated one on a clone without it).
  s = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await s?.stop();
  await upstream?.close();
});

const post = (body: unknown) => fetch(`${s.url}/api/v1/llm/embeddings`, {
  method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const cosine = (a: number[], b: number[]) => a.reduce((n, x, i) => n + x * b[i], 0) / (Math.hypot(...a) * Math.hypot(...b));

describe('POST /embeddings', () => {
  it('embeds on the embedded engine: one real vector per input, of the model\'s size', async () => {
    const local = (await s.client().models.list()).data.map((m) => m.id).find((id) => id.startsWith('local:'));
    assert.ok(local);
    const r = await s.client().embeddings.create({ model: local, input: ['Once upon a time', 'a little cat'], encoding_format: 'float' });
    assert.equal(r.object, 'list');
    assert.equal(r.model, local);
    assert.equal(r.data.length, 2);
    assert.deepEqual(r.data.map((d) => d.index), [0, 1]);
    const [a, b] = r.data.map((d) => d.embedding);
    assert.ok(a.length > 8 && a.length === b.length, `dimension ${a.length}`);
    assert.ok(a.every(Number.isFinite) && a.some((x) => x !== 0));
    assert.notDeepEqual(a, b);
    assert.ok(r.usage.prompt_tokens > 0 && r.usage.total_tokens === r.usage.prompt_tokens);
    const again = await s.client().embeddings.create({ model: local, input: 'Once upon a time', encoding_format: 'float' });
    assert.ok(cosine(again.data[0].embedding, a) > 0.999, 'deterministic');
  });

  it('embeds through an upstream\'s /embeddings, with dimensions passed on and base64 decoded by the SDK', async () => {
    const r = await s.client().embeddings.create({ model: 'openai:mock-embed', input: ['the automobile', 'a car'], encoding_format: 'float' });
    assert.equal(r.model, 'openai:mock-embed');
    assert.deepEqual(r.data[0].embedding, mockEmbedding('the automobile'));
    assert.ok(cosine(r.data[0].embedding, r.data[1].embedding) > 0.4);
    const last = upstream.requests.filter((q) => q.path.endsWith('/embeddings')).at(-1);
    assert.deepEqual(last?.body.input, ['the automobile', 'a car']);
    assert.equal(last?.body.model, 'mock-embed');
    // The SDK asks for base64 by default and decodes it: the same floats come back (float32 precision).
    const b = await s.client().embeddings.create({ model: 'openai:mock-embed', input: 'the automobile', dimensions: 16 });
    assert.equal(b.data[0].embedding.length, 16);
    const want = mockEmbedding('the automobile', 16);
    b.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-6));
    assert.equal(upstream.requests.filter((q) => q.path.endsWith('/embeddings')).at(-1)?.body.dimensions, 16);
  });

  for (const [name, body, param] of [
    ['token arrays', { model: 'openai:mock-embed', input: [[1, 2, 3]] }, 'input[0]'],
    ['an empty array', { model: 'openai:mock-embed', input: [] }, 'input'],
    ['an empty string', { model: 'openai:mock-embed', input: ['a', ''] }, 'input[1]'],
    ['a number', { model: 'openai:mock-embed', input: 7 }, 'input'],
    ['a missing model', { input: 'x' }, null],
    ['an unknown model', { model: 'nope:nothing', input: 'x' }, 'model'],
    ['a bad encoding_format', { model: 'openai:mock-embed', input: 'x', encoding_format: 'hex' }, null],
    ['a bad dimensions', { model: 'openai:mock-embed', input: 'x', dimensions: 0 }, null],
  ] as const) {
    it(`refuses ${name} with a 400 in OpenAI's error shape`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400);
      const j = await res.json() as { error: { message: string; type: string; param: string | null; code: string | null } };
      assert.equal(typeof j.error.message, 'string');
      assert.equal(j.error.type, 'invalid_request_error');
      if (param) assert.equal(j.error.param, param);
    });
  }
});
