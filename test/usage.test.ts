// GET /usage/responses (MKA1's usage endpoint): buckets, group_by, filters and pages computed from the
// stored responses, scoped to the caller's key (and to the end user with X-On-Behalf-Of). The store
// matrix runs this file again on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_B, startServer, type TestServer } from './support/server.js';

let upstream: MockUpstream;
let server: TestServer;
let t0: number;
const made: Array<{ user: string | null; model: string; background: boolean; input: number; output: number }> = [];

async function usage(query: string, opts: { key?: string; endUser?: string } = {}): Promise<any> {
  const r = await server.fetch(`/usage/responses?${query}`, opts);
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}
async function refused(query: string): Promise<any> {
  const r = await server.fetch(`/usage/responses?${query}`);
  assert.equal(r.status, 400, query);
  const body = await r.json() as any;
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  return body.error;
}

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
  t0 = Math.floor(Date.now() / 1000);
  const plan: Array<[string | null, string, boolean]> = [
    [null, 'openai:mock-text', false], [null, 'openai:mock-echo', false], ['alice', 'openai:mock-text', false],
    ['alice', 'openai:mock-text', true], ['bob', 'openai:mock-echo', false],
  ];
  for (const [user, model, background] of plan) {
    const client = server.client(undefined, user ?? undefined);
    let r = await client.responses.create({ model, input: `hello from ${user}`, background });
    while (r.status === 'queued' || r.status === 'in_progress') {
      await new Promise((res) => setTimeout(res, 50));
      r = await client.responses.retrieve(r.id);
    }
    assert.equal(r.status, 'completed');
    made.push({ user, model: r.model, background, input: r.usage!.input_tokens, output: r.usage!.output_tokens });
  }
  // Another key's response: never in key A's usage.
  await server.client(KEY_B).responses.create({ model: 'openai:mock-text', input: 'other tenant' });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

const total = (rows: typeof made) => ({
  n: rows.length, input: rows.reduce((s, r) => s + r.input, 0), output: rows.reduce((s, r) => s + r.output, 0),
});

describe('GET /usage/responses', () => {
  it('sums the key\'s responses into one bucket, without grouping', async () => {
    const page = await usage(`start_time=${t0 - 30}&end_time=${t0 + 3570}&bucket_width=1h`);
    assert.equal(page.object, 'page');
    assert.equal(page.has_more, false);
    assert.equal(page.next_page, null);
    assert.equal(page.data.length, 1);
    const b = page.data[0];
    assert.deepEqual([b.object, b.start_time, b.end_time], ['bucket', t0 - 30, t0 + 3570]);
    assert.equal(b.results.length, 1);
    const r = b.results[0];
    const want = total(made);
    assert.equal(r.object, 'organization.usage.responses.result');
    assert.deepEqual([r.num_model_requests, r.input_tokens, r.output_tokens], [want.n, want.input, want.output]);
    assert.ok(want.input > 0 && want.output > 0);
    assert.deepEqual([r.user_id, r.api_key_id, r.model, r.background], [null, null, null, null]);
  });

  it('groups by user, model, background and key', async () => {
    const page = await usage(`start_time=${t0 - 30}&end_time=${t0 + 3570}&bucket_width=1h&group_by=user_id&group_by[]=model`);
    const results = page.data[0].results;
    for (const user of [null, 'alice', 'bob']) {
      for (const model of new Set(made.map((m) => m.model))) {
        const rows = made.filter((m) => m.user === user && m.model === model);
        const got = results.find((r: any) => r.user_id === user && r.model === model);
        if (!rows.length) assert.equal(got, undefined);
        else assert.deepEqual([got.num_model_requests, got.input_tokens, got.output_tokens], Object.values(total(rows)));
      }
    }
    const bg = (await usage(`start_time=${t0 - 30}&end_time=${t0 + 3570}&bucket_width=1h&group_by=background,api_key_id`)).data[0].results;
    assert.equal(bg.length, 2);
    assert.equal(bg.find((r: any) => r.background === true).num_model_requests, 1);
    assert.equal(bg.find((r: any) => r.background === false).num_model_requests, made.length - 1);
    assert.equal(new Set(bg.map((r: any) => r.api_key_id)).size, 1);
    assert.match(bg[0].api_key_id, /^[0-9a-f]{32}$/);
  });

  it('filters by user_ids, models and background', async () => {
    const q = `start_time=${t0 - 30}&end_time=${t0 + 3570}&bucket_width=1h`;
    const alice = (await usage(`${q}&user_ids=alice`)).data[0].results[0];
    assert.equal(alice.num_model_requests, made.filter((m) => m.user === 'alice').length);
    const echo = made.find((m) => m.model.includes('mock-echo'))!.model;
    const byModel = (await usage(`${q}&models=${encodeURIComponent(echo)}`)).data[0].results[0];
    assert.equal(byModel.num_model_requests, made.filter((m) => m.model === echo).length);
    const background = (await usage(`${q}&background=true`)).data[0].results[0];
    assert.equal(background.num_model_requests, 1);
    assert.deepEqual((await usage(`${q}&user_ids=nobody`)).data[0].results, []);
  });

  it('is scoped to the key, and to the end user when one is named', async () => {
    const q = `start_time=${t0 - 30}&end_time=${t0 + 3570}&bucket_width=1h&group_by=user_id`;
    const asAlice = (await usage(q, { endUser: 'alice' })).data[0].results;
    assert.deepEqual(asAlice.map((r: any) => r.user_id), ['alice']);
    assert.equal(asAlice[0].num_model_requests, 2);
    const asB = (await usage(q, { key: KEY_B })).data[0].results;
    assert.equal(asB.length, 1);
    assert.equal(asB[0].num_model_requests, 1);
    assert.equal((await server.fetch(`/usage/responses?${q}`, { key: null })).status, 401);
  });

  it('pages through minute buckets with next_page, empty buckets included', async () => {
    const start = t0 - 600;
    const end = t0 + 60;
    let q = `start_time=${start}&end_time=${end}&bucket_width=1m&limit=4`;
    const buckets: any[] = [];
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const page = await usage(q);
      assert.ok(page.data.length <= 4);
      buckets.push(...page.data);
      if (!page.has_more) {
        assert.equal(page.next_page, null);
        break;
      }
      q = `start_time=${start}&end_time=${end}&bucket_width=1m&limit=4&page=${page.next_page}`;
    }
    assert.equal(buckets.length, 11);
    buckets.forEach((b, i) => assert.equal(b.start_time, start + i * 60));
    const n = buckets.reduce((s, b) => s + b.results.reduce((t: number, r: any) => t + r.num_model_requests, 0), 0);
    assert.equal(n, made.length);
    assert.ok(buckets.slice(0, 5).every((b) => b.results.length === 0));
  });

  it('refuses bad queries with a 400 naming the parameter', async () => {
    assert.equal((await refused('bucket_width=1h')).param, 'start_time');
    assert.equal((await refused(`start_time=${t0}&bucket_width=2h`)).param, 'bucket_width');
    assert.equal((await refused(`start_time=${t0}&bucket_width=1d&limit=0`)).param, 'limit');
    assert.equal((await refused(`start_time=${t0}&bucket_width=1d&limit=32`)).param, 'limit');
    assert.equal((await refused(`start_time=${t0}&limit=abc`)).param, 'limit');
    assert.equal((await refused(`start_time=${t0}&end_time=${t0}`)).param, 'end_time');
    assert.equal((await refused('start_time=-5')).param, 'start_time');
    assert.equal((await refused(`start_time=${t0}&group_by=project_id`)).param, 'group_by');
    assert.equal((await refused(`start_time=${t0}&background=yes`)).param, 'background');
    assert.equal((await refused(`start_time=${t0}&page=zzz`)).param, 'page');
    assert.equal((await refused(`start_time=${t0}&page=page_1`)).param, 'page');
    const unknown = await refused(`start_time=${t0}&project_ids=p1`);
    assert.deepEqual([unknown.param, unknown.code], ['project_ids', 'unknown_parameter']);
  });
});
