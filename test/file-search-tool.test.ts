// The file_search tool in /responses: offered to the model, run by the server over vector stores, a
// file_search_call item (results only with include=file_search_call.results), its events, and
// file_citation annotations on the message that uses the results. The model's decisions come from
// the mock upstream's `mock-script` model (the tiny embedded model cannot decide to call tools).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { startMockUpstream, type ScriptSpec } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;
let client: OpenAI;
let vsId: string;
const files: Record<string, string> = {};

let nonce = 0;
const script = (spec: ScriptSpec) => JSON.stringify({ ...spec, nonce: nonce++ });
const search = (queries: string[]) => ({ name: 'file_search', arguments: JSON.stringify({ queries }) });

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
  client = server.client();
  const docs: Record<string, [string, Record<string, string | number>]> = {
    'flutter.md': ['Panel flutter of thin plates at supersonic speeds is damped by aerodynamic forces.', { year: 1958 }],
    'heating.txt': ['Stagnation point heating of blunt bodies in hypersonic flow.', { year: 1962 }],
    'buckling.txt': ['Buckling of cylindrical shells under axial compression.', { year: 1965 }],
  };
  const vs = await client.vectorStores.create({ name: 'aero' });
  vsId = vs.id;
  for (const [name, [text, attributes]] of Object.entries(docs)) {
    const f = await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
    files[name] = f.id;
    await client.vectorStores.files.create(vs.id, { file_id: f.id, attributes });
  }
  for (let i = 0; (await client.vectorStores.retrieve(vs.id)).file_counts.completed < 3; i++) {
    assert.ok(i < 300, 'ingestion finished');
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('file_search tool', () => {
  it('runs the search, hides results unless included, and cites the file in the answer', async () => {
    const tools = [{ type: 'file_search' as const, vector_store_ids: [vsId] }];
    const r = await client.responses.create({ model: 'openai:mock-script', input: script({ calls: [search(['supersonic panel flutter'])], answer: 'found' }), tools });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.output.map((i) => i.type), ['file_search_call', 'message']);
    const call = r.output[0] as OpenAI.Responses.ResponseFileSearchToolCall;
    assert.match(call.id, /^fs_/);
    assert.equal(call.status, 'completed');
    assert.deepEqual(call.queries, ['supersonic panel flutter']);
    assert.equal(call.results ?? null, null, 'results only with include=file_search_call.results');
    const offered = upstream.requests.at(-1)!.body.tools.map((t: any) => t.function.name);
    assert.deepEqual(offered, ['file_search'], 'the model is offered file_search as a function');

    const msg = r.output[1] as OpenAI.Responses.ResponseOutputMessage;
    const part = msg.content[0] as OpenAI.Responses.ResponseOutputText;
    assert.match(part.text, /flutter\.md/, 'the model read the passages with their file names');
    const cite = part.annotations.find((a) => a.type === 'file_citation') as OpenAI.Responses.ResponseOutputText.FileCitation | undefined;
    assert.ok(cite, 'the message cites the file it used');
    assert.equal(cite.file_id, files['flutter.md']);
    assert.equal(cite.filename, 'flutter.md');
    assert.equal(part.text.slice(cite.index - 'flutter.md'.length, cite.index), 'flutter.md');

    const withResults = await client.responses.retrieve(r.id, { include: ['file_search_call.results'] });
    const results = (withResults.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).results!;
    assert.equal(results[0]!.file_id, files['flutter.md']);
    assert.equal(results[0]!.filename, 'flutter.md');
    assert.deepEqual(results[0]!.attributes, { year: 1958 });
    assert.match(results[0]!.text!, /Panel flutter/);
    assert.ok(results[0]!.score! > 0 && results[0]!.score! < 1);
    const plain = await client.responses.retrieve(r.id);
    assert.equal((plain.output[0] as any).results, null);
  });

  it('streams in_progress, searching, completed and the annotation', async () => {
    const res = await server.fetch('/responses', {
      method: 'POST',
      body: JSON.stringify({
        model: 'openai:mock-script', stream: true, include: ['file_search_call.results'],
        input: script({ calls: [search(['hypersonic heating'])], answer: 'found' }),
        tools: [{ type: 'file_search', vector_store_ids: [vsId], max_num_results: 1 }],
      }),
    });
    const evs = await readSse(res);
    const types = evs.map((e) => e.event);
    const order = ['response.file_search_call.in_progress', 'response.file_search_call.searching', 'response.file_search_call.completed', 'response.output_text.annotation.added'];
    const at = order.map((t) => types.indexOf(t));
    assert.ok(at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1]!)), `events in order: ${types.join(', ')}`);
    const done = evs.find((e) => e.event === 'response.output_item.done' && e.data.item.type === 'file_search_call')!;
    assert.equal(done.data.item.results.length, 1, 'max_num_results applies; results included on request');
    assert.equal(done.data.item.results[0].file_id, files['heating.txt']);
    const ann = evs.find((e) => e.event === 'response.output_text.annotation.added')!;
    assert.equal(ann.data.annotation.file_id, files['heating.txt']);

    const hidden = await readSse(await server.fetch('/responses', {
      method: 'POST',
      body: JSON.stringify({ model: 'openai:mock-script', stream: true, input: script({ calls: [search(['heating'])] }), tools: [{ type: 'file_search', vector_store_ids: [vsId] }] }),
    }));
    for (const e of hidden) {
      const item = e.data.item ?? e.data.response?.output?.find((i: any) => i.type === 'file_search_call');
      if (item?.type === 'file_search_call') assert.equal(item.results, null, `${e.event} carries no results`);
    }
    // Replayed from the store: results are hidden there too, and given with the include.
    const id = hidden[0].data.response.id;
    for (const [query, want] of [['', null], ['&include[]=file_search_call.results', 'array']] as const) {
      const replay = await readSse(await server.fetch(`/responses/${id}?stream=true&starting_after=0${query}`));
      const done = replay.find((e) => e.event === 'response.output_item.done' && e.data.item.type === 'file_search_call')!;
      assert.equal(want === null ? done.data.item.results : typeof done.data.item.results?.length, want === null ? null : 'number');
    }
  });

  it('applies the tool\'s filters', async () => {
    const r = await client.responses.create({
      model: 'openai:mock-script', include: ['file_search_call.results'], input: script({ calls: [search(['flutter heating buckling'])] }),
      tools: [{ type: 'file_search', vector_store_ids: [vsId], filters: { type: 'gte', key: 'year', value: 1960 } }],
    });
    const ids = ((r.output[0] as any).results as any[]).map((x) => x.file_id).sort();
    assert.deepEqual(ids, [files['heating.txt'], files['buckling.txt']].sort());
  });

  it('refuses stores of another owner and bad tool shapes with a 400/404 before running', async () => {
    const requests = upstream.requests.length;
    const other = server.client(undefined, 'mallory');
    const foreign = await other.responses.create({ model: 'openai:mock-script', input: 'hi', tools: [{ type: 'file_search', vector_store_ids: [vsId] }] }).catch((e) => e);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.error.param, 'tools[0].vector_store_ids[0]');
    for (const [tool, param] of [
      [{ type: 'file_search', vector_store_ids: [] }, 'tools[0].vector_store_ids'],
      [{ type: 'file_search', vector_store_ids: [vsId], max_num_results: 51 }, 'tools[0].max_num_results'],
      [{ type: 'file_search', vector_store_ids: [vsId], filters: { type: 'near', key: 'a', value: 1 } }, 'tools[0].filters.type'],
      [{ type: 'file_search', vector_store_ids: ['vs_00000000000000000000000000000000'] }, 'tools[0].vector_store_ids[0]'],
    ] as const) {
      const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-script', input: 'hi', tools: [tool] }) });
      assert.ok(res.status === 400 || res.status === 404, `${JSON.stringify(tool)}: ${res.status}`);
      assert.equal((await res.json()).error.param, param);
    }
    assert.equal(upstream.requests.length, requests, 'no model call was made');
  });
});
