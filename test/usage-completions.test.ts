// GET /usage/completions (from the usage ledger that /chat/completions writes in batches) and
// GET /usage/conversations (from the conversations tables): sums, grouping, filters, scoping to the key
// and end user, paging, bad queries, and ledger rows surviving a SIGTERM restart. The store matrix runs
// this file again on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_B, startServer, type TestServer } from './support/server.js';
import { dropBackends } from './support/backends.js';

let upstream: MockUpstream;
let server: TestServer;
let dataDir: string;
let t0: number;
type Made = { user: string | null; model: string; stream: boolean; input: number; output: number };
const made: Made[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(path: string, query: string, opts: { key?: string; endUser?: string } = {}): Promise<any> {
  const r = await server.fetch(`/usage/${path}?${query}`, opts);
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}
async function refused(path: string, query: string): Promise<any> {
  const r = await server.fetch(`/usage/${path}?${query}`);
  assert.equal(r.status, 400, query);
  const body = await r.json() as any;
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  return body.error;
}

/** One completion through the openai client; its own usage as the client saw it. */
async function complete(user: string | null, model: string, stream: boolean, key?: string): Promise<Made> {
  const client = server.client(key, user ?? undefined);
  const messages = [{ role: 'user' as const, content: `hello from ${user} about ${model}` }];
  if (!stream) {
    const r = await client.chat.completions.create({ model, messages });
    return { user, model, stream, input: r.usage!.prompt_tokens, output: r.usage!.completion_tokens };
  }
  let usage: any;
  for await (const c of await client.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } })) {
    if (c.usage) usage = c.usage;
  }
  assert.ok(usage, 'a streamed completion with include_usage reports its usage');
  return { user, model, stream, input: usage.prompt_tokens, output: usage.completion_tokens };
}

before(async () => {
  upstream = await startMockUpstream();
  dataDir = mkdtempSync(join(tmpdir(), 'respd-usage2-'));
  server = await startServer({ dataDir, env: { OPENAI_BASE_URL: upstream.url } });
  t0 = Math.floor(Date.now() / 1000);
  const plan: Array<[string | null, string, boolean]> = [
    [null, 'openai:mock-text', false], [null, 'openai:mock-echo', true], ['alice', 'openai:mock-text', false],
    ['alice', 'openai:mock-text', true], ['bob', 'openai:mock-echo', false],
  ];
  for (const [user, model, stream] of plan) made.push(await complete(user, model, stream));
  // Another key's completion: never in key A's usage.
  await complete(null, 'openai:mock-text', false, KEY_B);
  // The ledger flushes every 100 ms.
  await sleep(400);
});
after(async () => {
  await server?.stop();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
  await dropBackends(dataDir);
});

const total = (rows: Made[]) => [rows.length, rows.reduce((s, r) => s + r.input, 0), rows.reduce((s, r) => s + r.output, 0)];
const hour = () => `start_time=${t0 - 30}&end_time=${t0 + 3570}&bucket_width=1h`;
const sums = (r: any) => [r.num_model_requests, r.input_tokens, r.output_tokens];

describe('GET /usage/completions', () => {
  it('sums the key\'s completions, blocking and streamed, into one bucket', async () => {
    const page = await get('completions', hour());
    assert.deepEqual([page.object, page.has_more, page.next_page, page.data.length], ['page', false, null, 1]);
    const b = page.data[0];
    assert.deepEqual([b.object, b.start_time, b.end_time, b.results.length], ['bucket', t0 - 30, t0 + 3570, 1]);
    const r = b.results[0];
    assert.equal(r.object, 'organization.usage.completions.result');
    assert.deepEqual(sums(r), total(made));
    assert.ok(made.every((m) => m.input > 0 && m.output > 0));
    assert.equal(r.input_cached_tokens, 0);
    assert.deepEqual([r.user_id, r.api_key_id, r.model, r.batch, r.service_tier, r.project_id], [null, null, null, null, null, null]);
    // Streamed ones alone (the ledger keeps the flag; checked through their sums by model below).
    const streamed = made.filter((m) => m.stream);
    assert.equal(streamed.length, 2);
  });

  it('groups by user and model, and by key and batch', async () => {
    const results = (await get('completions', `${hour()}&group_by=user_id&group_by[]=model`)).data[0].results;
    for (const user of [null, 'alice', 'bob']) {
      for (const model of ['openai:mock-text', 'openai:mock-echo']) {
        const rows = made.filter((m) => m.user === user && m.model === model);
        const got = results.find((r: any) => r.user_id === user && r.model === model);
        if (!rows.length) assert.equal(got, undefined);
        else assert.deepEqual(sums(got), total(rows));
      }
    }
    const byKey = (await get('completions', `${hour()}&group_by=api_key_id,batch`)).data[0].results;
    assert.equal(byKey.length, 1);
    assert.match(byKey[0].api_key_id, /^[0-9a-f]{32}$/);
    assert.equal(byKey[0].batch, false);
  });

  it('filters by user_ids and models', async () => {
    const alice = (await get('completions', `${hour()}&user_ids=alice`)).data[0].results[0];
    assert.deepEqual(sums(alice), total(made.filter((m) => m.user === 'alice')));
    const echo = (await get('completions', `${hour()}&models=openai:mock-echo`)).data[0].results[0];
    assert.deepEqual(sums(echo), total(made.filter((m) => m.model === 'openai:mock-echo')));
    const both = (await get('completions', `${hour()}&user_ids[]=alice&user_ids[]=bob&models=openai:mock-text`)).data[0].results[0];
    assert.deepEqual(sums(both), total(made.filter((m) => m.user === 'alice' && m.model === 'openai:mock-text')));
    assert.deepEqual((await get('completions', `${hour()}&user_ids=nobody`)).data[0].results, []);
  });

  it('is scoped to the key, and to the end user when one is named', async () => {
    const asAlice = (await get('completions', `${hour()}&group_by=user_id`, { endUser: 'alice' })).data[0].results;
    assert.deepEqual(asAlice.map((r: any) => r.user_id), ['alice']);
    assert.deepEqual(sums(asAlice[0]), total(made.filter((m) => m.user === 'alice')));
    const asB = (await get('completions', hour(), { key: KEY_B })).data[0].results;
    assert.equal(asB.length, 1);
    assert.equal(asB[0].num_model_requests, 1);
    assert.equal((await server.fetch(`/usage/completions?${hour()}`, { key: null })).status, 401);
  });

  it('pages through minute buckets with next_page', async () => {
    const start = t0 - 600;
    const end = t0 + 60;
    let q = `start_time=${start}&end_time=${end}&bucket_width=1m&limit=4`;
    const buckets: any[] = [];
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const page = await get('completions', q);
      assert.ok(page.data.length <= 4);
      buckets.push(...page.data);
      if (!page.has_more) break;
      q = `start_time=${start}&end_time=${end}&bucket_width=1m&limit=4&page=${page.next_page}`;
    }
    assert.equal(buckets.length, 11);
    buckets.forEach((b, i) => assert.equal(b.start_time, start + i * 60));
    const n = buckets.reduce((s, b) => s + b.results.reduce((t: number, r: any) => t + r.num_model_requests, 0), 0);
    assert.equal(n, made.length);
  });

  it('refuses bad queries with a 400 naming the parameter', async () => {
    assert.equal((await refused('completions', 'bucket_width=1h')).param, 'start_time');
    assert.equal((await refused('completions', `start_time=${t0}&bucket_width=1w`)).param, 'bucket_width');
    assert.equal((await refused('completions', `start_time=${t0}&bucket_width=1h&limit=169`)).param, 'limit');
    assert.equal((await refused('completions', `start_time=${t0}&end_time=${t0 - 1}`)).param, 'end_time');
    assert.equal((await refused('completions', `start_time=${t0}&group_by=background`)).param, 'group_by');
    assert.equal((await refused('completions', `start_time=${t0}&page=page_zz`)).param, 'page');
    assert.equal((await refused('completions', `start_time=${t0}&models=`)).param, 'models');
    const unknown = await refused('completions', `start_time=${t0}&background=true`);
    assert.deepEqual([unknown.param, unknown.code], ['background', 'unknown_parameter']);
  });
});

describe('GET /usage/conversations', () => {
  it('counts conversations created, items added and operations, grouped and scoped', async () => {
    const msg = (text: string) => ({ type: 'message' as const, role: 'user' as const, content: text });
    const a = server.client();
    const alice = server.client(undefined, 'alice');
    const c1 = await a.conversations.create({ items: [msg('one'), msg('two')] });
    // Items calls are told apart from the creation by their second (documented: writes of one conversation
    // without a response in the same second count as one operation).
    await sleep(1000 - (Date.now() % 1000) + 20);
    await a.conversations.items.create(c1.id, { items: [msg('three')] });
    await alice.conversations.create({});
    const c3 = await alice.conversations.create({ items: [msg('hi')] });
    // A response on a conversation adds its input and output items in one operation.
    const r = await alice.responses.create({ model: 'openai:mock-text', input: 'hello', conversation: c3.id });
    assert.equal(r.status, 'completed');
    await server.client(KEY_B).conversations.create({ items: [msg('other key')] });

    const q = `start_time=${t0 - 30}&end_time=${t0 + 3570}&bucket_width=1h`;
    const all = (await get('conversations', q)).data[0].results;
    assert.equal(all.length, 1);
    assert.equal(all[0].object, 'organization.usage.conversations.result');
    const outputItems = r.output.length;
    // Items: 2 + 1 (key A) and 1 + the turn's input (1) and output items (alice).
    assert.deepEqual([all[0].num_conversations_created, all[0].num_items_added, all[0].num_operations], [3, 5 + outputItems, 5]);
    const byUser = (await get('conversations', `${q}&group_by=user_id,api_key_id`)).data[0].results;
    const ofAlice = byUser.find((x: any) => x.user_id === 'alice');
    assert.deepEqual([ofAlice.num_conversations_created, ofAlice.num_items_added, ofAlice.num_operations], [2, 2 + outputItems, 3]);
    assert.match(ofAlice.api_key_id, /^[0-9a-f]{32}$/);
    const asAlice = (await get('conversations', `${q}&group_by=user_id`, { endUser: 'alice' })).data[0].results;
    assert.deepEqual(asAlice.map((x: any) => x.user_id), ['alice']);
    assert.deepEqual((await get('conversations', `${q}&user_ids=bob`)).data[0].results, []);
    const asB = (await get('conversations', q, { key: KEY_B })).data[0].results;
    assert.deepEqual([asB[0].num_conversations_created, asB[0].num_items_added, asB[0].num_operations], [1, 1, 1]);
    assert.equal((await refused('conversations', `start_time=${t0}&group_by=model`)).param, 'group_by');
    assert.equal((await refused('conversations', `start_time=${t0}&models=openai:mock-text`)).code, 'unknown_parameter');
  });
});

describe('the usage ledger', () => {
  it('keeps completions answered just before a SIGTERM across a restart', async () => {
    const before = (await get('completions', hour())).data[0].results[0].num_model_requests;
    const late = [await complete('carol', 'openai:mock-text', false), await complete('carol', 'openai:mock-echo', true)];
    // No wait: the rows are still in the buffer when the signal arrives.
    assert.equal(await server.stop('SIGTERM'), 0);
    server = await startServer({ dataDir, env: { OPENAI_BASE_URL: upstream.url } });
    const page = await get('completions', `${hour()}&user_ids=carol`);
    assert.deepEqual(sums(page.data[0].results[0]), total(late));
    assert.equal((await get('completions', hour())).data[0].results[0].num_model_requests, before + 2);
  });
});
