// Hybrid search (BM25 + vectors, reciprocal rank fusion) with EMBEDDING_MODEL on the mock upstream's
// /embeddings, whose vectors put synonyms together: a query sharing no word with a document still finds it,
// which lexical search cannot. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL; once on the
// default vector path (sqlite-vec on SQLite) and once on the exact JS path (VECTOR_EXTENSION=off).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { startServer, type TestServer } from './support/server.js';
import { dropBackends } from './support/backends.js';

let upstream: MockUpstream;
let dataDir: string;
let s: TestServer | undefined;
const MODEL = 'openai:mock-embed';
/** VECTOR_EXTENSION for the servers the current describe starts. */
let vectorExtension = 'auto';

const start = async (embeddingModel?: string) => {
  await s?.stop();
  s = await startServer({ dataDir, keepData: true, env: { OPENAI_BASE_URL: upstream.url, EMBEDDING_MODEL: embeddingModel ?? '', VECTOR_EXTENSION: vectorExtension } });
  return s.client();
};
const onPostgres = (process.env.TEST_DATABASE_URL ?? '').startsWith('postgres');

before(async () => {
  upstream = await startMockUpstream({ models: ['mock-embed', 'mock-other'] });
  dataDir = mkdtempSync(join(tmpdir(), 'respd-hybrid-'));
});
after(async () => {
  await s?.stop();
  await upstream?.close();
  await dropBackends(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

const DOCS: Record<string, string> = {
  'garage.txt': 'The automobile needs new tires and an oil change before the long trip.',
  'clinic.txt': 'Physicians recommend regular exercise and plenty of sleep.',
  'bakery.txt': 'Bread rises when yeast ferments the sugars in the dough.',
};

async function makeStore(client: OpenAI) {
  const ids: Record<string, string> = {};
  for (const [name, text] of Object.entries(DOCS)) ids[name] = (await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' })).id;
  const vs = await client.vectorStores.create({ name: 'hybrid', file_ids: Object.values(ids) });
  for (let end = Date.now() + 30_000; ;) {
    const r = await client.vectorStores.retrieve(vs.id);
    if (r.file_counts.in_progress === 0) {
      assert.equal(r.file_counts.completed, 3, JSON.stringify(r.file_counts));
      return { vs: r, ids };
    }
    assert.ok(Date.now() < end, 'ingestion finished');
    await new Promise((res) => setTimeout(res, 100));
  }
}

for (const path of ['auto', 'off'] as const) describe(`hybrid search (VECTOR_EXTENSION=${path})`, () => {
  before(() => { vectorExtension = path; });
  let hybridId: string;
  let lexicalId: string;
  let ids: Record<string, string>;

  it('a lexical store cannot find a document by a synonym', async () => {
    const client = await start();
    const { vs } = await makeStore(client);
    lexicalId = vs.id;
    assert.equal((vs as any).search_mode, 'lexical');
    assert.equal((vs as any).embedding_model, null);
    const page = await client.vectorStores.search(vs.id, { query: 'car' });
    assert.equal(page.data.length, 0, 'no word in common, no lexical hit');
    const bad = await s!.fetch(`/vector_stores/${vs.id}/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'car', ranking_options: { hybrid_search: { embedding_weight: 1, text_weight: 1 } } }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json() as any).error.param, 'ranking_options.hybrid_search');
  });

  it('a store made with EMBEDDING_MODEL records it, embeds its chunks and finds a document by meaning', async () => {
    const client = await start(MODEL);
    // The startup log says which path vector search takes.
    const line = s!.logs.find((l) => l.includes('vector search: '));
    assert.ok(line, s!.logs.join('\n'));
    if (path === 'off') assert.match(line, /exact, in JS.*VECTOR_EXTENSION=off/);
    else if (onPostgres) assert.match(line, /exact, in JS over bytea \(pgvector/);
    else assert.match(line, /exact, in SQLite by sqlite-vec v0\.1\.9/);
    const made = await makeStore(client);
    ids = made.ids;
    hybridId = made.vs.id;
    assert.equal((made.vs as any).search_mode, 'hybrid');
    assert.equal((made.vs as any).embedding_model, MODEL);
    const embedCalls = upstream.requests.filter((q) => q.path.endsWith('/embeddings'));
    assert.ok(embedCalls.some((q) => q.body.model === 'mock-embed' && Array.isArray(q.body.input)), 'chunks embedded through the upstream');

    const page = await client.vectorStores.search(hybridId, { query: 'car' });
    assert.equal(page.data[0]?.file_id, ids['garage.txt'], 'the synonym finds the garage note');
    assert.ok(page.data[0]!.score > 0 && page.data[0]!.score <= 1);
    // Both rankings agree on a shared word: the fused score of a chunk first in both is the maximum, 1.
    const both = await client.vectorStores.search(hybridId, { query: 'yeast dough' });
    assert.equal(both.data[0]?.file_id, ids['bakery.txt']);
    assert.ok(Math.abs(both.data[0]!.score - 1) < 1e-9, `score ${both.data[0]!.score}`);
  });

  it('ranking_options: weights choose the rankings, score_threshold applies to the fused score', async () => {
    const client = s!.client();
    const textOnly = await client.vectorStores.search(hybridId, { query: 'car', ranking_options: { hybrid_search: { embedding_weight: 0, text_weight: 1 } } } as any);
    assert.equal(textOnly.data.length, 0, 'text only: no hit for a synonym');
    const vectorOnly = await client.vectorStores.search(hybridId, { query: 'car', ranking_options: { hybrid_search: { embedding_weight: 1, text_weight: 0 } } } as any);
    assert.equal(vectorOnly.data[0]?.file_id, ids['garage.txt']);
    assert.ok(Math.abs(vectorOnly.data[0]!.score - 1) < 1e-9);
    // With equal weights a chunk first in one ranking only scores 0.5: a threshold above that drops it.
    const high = await client.vectorStores.search(hybridId, { query: 'car', ranking_options: { score_threshold: 0.6 } });
    assert.equal(high.data.length, 0);
    const low = await client.vectorStores.search(hybridId, { query: 'car', ranking_options: { score_threshold: 0.4 } });
    assert.equal(low.data[0]?.file_id, ids['garage.txt']);
    const bad = await s!.fetch(`/vector_stores/${hybridId}/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'car', ranking_options: { hybrid_search: { embedding_weight: -1, text_weight: 1 } } }),
    });
    assert.equal(bad.status, 400);
  });

  it('refuses to search a store with another model\'s vectors, and searches a lexical store lexically', async () => {
    const client = await start('openai:mock-other');
    for (const id of [hybridId]) {
      const res = await s!.fetch(`/vector_stores/${id}/search`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'car' }),
      });
      assert.equal(res.status, 400);
      const j = await res.json() as any;
      assert.equal(j.error.code, 'embedding_model_mismatch');
      assert.match(j.error.message, /mock-embed/);
      assert.equal(j.error.type, 'invalid_request_error');
    }
    assert.equal((await client.vectorStores.search(lexicalId, { query: 'car' })).data.length, 0);
    assert.equal((await client.vectorStores.search(lexicalId, { query: 'yeast' })).data[0]?.file_id !== undefined, true);
    await start();
    const res = await s!.fetch(`/vector_stores/${hybridId}/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'car' }),
    });
    assert.equal(res.status, 400, 'no embedding model configured: the embedded store is refused too');
    // The file_search tool takes the same ranking options, checked when the response is created.
    const tool = await s!.fetch('/responses', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai:mock-embed', input: 'x', tools: [{ type: 'file_search', vector_store_ids: [hybridId], ranking_options: { hybrid_search: { embedding_weight: 'high', text_weight: 1 } } }] }),
    });
    assert.equal(tool.status, 400);
    assert.equal((await tool.json() as any).error.param, 'tools[0].ranking_options.hybrid_search');
  });
});

describe('EMBEDDING_MODEL validation', () => {
  it('a provider that is not configured stops the start', async () => {
    await assert.rejects(startServer({ env: { EMBEDDING_MODEL: 'nowhere:thing' } }), /EMBEDDING_MODEL/);
    await assert.rejects(startServer({ env: { EMBEDDING_MODEL: 'no-colon' } }), /EMBEDDING_MODEL/);
  });
});
