// The Responses API core over HTTP with the official `openai` client: create (blocking, stream,
// background), retrieve (JSON and SSE, resume), cancel, delete, list, input items, update, chains.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  upstream = await startMockUpstream({ text: { chunks: 10, chunkSize: 8, delayMs: 0 } });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

function assertGapFree(events: Array<{ sequence_number: number }>, from = 0) {
  events.forEach((e, i) => assert.equal(e.sequence_number, from + i, `sequence gap at index ${i}`));
}

describe('create', () => {
  it('blocking create with the embedded model returns a completed response with text and usage', async () => {
    const r = await server.client().responses.create({ model: 'auto', input: 'Once upon a time', max_output_tokens: 24 });
    assert.match(r.id, /^resp_[0-9a-f]{32}$/);
    assert.ok(['completed', 'incomplete'].includes(r.status!));
    assert.equal(r.object, 'response');
    assert.equal(r.model, 'auto');
    assert.ok(r.output_text.length > 0, 'has output text');
    assert.ok(r.usage!.input_tokens > 0 && r.usage!.output_tokens > 0);
    assert.equal(r.usage!.total_tokens, r.usage!.input_tokens + r.usage!.output_tokens);
    assert.equal((r as any).max_tool_calls, 30);
    assert.equal(typeof r.completed_at, 'number');
    const msg = r.output[0] as any;
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.content[0].type, 'output_text');
  });

  it('ids start with their creation time, so later responses sort after earlier ones', async () => {
    const c = server.client();
    const before = Date.now();
    const a = await c.responses.create({ model: 'openai:mock-text', input: 'a', store: false });
    await new Promise((r) => setTimeout(r, 5));
    const b = await c.responses.create({ model: 'openai:mock-text', input: 'b', store: false });
    for (const r of [a, b]) assert.match(r.id, /^resp_[0-9a-f]{32}$/);
    assert.ok(b.id > a.id, `${b.id} sorts after ${a.id}`);
    const ms = parseInt(a.id.slice(5, 17), 16);
    assert.ok(ms >= before - 1000 && ms <= Date.now() + 1000, `time part ${ms} near ${before}`);
    assert.notEqual(a.id.slice(17), b.id.slice(17), 'random part differs');
  });

  it('max_output_tokens reached gives status incomplete with reason max_output_tokens', async () => {
    const r = await server.client().responses.create({ model: 'auto', input: 'Once upon a time', max_output_tokens: 3 });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.ok(r.usage!.output_tokens <= 3);
  });

  it('echoes request fields', async () => {
    const r = await server.client().responses.create({
      model: 'openai:mock-text', input: 'hi', instructions: 'Be brief.', metadata: { a: '1' }, temperature: 0.5, top_p: 0.9,
      user: 'u1', safety_identifier: 'sid', prompt_cache_key: 'pck', service_tier: 'default', parallel_tool_calls: false,
      reasoning: { effort: 'low' }, truncation: 'disabled', text: { format: { type: 'text' }, verbosity: 'low' },
    });
    assert.equal(r.instructions, 'Be brief.');
    assert.deepEqual(r.metadata, { a: '1' });
    assert.equal(r.temperature, 0.5);
    assert.equal(r.top_p, 0.9);
    assert.equal(r.user, 'u1');
    assert.equal(r.safety_identifier, 'sid');
    assert.equal(r.prompt_cache_key, 'pck');
    assert.equal(r.service_tier, 'default');
    assert.equal(r.parallel_tool_calls, false);
    assert.equal(r.reasoning!.effort, 'low');
    assert.equal(r.truncation, 'disabled');
    assert.equal(r.text!.verbosity, 'low');
    assert.equal(r.output_text, 'x'.repeat(0) + r.output_text);
  });

  it('streams OpenAI events with gap-free sequence numbers and SSE framing', async () => {
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'auto', input: 'Once', stream: true, max_output_tokens: 16 }) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const events = await readSse(res);
    const types = events.map((e) => e.event);
    assert.equal(types[0], 'response.created');
    assert.equal(types[1], 'response.in_progress');
    assert.ok(types.includes('response.output_item.added'));
    assert.ok(types.includes('response.content_part.added'));
    assert.ok(types.includes('response.output_text.delta'));
    assert.ok(types.includes('response.output_text.done'));
    assert.ok(types.includes('response.output_item.done'));
    assert.ok(['response.completed', 'response.incomplete'].includes(types[types.length - 1]!));
    for (const e of events) assert.equal(e.event, e.data.type);
    for (const e of events) assert.equal(e.id, String(e.data.sequence_number));
    assertGapFree(events.map((e) => e.data));
    const deltas = events.filter((e) => e.event === 'response.output_text.delta');
    assert.ok(deltas.every((d) => typeof d.data.obfuscation === 'string'), 'obfuscation on by default on create');
    const final = events[events.length - 1].data.response;
    assert.equal(final.output_text, deltas.map((d) => d.data.delta).join(''));
  });

  it('stream_options.include_obfuscation=false removes the padding', async () => {
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x', stream: true, stream_options: { include_obfuscation: false } }) });
    const events = await readSse(res);
    const deltas = events.filter((e) => e.event === 'response.output_text.delta');
    assert.ok(deltas.length > 0);
    assert.ok(deltas.every((d) => d.data.obfuscation === undefined));
  });

  it('the openai client stream helper iterates the events', async () => {
    const stream = await server.client().responses.create({ model: 'openai:mock-text', input: 'hello', stream: true });
    const seen: string[] = [];
    for await (const ev of stream) seen.push(ev.type);
    assert.equal(seen[0], 'response.created');
    assert.equal(seen[seen.length - 1], 'response.completed');
  });

  it('store:false responses are not retrievable and cannot be chained', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-text', input: 'x', store: false });
    assert.equal(r.status, 'completed');
    assert.equal((r as any).store, false);
    await assert.rejects(c.responses.retrieve(r.id), (e: any) => e.status === 404);
    await assert.rejects(c.responses.create({ model: 'openai:mock-text', input: 'y', previous_response_id: r.id }), (e: any) => e.status === 400 && e.param === 'previous_response_id');
    const list = await server.fetch('/responses?limit=100').then((x) => x.json());
    assert.ok(!list.data.some((x: any) => x.id === r.id));
  });

  it('background requires store', async () => {
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'auto', input: 'x', background: true, store: false }) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'background');
  });
});

describe('background, retrieve and resume', () => {
  it('background returns queued at once and completes; polling sees the final state', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-slow', input: 'go', background: true });
    assert.equal(r.status, 'queued');
    assert.equal(r.background, true);
    let cur = r;
    for (let i = 0; i < 100 && ['queued', 'in_progress'].includes(cur.status!); i++) {
      await new Promise((res) => setTimeout(res, 50));
      cur = await c.responses.retrieve(r.id);
    }
    assert.equal(cur.status, 'completed');
    assert.ok(cur.output_text.length > 0);
  });

  it('retrieve of a finished response answers with it as created, as JSON, whatever its fields hold', async () => {
    const c = server.client();
    // A metadata key named like the field the include filter strips, and a value that looks like it.
    const metadata = { logprobs: 'kept', note: 'a "logprobs":[{ b' };
    const r = await c.responses.create({ model: 'openai:mock-text', input: 'x', metadata });
    // Read until the stored copy answers (the first reads may still find the live one): both must agree.
    for (let i = 0; i < 3; i++) {
      const res = await server.fetch(`/responses/${r.id}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await res.json(), JSON.parse(JSON.stringify(r)));
      await new Promise((done) => setTimeout(done, 50));
    }
    assert.deepEqual((await c.responses.retrieve(r.id, { include: ['message.output_text.logprobs'] })).metadata, metadata);
  });

  it('retrieve stream of a finished response sends only its terminal event', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-text', input: 'x' });
    const events = await readSse(await server.fetch(`/responses/${r.id}?stream=true`));
    assert.equal(events.length, 1);
    assert.equal(events[0].event, 'response.completed');
    assert.equal(events[0].data.response.id, r.id);
  });

  it('resume from starting_after mid-stream gives exactly the missing events while generation continues', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-slow', input: 'go', background: true });
    // Read the first few events live, then drop the connection.
    const first = await readSse(await server.fetch(`/responses/${r.id}?stream=true`), (e) => e.data.sequence_number < 5);
    const last = first[first.length - 1].data.sequence_number;
    assert.equal(last, 5);
    const rest = await readSse(await server.fetch(`/responses/${r.id}?stream=true&starting_after=${last}`));
    const all = [...first.map((e) => e.data), ...rest.map((e) => e.data)];
    assertGapFree(all);
    assert.equal(rest[rest.length - 1].event, 'response.completed');
    // A full replay from the store matches what the two live reads delivered.
    const replay = await readSse(await server.fetch(`/responses/${r.id}?stream=true&starting_after=-1`));
    assert.deepEqual(replay.map((e) => e.data), all);
  });

  it('concurrent readers of one live response get identical sequences', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-slow', input: 'go', background: true });
    const readers = await Promise.all([0, 1, 2, 3].map(() => server.fetch(`/responses/${r.id}?stream=true&starting_after=-1`).then((res) => readSse(res))));
    const ref = JSON.stringify(readers[0].map((e) => e.data));
    for (const rd of readers) assert.equal(JSON.stringify(rd.map((e) => e.data)), ref);
    assertGapFree(readers[0].map((e) => e.data));
  });

  it('retrieve with include_obfuscation=true pads deltas; default does not', async () => {
    const r = await server.client().responses.create({ model: 'openai:mock-text', input: 'x' });
    const plain = await readSse(await server.fetch(`/responses/${r.id}?stream=true&starting_after=-1`));
    assert.ok(plain.filter((e) => e.event === 'response.output_text.delta').every((e) => e.data.obfuscation === undefined));
    const padded = await readSse(await server.fetch(`/responses/${r.id}?stream=true&starting_after=-1&include_obfuscation=true`));
    const deltas = padded.filter((e) => e.event === 'response.output_text.delta');
    assert.ok(deltas.length > 0 && deltas.every((e) => typeof e.data.obfuscation === 'string'));
  });

  it('the openai client retrieve with stream and starting_after works', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-text', input: 'x' });
    const s = await c.responses.retrieve(r.id, { stream: true, starting_after: 2 });
    const seqs: number[] = [];
    for await (const ev of s) seqs.push(ev.sequence_number);
    assert.equal(seqs[0], 3);
    assertGapFree(seqs.map((n) => ({ sequence_number: n })), 3);
  });
});

describe('cancel and delete', () => {
  it('cancels a running background response within 1 s and every open stream gets the terminal event', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-slow', input: 'go', background: true });
    const streamP = server.fetch(`/responses/${r.id}?stream=true&starting_after=-1`).then((res) => readSse(res));
    await new Promise((res) => setTimeout(res, 200));
    const t0 = Date.now();
    const cancelled = await c.responses.cancel(r.id);
    assert.ok(Date.now() - t0 < 1000, 'cancel returns within 1 s');
    assert.equal(cancelled.status, 'cancelled');
    const events = await streamP;
    assert.equal(events[events.length - 1].data.response.status, 'cancelled');
    assertGapFree(events.map((e) => e.data));
    // Idempotent, and it never flips to completed later.
    const again = await c.responses.cancel(r.id);
    assert.equal(again.status, 'cancelled');
    await new Promise((res) => setTimeout(res, 1200));
    assert.equal((await c.responses.retrieve(r.id)).status, 'cancelled');
  });

  it('cancel of a non-background or finished response is a 400 naming its status', async () => {
    const c = server.client();
    const fg = await c.responses.create({ model: 'openai:mock-text', input: 'x' });
    await assert.rejects(c.responses.cancel(fg.id), (e: any) => e.status === 400);
    const bg = await c.responses.create({ model: 'openai:mock-text', input: 'x', background: true });
    for (let i = 0; i < 50 && (await c.responses.retrieve(bg.id)).status !== 'completed'; i++) await new Promise((res) => setTimeout(res, 20));
    await assert.rejects(c.responses.cancel(bg.id), (e: any) => e.status === 400 && /completed/.test(e.message));
  });

  it('delete removes the response, its events and input items', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-text', input: 'x' });
    const del = await server.fetch(`/responses/${r.id}`, { method: 'DELETE' });
    assert.deepEqual(await del.json(), { id: r.id, object: 'response', deleted: true });
    await assert.rejects(c.responses.retrieve(r.id), (e: any) => e.status === 404);
    assert.equal((await server.fetch(`/responses/${r.id}/input_items`)).status, 404);
    assert.equal((await server.fetch(`/responses/${r.id}?stream=true`)).status, 404);
  });

  it('deleting an in-progress response cancels it first', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-slow', input: 'go', background: true });
    await new Promise((res) => setTimeout(res, 100));
    const del = await server.fetch(`/responses/${r.id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await assert.rejects(c.responses.retrieve(r.id), (e: any) => e.status === 404);
  });
});

describe('list, input items, update, chains', () => {
  it('input_items lists stored items with pagination', async () => {
    const c = server.client();
    const r = await c.responses.create({
      model: 'openai:mock-text',
      input: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: [{ type: 'input_text', text: 'three' }] },
      ],
    });
    const all = await c.responses.inputItems.list(r.id, { order: 'asc' });
    assert.equal(all.data.length, 3);
    assert.deepEqual(all.data.map((i: any) => i.content[0].text), ['one', 'two', 'three']);
    const desc = await server.fetch(`/responses/${r.id}/input_items?limit=2`).then((x) => x.json());
    assert.equal(desc.object, 'list');
    assert.equal(desc.data.length, 2);
    assert.equal(desc.has_more, true);
    assert.equal(desc.data[0].content[0].text, 'three');
    const next = await server.fetch(`/responses/${r.id}/input_items?limit=2&after=${desc.last_id}`).then((x) => x.json());
    assert.equal(next.data.length, 1);
    assert.equal(next.has_more, false);
  });

  it('a streamed response is readable at once: input_items and retrieve before its first commit, list after', async () => {
    const c = server.client();
    const stream = await c.responses.create({ model: 'openai:mock-slow', input: [{ role: 'user', content: 'alpha' }, { role: 'user', content: 'beta' }], stream: true });
    let id = '';
    let last = '';
    for await (const ev of stream) {
      last = ev.type;
      if (ev.type !== 'response.created') continue;
      // Single instance: the first group commit is up to COMMIT_INTERVAL_MS away; nothing waits for it.
      id = ev.response.id;
      const items = await c.responses.inputItems.list(id, { order: 'asc' });
      assert.deepEqual(items.data.map((i: any) => i.content[0].text), ['alpha', 'beta']);
      assert.equal(items.has_more, false);
      const page = await server.fetch(`/responses/${id}/input_items?limit=1`).then((x) => x.json());
      assert.equal(page.data[0].content[0].text, 'beta');
      assert.equal(page.has_more, true);
      assert.ok(['queued', 'in_progress'].includes((await c.responses.retrieve(id)).status!));
    }
    assert.equal(last, 'response.completed');
    const listed = await server.fetch('/responses?limit=5').then((x) => x.json());
    assert.ok(listed.data.some((r: any) => r.id === id), 'listed once it has ended');
    assert.deepEqual((await c.responses.inputItems.list(id, { order: 'asc' })).data.map((i: any) => i.content[0].text), ['alpha', 'beta']);
  });

  it('a stream\'s response is retrievable the moment its terminal event arrives (its first commit may be under way)', async () => {
    // A short stream is first committed with its terminal event; a retrieve sent on that event races the
    // commit. On PostgreSQL the read can start before the commit and end after it: still found.
    for (let i = 0; i < 40; i++) {
      const evs = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: `race ${i}`, stream: true }) }));
      const done = evs[evs.length - 1].data.response;
      assert.equal(done.status, 'completed');
      const [json, items] = await Promise.all([server.fetch(`/responses/${done.id}`), server.fetch(`/responses/${done.id}/input_items`)]);
      assert.equal(json.status, 200, `retrieve ${i}: ${json.status}`);
      assert.deepEqual((await json.json()).output, done.output);
      assert.equal(items.status, 200, `input_items ${i}: ${items.status}`);
    }
  });

  it('list pages through the caller\'s responses', async () => {
    const c = server.client('test-key-bravo', 'lister');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await c.responses.create({ model: 'openai:mock-text', input: `n${i}` })).id);
    const page1 = await server.fetch('/responses?limit=2', { key: 'test-key-bravo', endUser: 'lister' }).then((x) => x.json());
    assert.deepEqual(page1.data.map((r: any) => r.id), [ids[2], ids[1]]);
    assert.equal(page1.has_more, true);
    const page2 = await server.fetch(`/responses?limit=2&after=${page1.last_id}`, { key: 'test-key-bravo', endUser: 'lister' }).then((x) => x.json());
    assert.deepEqual(page2.data.map((r: any) => r.id), [ids[0]]);
    const asc = await server.fetch('/responses?order=asc', { key: 'test-key-bravo', endUser: 'lister' }).then((x) => x.json());
    assert.deepEqual(asc.data.map((r: any) => r.id), ids);
    const before = await server.fetch(`/responses?order=asc&before=${ids[2]}`, { key: 'test-key-bravo', endUser: 'lister' }).then((x) => x.json());
    assert.deepEqual(before.data.map((r: any) => r.id), ids.slice(0, 2));
  });

  it('update sets metadata and validates limits', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-text', input: 'x' });
    const upd = await server.fetch(`/responses/${r.id}`, { method: 'POST', body: JSON.stringify({ metadata: { status: 'reviewed' } }) }).then((x) => x.json());
    assert.deepEqual(upd.metadata, { status: 'reviewed' });
    assert.deepEqual((await c.responses.retrieve(r.id)).metadata, { status: 'reviewed' });
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    for (const metadata of [tooMany, { ['k'.repeat(65)]: 'v' }, { k: 'v'.repeat(513) }, { k: 1 }]) {
      const res = await server.fetch(`/responses/${r.id}`, { method: 'POST', body: JSON.stringify({ metadata }) });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error.param, /^metadata/);
    }
  });

  it('updated metadata is what every read shows: JSON, list, the stream\'s lifecycle events, during and after the run', async () => {
    const c = server.client();
    const lifecycle = (events: Array<{ data: any }>) => events.filter((e) => e.data.response).map((e) => e.data.response.metadata);
    // After the run (stored): the terminal event and a full replay agree with JSON and list.
    const done = await c.responses.create({ model: 'openai:mock-text', input: 'x', metadata: { v: '1' } });
    await server.fetch(`/responses/${done.id}`, { method: 'POST', body: JSON.stringify({ metadata: { v: '2' } }) });
    assert.deepEqual((await c.responses.retrieve(done.id)).metadata, { v: '2' });
    const terminal = await readSse(await server.fetch(`/responses/${done.id}?stream=true`));
    assert.deepEqual(lifecycle(terminal), [{ v: '2' }]);
    const replay = await readSse(await server.fetch(`/responses/${done.id}?stream=true&starting_after=-1`));
    assert.deepEqual(lifecycle(replay), [{ v: '2' }, { v: '2' }, { v: '2' }]);
    const listed = (await server.fetch('/responses?limit=20').then((r) => r.json())) as { data: Array<{ id: string; metadata: unknown }> };
    assert.deepEqual(listed.data.find((r) => r.id === done.id)?.metadata, { v: '2' });

    // During the run: an update lands in the events still to come and in every reader's earlier ones.
    const bg = await c.responses.create({ model: 'openai:mock-slow', input: 'go', background: true, metadata: { v: '1' } });
    const live = readSse(await server.fetch(`/responses/${bg.id}?stream=true&starting_after=-1`));
    await new Promise((r) => setTimeout(r, 100));
    const upd = await server.fetch(`/responses/${bg.id}`, { method: 'POST', body: JSON.stringify({ metadata: { v: '3' } }) });
    assert.equal(upd.status, 200);
    const seen = await live;
    assert.equal(seen[seen.length - 1].event, 'response.completed');
    assert.deepEqual(lifecycle(seen).at(-1), { v: '3' });
    assert.deepEqual((await c.responses.retrieve(bg.id)).metadata, { v: '3' });
    const after = await readSse(await server.fetch(`/responses/${bg.id}?stream=true&starting_after=-1`));
    assert.ok(lifecycle(after).every((m) => JSON.stringify(m) === '{"v":"3"}'), JSON.stringify(lifecycle(after)));
  });

  it('previous_response_id: the model sees earlier inputs and outputs, not earlier instructions', async () => {
    const c = server.client();
    const first = await c.responses.create({ model: 'openai:mock-echo', input: 'first question', instructions: 'OLD INSTRUCTIONS' });
    await c.responses.create({ model: 'openai:mock-echo', input: 'second question', previous_response_id: first.id, instructions: 'NEW' });
    const sent = upstream.lastChat().body;
    const contents = sent.messages.map((m: any) => `${m.role}:${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`);
    assert.deepEqual(contents, ['system:NEW', 'user:first question', `assistant:${first.output_text}`, 'user:second question']);
  });

  it('a blocking response asks the upstream for one non-streamed completion; streams and background ones stream', async () => {
    const c = server.client();
    const last = () => upstream.lastChat().body;
    const streamed = await c.responses.create({ model: 'openai:mock-text', input: 'hi', stream: true });
    let streamedId = '';
    let deltas = 0;
    for await (const ev of streamed) {
      if (ev.type === 'response.output_text.delta') deltas++;
      if (ev.type === 'response.completed') streamedId = ev.response.id;
    }
    assert.ok(deltas > 1, `deltas=${deltas}`);
    assert.equal(last().stream, true, 'a stream stays a stream');
    const reference = await c.responses.retrieve(streamedId);

    for (const store of [true, false]) {
      const r = await c.responses.create({ model: 'openai:mock-text', input: 'hi', store });
      assert.equal(last().stream, undefined, `store:${store}: one non-streamed completion`);
      assert.equal(r.status, 'completed');
      assert.equal(r.output_text, reference.output_text);
      assert.equal(r.usage?.output_tokens, reference.usage?.output_tokens);
      assert.deepEqual(r.output.map((o) => o.type), ['message']);
      if (!store) continue;
      // Stored, it replays as a complete, gap-free event sequence (with one delta for the whole text).
      const replay = await readSse(await server.fetch(`/responses/${r.id}?stream=true&starting_after=-1`));
      replay.forEach((e, i) => assert.equal(e.data.sequence_number, i));
      const textDeltas = replay.filter((e) => e.event === 'response.output_text.delta');
      assert.equal(textDeltas.length, 1);
      assert.equal(textDeltas[0].data.delta, reference.output_text);
      assert.deepEqual(replay.map((e) => e.event).slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    }

    // Function calls come back whole, as from a streamed turn.
    const tools = [{ type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city', 'unit'], additionalProperties: false }, strict: true }];
    const call = await c.responses.create({ model: 'openai:mock-tool', input: 'weather?', store: false, tools });
    const fc = call.output.find((o) => o.type === 'function_call');
    assert.ok(fc && fc.type === 'function_call');
    assert.deepEqual(JSON.parse(fc.arguments), { city: 'Paris', unit: 'celsius' });

    // A background response can be followed live: it streams.
    const bg = await c.responses.create({ model: 'openai:mock-text', input: 'hi', background: true });
    let done = await c.responses.retrieve(bg.id);
    for (let i = 0; i < 100 && !['completed', 'failed'].includes(done.status!); i++) {
      await new Promise((r) => setTimeout(r, 20));
      done = await c.responses.retrieve(bg.id);
    }
    assert.equal(done.status, 'completed');
    assert.equal(last().stream, true, 'a background response streams');
  });

  it('unknown previous_response_id is a 400 naming the param', async () => {
    const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'auto', input: 'x', previous_response_id: 'resp_doesnotexist' }) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'previous_response_id');
  });

  it('input images are refused by a text-only model, naming input', async () => {
    const res = await server.fetch('/responses', {
      method: 'POST',
      body: JSON.stringify({ model: 'auto', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] }] }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'input');
  });

  it('image URLs in input items only with include=message.input_image.image_url', async () => {
    const c = server.client();
    const r = await c.responses.create({ model: 'openai:mock-text', input: [{ role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' }] }] });
    const plain = await server.fetch(`/responses/${r.id}/input_items`).then((x) => x.json());
    assert.equal(plain.data[0].content[1].image_url, null);
    const withUrl = await server.fetch(`/responses/${r.id}/input_items?include[]=message.input_image.image_url`).then((x) => x.json());
    assert.equal(withUrl.data[0].content[1].image_url, 'https://example.com/a.png');
  });
});
