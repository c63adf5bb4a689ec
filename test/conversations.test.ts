// Conversations, responses on a conversation, truncation and compaction over HTTP with the official
// `openai` client (raw fetch only where the client has no method: list conversations, bulk item delete).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMockUpstream } from './support/mock-upstream.js';
import { KEY_A, KEY_B, startServer, type TestServer } from './support/server.js';
import { status } from './support/api-status.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  upstream = await startMockUpstream({ text: { chunks: 4, chunkSize: 8, delayMs: 0 } });
  // A tiny window for the embedded engine, so a modest history overflows it (truncation tests).
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, LLAMA_CONTEXT_SIZE: '256' } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

const msg = (role: 'user' | 'assistant', content: string) => ({ type: 'message' as const, role, content });
const text = (it: any): string => (typeof it.content === 'string' ? it.content : (it.content ?? []).map((p: any) => p.text ?? '').join(''));

async function allItems(client: OpenAI, id: string): Promise<any[]> {
  const out: any[] = [];
  for await (const it of client.conversations.items.list(id, { limit: 3 })) out.push(it);
  return out;
}


async function list(query: string, key = KEY_A, endUser?: string): Promise<any> {
  const res = await server.fetch(`/conversations${query}`, { key, endUser });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

describe('conversations CRUD with the openai client', () => {
  it('create, retrieve, update, items create/list/retrieve/delete, bulk delete, delete', async () => {
    const client = server.client();
    const conv = await client.conversations.create({ items: [msg('user', 'Hello there'), msg('assistant', 'Hi!')], metadata: { topic: 'greeting' } });
    assert.match(conv.id, /^conv_[0-9a-f]{32}$/);
    assert.equal(conv.object, 'conversation');
    assert.equal(typeof conv.created_at, 'number');
    assert.deepEqual(conv.metadata, { topic: 'greeting' });
    assert.deepEqual(await client.conversations.retrieve(conv.id), conv);

    const updated = await client.conversations.update(conv.id, { metadata: { topic: 'updated', x: '1' } });
    assert.deepEqual(updated.metadata, { topic: 'updated', x: '1' });
    assert.deepEqual((await client.conversations.retrieve(conv.id)).metadata, { topic: 'updated', x: '1' });

    const added = await client.conversations.items.create(conv.id, { items: [msg('user', 'one'), msg('user', 'two'), msg('user', 'three')] });
    assert.equal(added.object, 'list');
    assert.equal(added.data.length, 3);
    assert.equal(added.first_id, added.data[0].id);

    const items = await allItems(client, conv.id); // pages of 3, followed through `after`
    assert.deepEqual(items.map(text), ['Hello there', 'Hi!', 'one', 'two', 'three']);
    assert.ok(items.every((it) => it.type === 'message' && it.response_id === null && /^msg_/.test(it.id)));
    const desc = await client.conversations.items.list(conv.id, { order: 'desc', limit: 2 });
    assert.deepEqual(desc.data.map(text), ['three', 'two']);
    assert.equal(desc.has_more, true);

    const one = await client.conversations.items.retrieve(items[2].id, { conversation_id: conv.id });
    assert.equal(text(one), 'one');
    const afterDelete = await client.conversations.items.delete(items[2].id, { conversation_id: conv.id });
    assert.equal(afterDelete.id, conv.id);
    assert.equal((afterDelete.metadata as any).last_removed_item_id, items[2].id);
    assert.deepEqual((await status(client.conversations.items.retrieve(items[2].id, { conversation_id: conv.id }))).status, 404);

    // Bulk delete: all or nothing.
    const bad = await server.fetch(`/conversations/${conv.id}/items`, { method: 'DELETE', body: JSON.stringify({ item_ids: [items[3].id, 'msg_nope'] }) });
    assert.equal(bad.status, 404);
    const bulk = await server.fetch(`/conversations/${conv.id}/items`, { method: 'DELETE', body: JSON.stringify({ item_ids: [items[3].id, items[4].id] }) });
    assert.equal(bulk.status, 200);
    assert.equal((await bulk.json()).metadata.last_removed_item_id, items[4].id);
    assert.deepEqual((await allItems(client, conv.id)).map(text), ['Hello there', 'Hi!']);

    assert.deepEqual(await client.conversations.delete(conv.id), { id: conv.id, object: 'conversation.deleted', deleted: true });
    assert.equal((await status(client.conversations.retrieve(conv.id))).status, 404);
  });

  it('validates: item count, item shapes, metadata limits (responses too)', async () => {
    const client = server.client();
    const many = Array.from({ length: 21 }, (_, i) => msg('user', `m${i}`));
    assert.equal((await status(client.conversations.create({ items: many }))).status, 400);
    const conv = await client.conversations.create({});
    assert.equal((await status(client.conversations.items.create(conv.id, { items: [] }))).status, 400);
    assert.deepEqual(await status(client.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'robot', content: 'x' } as any] })),
      { status: 400, param: 'items[0].role', code: 'invalid_value' });
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    for (const metadata of [tooMany, { ['k'.repeat(65)]: 'v' }, { k: 'v'.repeat(513) }]) {
      for (const call of [
        () => client.conversations.create({ metadata }),
        () => client.conversations.update(conv.id, { metadata }),
        () => client.responses.create({ model: 'openai:mock-text', input: 'hi', metadata }),
      ]) {
        const r = await status(call());
        assert.equal(r.status, 400);
        assert.match(r.param!, /^metadata/);
      }
    }
    const ok = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`.padEnd(64, 'x'), 'v'.repeat(512)]));
    assert.equal(Object.keys((await client.conversations.create({ metadata: ok })).metadata as object).length, 16);
  });

  it('lists by last update with pagination, metadata filter and full-text search', async () => {
    const endUser = `lister-${Date.now()}`;
    const client = server.client(KEY_A, endUser);
    const c1 = await client.conversations.create({ items: [msg('user', 'The giraffe ate leaves')], metadata: { team: 'red' } });
    const c2 = await client.conversations.create({ items: [msg('user', 'Penguins swim fast')], metadata: { team: 'blue' } });
    const c3 = await client.conversations.create({ metadata: { team: 'red', tier: 'gold' } });
    await client.conversations.items.create(c1.id, { items: [msg('assistant', 'Giraffes are tall animals')] }); // c1 is now the newest

    const ids = (page: any) => page.data.map((c: any) => c.id);
    assert.deepEqual(ids(await list('', KEY_A, endUser)), [c2.id, c3.id, c1.id]);
    assert.deepEqual(ids(await list('?order=desc', KEY_A, endUser)), [c1.id, c3.id, c2.id]);
    const p1 = await list('?limit=2', KEY_A, endUser);
    assert.deepEqual([ids(p1), p1.has_more, p1.object], [[c2.id, c3.id], true, 'list']);
    const p2 = await list(`?limit=2&after=${p1.last_id}`, KEY_A, endUser);
    assert.deepEqual([ids(p2), p2.has_more], [[c1.id], false]);

    assert.deepEqual(ids(await list(`?metadata=${encodeURIComponent('{"team":"red"}')}`, KEY_A, endUser)), [c3.id, c1.id]);
    assert.deepEqual(ids(await list('?metadata[team]=red&metadata[tier]=gold', KEY_A, endUser)), [c3.id]);
    assert.deepEqual(ids(await list('?search=GIRAFFE', KEY_A, endUser)), [c1.id]);
    assert.deepEqual(ids(await list(`?search=${encodeURIComponent('tall animals')}&metadata[team]=red`, KEY_A, endUser)), [c1.id]);
    assert.deepEqual(ids(await list(`?search=${encodeURIComponent('"penguins" -swim* (')}`, KEY_A, endUser)), [c2.id]); // never FTS syntax
    assert.deepEqual(ids(await list('?search=zebra', KEY_A, endUser)), []);
    assert.equal((await server.fetch('/conversations?limit=51')).status, 400);
    assert.equal((await server.fetch('/conversations?metadata=notjson')).status, 400);
  });
});

describe('ownership', () => {
  it('keys × end users are isolated: foreign conversations are 404 everywhere and never listed', async () => {
    const tag = `iso${Date.now()}`;
    const owners = [[KEY_A, `${tag}-1`], [KEY_A, `${tag}-2`], [KEY_B, `${tag}-1`], [KEY_B, undefined]] as const;
    const convs = await Promise.all(owners.map(([k, u]) => server.client(k, u).conversations.create({ items: [msg('user', tag)] })));
    for (const [i, [k, u]] of owners.entries()) {
      const client = server.client(k, u);
      const listed = (await list(`?search=${tag}`, k, u)).data.map((c: any) => c.id);
      assert.deepEqual(listed, [convs[i].id], `owner ${i} lists only its own`);
      for (const [j, foreign] of convs.entries()) {
        if (i === j) continue;
        const id = foreign.id;
        for (const call of [
          () => client.conversations.retrieve(id),
          () => client.conversations.update(id, { metadata: { a: 'b' } }),
          () => client.conversations.items.list(id),
          () => client.conversations.items.retrieve('msg_x', { conversation_id: id }),
          () => client.conversations.items.create(id, { items: [msg('user', 'x')] }),
          () => client.conversations.items.delete('msg_x', { conversation_id: id }),
          () => client.conversations.delete(id),
        ]) assert.equal((await status(call())).status, 404);
        assert.deepEqual(await status(client.responses.create({ model: 'openai:mock-text', input: 'x', conversation: id })),
          { status: 404, param: 'conversation', code: 'not_found' });
      }
    }
    for (const [i, [k, u]] of owners.entries()) assert.equal((await allItems(server.client(k, u), convs[i].id)).length, 1, 'nothing leaked in');
  });
});

describe('responses on a conversation', () => {
  it('the model sees the items; input and output are appended on completion with response_id', async () => {
    const client = server.client();
    const conv = await client.conversations.create({ items: [msg('user', 'My name is Ada.'), msg('assistant', 'Nice to meet you, Ada.')] });
    const before = upstream.requests.length;
    const r = await client.responses.create({ model: 'openai:mock-echo', input: 'What is my name?', conversation: conv.id });
    assert.equal(r.status, 'completed');
    assert.deepEqual((r as any).conversation, { id: conv.id });
    const sent = upstream.requests.slice(before).find((q) => q.path.includes('chat/completions'))!.body.messages;
    assert.deepEqual(sent.map((m: any) => m.content), ['My name is Ada.', 'Nice to meet you, Ada.', 'What is my name?']);
    const items = await allItems(client, conv.id);
    assert.deepEqual(items.map(text), ['My name is Ada.', 'Nice to meet you, Ada.', 'What is my name?', 'What is my name?']);
    assert.deepEqual(items.map((it) => it.response_id), [null, null, r.id, r.id]);
    assert.equal(items[3].id, r.output[0].id);

    // A second turn with `{id}` sees the first turn too; a background one appends once it ends.
    const r2 = await client.responses.create({ model: 'openai:mock-slow', input: 'again', conversation: { id: conv.id }, background: true });
    assert.equal((await allItems(client, conv.id)).length, 4, 'nothing appended before the end');
    for (let s = r2.status; s === 'queued' || s === 'in_progress'; s = (await client.responses.retrieve(r2.id)).status) await new Promise((res) => setTimeout(res, 50));
    assert.equal((await allItems(client, conv.id)).length, 6);

    assert.deepEqual(await status(client.responses.create({ model: 'openai:mock-text', input: 'x', conversation: conv.id, previous_response_id: r.id })),
      { status: 400, param: 'conversation', code: 'invalid_value' });
    assert.equal((await status(client.responses.create({ model: 'openai:mock-text', input: 'x', conversation: conv.id, store: false }))).status, 400);
  });

  it('failed and cancelled responses append nothing', async () => {
    const client = server.client();
    const conv = await client.conversations.create({ items: [msg('user', 'start')] });
    const failed = await client.responses.create({ model: 'openai:mock-error-500', input: 'boom', conversation: conv.id });
    assert.equal(failed.status, 'failed');
    const bg = await client.responses.create({ model: 'openai:mock-slow', input: 'slow', conversation: conv.id, background: true });
    assert.equal((await client.responses.cancel(bg.id)).status, 'cancelled');
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual((await allItems(client, conv.id)).map(text), ['start']);
  });

  it('concurrent responses on one conversation land as contiguous blocks, none lost', async () => {
    const client = server.client();
    const conv = await client.conversations.create({ items: [msg('user', 'seed')] });
    const inputs = ['alpha', 'bravo', 'charlie'];
    const rs = await Promise.all(inputs.map((input) => client.responses.create({ model: 'openai:mock-slow', input, conversation: conv.id })));
    assert.ok(rs.every((r) => r.status === 'completed'));
    const items = await allItems(client, conv.id);
    assert.equal(items.length, 1 + 2 * inputs.length);
    const blocks = items.slice(1).map((it) => it.response_id);
    for (let i = 0; i < blocks.length; i += 2) {
      assert.equal(blocks[i], blocks[i + 1], 'a response\'s input and output are adjacent');
      const r = rs.find((x) => x.id === blocks[i])!;
      assert.equal(text(items[1 + i]), inputs[rs.indexOf(r)]);
      assert.equal(items[2 + i].id, r.output[0].id);
    }
    assert.equal(new Set(blocks).size, inputs.length);
  });
});

describe('truncation on the embedded engine (256-token window)', () => {
  it('"auto" drops the oldest items; "disabled" is a 400', async () => {
    const client = server.client();
    const story = (i: number) => `Item ${i}: once upon a time a little girl named Lily walked to the park with her big red ball and played all day.`;
    const conv = await client.conversations.create({ items: Array.from({ length: 20 }, (_, i) => msg(i % 2 ? 'assistant' : 'user', story(i))) });
    const r = await client.responses.create({ model: 'auto', input: 'Once upon a time', conversation: conv.id, max_output_tokens: 8 });
    assert.ok(['completed', 'incomplete'].includes(r.status!), JSON.stringify(r.error));
    assert.ok(r.usage!.input_tokens > 10 && r.usage!.input_tokens + r.usage!.output_tokens <= 256, `usage ${JSON.stringify(r.usage)}`);
    assert.deepEqual(await status(client.responses.create({ model: 'auto', input: 'Once', conversation: conv.id, truncation: 'disabled' })),
      { status: 400, param: 'input', code: 'context_length_exceeded' });
    // Nothing to drop: the new input alone is too long even with "auto".
    assert.equal((await status(client.responses.create({ model: 'auto', input: story(0).repeat(20) }))).status, 400);
  });
});

describe('compaction', () => {
  it('compacts input into user messages + a model-written summary that any provider understands', async () => {
    const client = server.client();
    const input = [msg('user', 'Tell me about the red fox.'), msg('assistant', 'The red fox is quick and clever.'), msg('user', 'And the dog?')];
    const c = await client.responses.compact({ model: 'auto', input });
    assert.equal(c.object, 'response.compaction');
    assert.equal(typeof c.created_at, 'number');
    assert.deepEqual(c.output.slice(0, 2).map((it: any) => [it.role, text(it)]), [['user', 'Tell me about the red fox.'], ['user', 'And the dog?']]);
    const summary = c.output[2] as any;
    assert.equal(summary.type, 'compaction');
    assert.match(summary.id, /^cmp_/);
    assert.ok(summary.encrypted_content.length > 0, 'the model wrote a summary');
    assert.ok(c.usage.input_tokens > 0 && c.usage.output_tokens > 0);

    // Round trip: the compacted output is the next turn's history, on an upstream and on the engine.
    const before = upstream.requests.length;
    const r = await client.responses.create({ model: 'openai:mock-echo', input: [...c.output, msg('user', 'Go on.')] as any });
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'Go on.');
    const sent = upstream.requests.slice(before).find((q) => q.path.includes('chat/completions'))!.body.messages;
    assert.ok(sent.some((m: any) => m.role === 'system' && m.content.includes(summary.encrypted_content)), 'summary reached the model');
    const local = await client.responses.create({ model: 'auto', input: [...c.output, msg('user', 'Go on.')] as any, max_output_tokens: 8 });
    assert.ok(['completed', 'incomplete'].includes(local.status!));

    // From a stored chain.
    const prev = await client.responses.create({ model: 'openai:mock-text', input: 'Remember the blue whale.' });
    const c2 = await client.responses.compact({ model: 'openai:mock-text', previous_response_id: prev.id, input: 'And now?' });
    assert.deepEqual(c2.output.map((it: any) => it.type), ['message', 'message', 'compaction']);
    assert.equal(text(c2.output[0]), 'Remember the blue whale.');
    assert.equal((await status(client.responses.compact({ model: 'openai:mock-text' }))).status, 400);
    assert.equal((await status(server.client(KEY_B).responses.compact({ model: 'openai:mock-text', previous_response_id: prev.id }))).status, 400);
  });
});
