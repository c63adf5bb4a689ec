// Vector stores over HTTP with the official `openai` client: stores, files (txt, md, html, json, csv,
// pdf, docx), batches, background ingestion (surviving a restart), lexical search with filters,
// ownership between keys and end users, and bad input as 4xx with nothing half-written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { makeDocx, makePdf } from './support/documents.js';
import { KEY_B, startServer, type TestServer } from './support/server.js';
import { dropBackends } from './support/backends.js';
import { status } from './support/api-status.js';

let server: TestServer;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});


const upload = async (client: OpenAI, name: string, data: string | Buffer) =>
  client.files.create({ file: await toFile(Buffer.from(data), name), purpose: 'assistants' });

/** Until no file of the store is in progress (ingestion runs in the background). */
async function settled(client: OpenAI, id: string, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const vs = await client.vectorStores.retrieve(id);
    if (vs.file_counts.in_progress === 0) return vs;
    if (Date.now() > end) throw new Error(`vector store ${id} still in progress: ${JSON.stringify(vs.file_counts)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vector stores with the openai client', () => {
  it('ingests every supported kind of file and searches them lexically', async () => {
    const client = server.client();
    const files = {
      txt: await upload(client, 'wings.txt', 'Swept wings delay the drag rise at transonic speeds.'),
      md: await upload(client, 'notes.md', '# Boundary layers\n\nLaminar flow separates under an adverse pressure gradient.'),
      html: await upload(client, 'page.html', '<html><body><h1>Heat transfer</h1><p>Stagnation point heating of blunt bodies in hypersonic flow.</p><script>ignored()</script></body></html>'),
      json: await upload(client, 'data.json', '{"topic": "flutter", "text": "Panel flutter of thin plates"}'),
      csv: await upload(client, 'table.csv', 'model,speed\nshock tube,mach 8\n'),
      pdf: await upload(client, 'paper.pdf', makePdf('Supersonic wind tunnel calibration of cone probes')),
      docx: await upload(client, 'report.docx', makeDocx(['Buckling of cylindrical shells under axial compression.'])),
    };
    const vs = await client.vectorStores.create({
      name: 'aero', metadata: { team: 'a' }, file_ids: Object.values(files).map((f) => f.id),
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } },
    });
    assert.match(vs.id, /^vs_[0-9a-f]{32}$/);
    assert.equal(vs.object, 'vector_store');
    assert.equal(vs.name, 'aero');
    assert.deepEqual(vs.metadata, { team: 'a' });
    assert.equal(vs.file_counts.total, 7);
    assert.equal((vs as any).search_mode, 'lexical', 'without an embedding model the store says it is lexical');
    const done = await settled(client, vs.id);
    assert.deepEqual(done.file_counts, { in_progress: 0, completed: 7, failed: 0, cancelled: 0, total: 7 });
    assert.equal(done.status, 'completed');
    assert.ok(done.usage_bytes > 0);

    const cases: Array<[string, string]> = [
      ['drag rise of swept wings', files.txt.id], ['laminar separation pressure gradient', files.md.id],
      ['hypersonic stagnation heating', files.html.id], ['panel flutter', files.json.id], ['shock tube', files.csv.id],
      ['supersonic tunnel calibration', files.pdf.id], ['buckling cylindrical shells', files.docx.id],
    ];
    for (const [query, id] of cases) {
      const page = await client.vectorStores.search(vs.id, { query });
      assert.equal(page.data[0]?.file_id, id, `"${query}" finds its file first`);
      const hit = page.data[0]!;
      assert.equal(typeof hit.score, 'number');
      assert.ok(hit.score > 0 && hit.score < 1);
      assert.equal(hit.content[0]!.type, 'text');
    }
    const html = await client.vectorStores.files.content(files.html.id, { vector_store_id: vs.id });
    const text = html.data.map((p) => p.text).join('');
    assert.match(text, /Stagnation point heating/);
    assert.doesNotMatch(text, /ignored\(\)|<p>/, 'parsed text, not markup');

    const raw = await (await server.fetch(`/vector_stores/${vs.id}/search`, { method: 'POST', body: JSON.stringify({ query: ['flutter', 'shells'], max_num_results: 1 }) })).json();
    assert.equal(raw.object, 'vector_store.search_results.page');
    assert.deepEqual(raw.search_query, ['flutter', 'shells']);
    assert.equal(raw.data.length, 1);
    assert.equal(raw.has_more, false);
    const rewritten = await (await server.fetch(`/vector_stores/${vs.id}/search`, { method: 'POST', body: JSON.stringify({ query: 'What is the flutter of a panel?', rewrite_query: true }) })).json();
    assert.deepEqual(rewritten.search_query, ['what flutter panel']);
    const none = await client.vectorStores.search(vs.id, { query: 'flutter', ranking_options: { score_threshold: 0.99 } });
    assert.equal(none.data.length, 0, 'score_threshold drops weaker results');
  });

  it('filters on attributes (comparison and compound), updates and deletes files', async () => {
    const client = server.client();
    const a = await upload(client, 'a.txt', 'Rotor blade vibration in helicopters.');
    const b = await upload(client, 'b.txt', 'Rotor downwash over ship decks.');
    const c = await upload(client, 'c.txt', 'Rotor noise measurements.');
    const vs = await client.vectorStores.create({ name: 'rotors' });
    await client.vectorStores.files.create(vs.id, { file_id: a.id, attributes: { year: 1960, kind: 'paper', open: true } });
    const batch = await client.vectorStores.fileBatches.create(vs.id, {
      files: [{ file_id: b.id, attributes: { year: 1970, kind: 'paper' } }, { file_id: c.id, attributes: { year: 1980, kind: 'report' } }],
    });
    assert.equal(batch.object, 'vector_store.files_batch');
    assert.equal(batch.file_counts.total, 2);
    await settled(client, vs.id);
    const done = await client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: vs.id });
    assert.equal(done.status, 'completed');
    assert.equal(done.file_counts.completed, 2);
    const inBatch = (await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: vs.id })).data.map((f) => f.id).sort();
    assert.deepEqual(inBatch, [b.id, c.id].sort());

    const ids = async (filters: any) => (await client.vectorStores.search(vs.id, { query: 'rotor', filters })).data.map((r) => r.file_id).sort();
    assert.deepEqual(await ids({ type: 'eq', key: 'kind', value: 'paper' }), [a.id, b.id].sort());
    assert.deepEqual(await ids({ type: 'gte', key: 'year', value: 1970 }), [b.id, c.id].sort());
    assert.deepEqual(await ids({ type: 'and', filters: [{ type: 'eq', key: 'kind', value: 'paper' }, { type: 'lt', key: 'year', value: 1965 }] }), [a.id]);
    assert.deepEqual(await ids({ type: 'or', filters: [{ type: 'eq', key: 'open', value: true }, { type: 'in', key: 'year', value: [1980] }] }), [a.id, c.id].sort());
    assert.deepEqual(await ids({ type: 'nin', key: 'kind', value: ['paper'] }), [c.id]);
    const hit = (await client.vectorStores.search(vs.id, { query: 'helicopters' })).data[0]!;
    assert.deepEqual(hit.attributes, { year: 1960, kind: 'paper', open: true });
    assert.equal(hit.filename, 'a.txt');

    const updated = await client.vectorStores.files.update(c.id, { vector_store_id: vs.id, attributes: { kind: 'paper' } });
    assert.deepEqual(updated.attributes, { kind: 'paper' });
    assert.deepEqual(await ids({ type: 'eq', key: 'kind', value: 'paper' }), [a.id, b.id, c.id].sort());

    const listed: string[] = [];
    for await (const f of client.vectorStores.files.list(vs.id, { limit: 1, order: 'asc' })) listed.push(f.id);
    assert.deepEqual(listed, [a.id, b.id, c.id]);
    assert.equal((await client.vectorStores.files.list(vs.id, { filter: 'failed' })).data.length, 0);
    const one = await client.vectorStores.files.retrieve(a.id, { vector_store_id: vs.id });
    assert.equal(one.status, 'completed');
    assert.equal(one.vector_store_id, vs.id);
    assert.deepEqual(one.chunking_strategy, { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } });

    assert.deepEqual(await client.vectorStores.files.delete(a.id, { vector_store_id: vs.id }), { id: a.id, object: 'vector_store.file.deleted', deleted: true });
    assert.ok(!(await ids(undefined)).includes(a.id), 'a removed file is no longer found');
    await client.files.delete(b.id);
    assert.deepEqual(await ids(undefined), [c.id], 'a file deleted from the Files API leaves its stores');
    assert.equal((await status(client.vectorStores.files.retrieve(b.id, { vector_store_id: vs.id }))).status, 404);

    const renamed = await client.vectorStores.update(vs.id, { name: 'helicopters', metadata: { x: '1' }, expires_after: { anchor: 'last_active_at', days: 7 } });
    assert.equal(renamed.name, 'helicopters');
    assert.deepEqual(renamed.expires_after, { anchor: 'last_active_at', days: 7 });
    assert.equal(renamed.expires_at, renamed.last_active_at! + 7 * 86400);
    const mine = (await client.vectorStores.list({ limit: 100 })).data.map((v) => v.id);
    assert.ok(mine.includes(vs.id));
    assert.deepEqual(await client.vectorStores.delete(vs.id), { id: vs.id, object: 'vector_store.deleted', deleted: true });
    assert.equal((await status(client.vectorStores.retrieve(vs.id))).status, 404);
  });

  it('an unreadable file fails alone; a cancelled batch reports cancelled', async () => {
    const client = server.client();
    const good = await upload(client, 'good.txt', 'Ablation of heat shields.');
    const broken = await upload(client, 'broken.pdf', 'this is not a pdf at all');
    const notUtf8 = await upload(client, 'latin.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff]));
    const vs = await client.vectorStores.create({ file_ids: [good.id, broken.id, notUtf8.id] });
    const done = await settled(client, vs.id);
    assert.deepEqual([done.file_counts.completed, done.file_counts.failed], [1, 2]);
    assert.equal(done.status, 'completed');
    const failed = await client.vectorStores.files.retrieve(broken.id, { vector_store_id: vs.id });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.last_error?.code, 'invalid_file');
    assert.match(failed.last_error!.message, /PDF/);
    assert.equal((await client.vectorStores.files.list(vs.id, { filter: 'failed' })).data.length, 2);
    assert.equal((await client.vectorStores.search(vs.id, { query: 'ablation' })).data[0]?.file_id, good.id);

    const batch = await client.vectorStores.fileBatches.create(vs.id, { file_ids: [good.id] });
    const cancelled = await client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: vs.id });
    assert.equal(cancelled.status, 'cancelled');
  });

  it('is owned by key and end user', async () => {
    const alice = server.client(undefined, 'alice');
    const f = await upload(alice, 'a.txt', 'Alice private notes on ramjets.');
    const vs = await alice.vectorStores.create({ file_ids: [f.id] });
    await settled(alice, vs.id);
    for (const other of [server.client(), server.client(undefined, 'bob'), server.client(KEY_B, 'alice')]) {
      assert.equal((await status(other.vectorStores.retrieve(vs.id))).status, 404);
      assert.equal((await status(other.vectorStores.search(vs.id, { query: 'ramjets' }))).status, 404);
      assert.equal((await status(other.vectorStores.update(vs.id, { name: 'x' }))).status, 404);
      assert.equal((await status(other.vectorStores.files.list(vs.id))).status, 404);
      assert.equal((await status(other.vectorStores.files.retrieve(f.id, { vector_store_id: vs.id }))).status, 404);
      assert.equal((await status(other.vectorStores.delete(vs.id))).status, 404);
      assert.ok(!(await other.vectorStores.list()).data.some((v) => v.id === vs.id));
      // Someone else's file cannot be put in one's own store.
      const own = await other.vectorStores.create({});
      const r = await status(other.vectorStores.files.create(own.id, { file_id: f.id }));
      assert.deepEqual([r.status, r.param], [404, 'file_id']);
    }
    assert.equal((await alice.vectorStores.search(vs.id, { query: 'ramjets' })).data.length, 1);
  });

  it('refuses bad input with 4xx and writes nothing', async () => {
    const client = server.client(KEY_B, 'bad');
    const txt = await upload(client, 'ok.txt', 'fine text');
    const png = await upload(client, 'image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
    const count = async () => (await client.vectorStores.list({ limit: 100 })).data.length;
    const before = await count();
    const unsupported = await status(client.vectorStores.create({ file_ids: [txt.id, png.id] }));
    assert.deepEqual([unsupported.status, unsupported.code, unsupported.param], [400, 'unsupported_file', 'file_ids[1]']);
    const unknown = await status(client.vectorStores.create({ file_ids: ['file_00000000000000000000000000000000'] }));
    assert.deepEqual([unknown.status, unknown.param], [404, 'file_ids[0]']);
    const chunking = await status(client.vectorStores.create({ chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 150 } } }));
    assert.deepEqual([chunking.status, chunking.param], [400, 'chunking_strategy.static.chunk_overlap_tokens']);
    const wrongType = await status(client.vectorStores.create({ name: 42 } as any));
    assert.equal(wrongType.status, 400);
    const expiry = await status(client.vectorStores.create({ expires_after: { anchor: 'last_active_at', days: 0 } }));
    assert.deepEqual([expiry.status, expiry.param], [400, 'expires_after.days']);
    assert.equal(await count(), before, 'no store was created by a refused request');

    const vs = await client.vectorStores.create({});
    const attrs = await status(client.vectorStores.files.create(vs.id, { file_id: txt.id, attributes: { nested: { no: 1 } } as any }));
    assert.deepEqual([attrs.status, attrs.param], [400, 'attributes.nested']);
    assert.equal((await client.vectorStores.files.list(vs.id)).data.length, 0, 'no file was attached by a refused request');
    assert.equal((await status(client.vectorStores.search(vs.id, { query: 'x', max_num_results: 51 }))).status, 400);
    assert.equal((await status(client.vectorStores.search(vs.id, { query: '' }))).status, 400);
    const filter = await status(client.vectorStores.search(vs.id, { query: 'x', filters: { type: 'near', key: 'a', value: 1 } as any }));
    assert.deepEqual([filter.status, filter.param], [400, 'filters.type']);
    assert.equal((await status(client.vectorStores.retrieve('vs_00000000000000000000000000000000'))).status, 404);
    assert.equal((await status(client.vectorStores.retrieve('nope'))).status, 400);
    assert.equal((await status(client.vectorStores.fileBatches.retrieve('vsfb_0000', { vector_store_id: vs.id }))).status, 404);
    assert.equal((await status(client.vectorStores.files.retrieve(txt.id, { vector_store_id: vs.id }))).status, 404);
  });
});

describe('vector store ingestion', () => {
  it('survives a restart: files queued by an instance that stops are ingested by the next', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'respd-vs-restart-'));
    try {
      const first = await startServer({ dataDir, env: { INGEST_WORKERS: '0' } });
      const client = first.client();
      const f = await upload(client, 'q.md', 'Queued before the restart: jet engine inlets.');
      const vs = await client.vectorStores.create({ file_ids: [f.id] });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await client.vectorStores.retrieve(vs.id)).status, 'in_progress', 'nothing ingests on an instance with INGEST_WORKERS=0');
      await first.stop();
      const second = await startServer({ dataDir });
      try {
        const done = await settled(second.client(), vs.id);
        assert.equal(done.file_counts.completed, 1);
        assert.equal((await second.client().vectorStores.search(vs.id, { query: 'inlets' })).data[0]?.file_id, f.id);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await dropBackends(dataDir);
    }
  });
});
