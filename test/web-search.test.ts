// The web_search tool, run by respd through a search engine it is configured with (SearxNG's JSON API
// or Brave Search's API, both spoken by a mock engine on loopback that also serves the pages): the
// web_search_call item with its action (search with sources only when included, open_page,
// find_in_page), its events, url_citation annotations, domain filters, context size, user location,
// answers from what was fetched before when external_web_access is false, the private-address guard,
// and clear 400s. The model's decisions come from the mock upstream's `mock-script` model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { status } from './support/api-status.js';
import { BRAVE_TOKEN, startMockSearch, type MockSearch } from './support/mock-search.js';
import { startMockUpstream, type MockUpstream, type ScriptSpec } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let upstream: MockUpstream;
let engine: MockSearch;
let server: TestServer;
let client: OpenAI;

let nonce = 0;
const script = (spec: ScriptSpec) => JSON.stringify({ ...spec, nonce: nonce++ });
const call = (args: Record<string, string>) => ({ name: 'web_search', arguments: JSON.stringify(args) });
const MODEL = 'openai:mock-script';

before(async () => {
  upstream = await startMockUpstream();
  engine = await startMockSearch();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, WEB_SEARCH_BACKEND: 'searxng', WEB_SEARCH_URL: engine.url, WEB_FETCH_ALLOW_PRIVATE: '1' } });
  client = server.client();
});
after(async () => {
  await server?.stop();
  await upstream?.close();
  await engine?.close();
});

const textOf = (r: OpenAI.Responses.Response) => (r.output.find((i) => i.type === 'message') as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText;

describe('web_search tool (SearxNG)', () => {
  it('searches, hides sources unless included, and cites the pages in the answer', async () => {
    const r = await client.responses.create({ model: MODEL, input: script({ calls: [call({ query: 'durable logs' })], answer: 'found' }), tools: [{ type: 'web_search' }] });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.output.map((i) => i.type), ['web_search_call', 'message']);
    const ws = r.output[0] as OpenAI.Responses.ResponseFunctionWebSearch;
    assert.match(ws.id, /^ws_/);
    assert.equal(ws.status, 'completed');
    assert.deepEqual(ws.action, { type: 'search', query: 'durable logs' }, 'no sources without the include');
    assert.equal(engine.queries.at(-1)!.q, 'durable logs');
    assert.equal(engine.queries.at(-1)!.protocol, 'searxng');
    assert.deepEqual(upstream.lastChat().body.tools.map((t: any) => t.function.name), ['web_search']);
    assert.deepEqual((r.tools[0] as any).search_context_size, 'medium');

    const text = textOf(r);
    assert.match(text.text, /Durable event logs/, 'the model read the results');
    const cites = text.annotations.filter((a) => a.type === 'url_citation') as OpenAI.Responses.ResponseOutputText.URLCitation[];
    assert.equal(cites.length, 3);
    for (const c of cites) {
      const span = text.text.slice(c.start_index, c.end_index);
      assert.ok(span === c.url || span === c.title, `the citation spans its mention: ${span}`);
    }
    const included = await client.responses.retrieve(r.id, { include: ['web_search_call.action.sources'] });
    const sources = (included.output[0] as any).action.sources.map((s: any) => s.url);
    assert.deepEqual(sources, [`${engine.url}/pages/durable`, 'https://docs.example.org/replay', `${engine.url}/pages/replay`]);
    assert.equal((await client.responses.retrieve(r.id)).output[0].type, 'web_search_call');
    assert.equal(((await client.responses.retrieve(r.id)).output[0] as any).action.sources, undefined);
  });

  it('streams the call\'s events, with sources only when the stream includes them', async () => {
    const body = { model: MODEL, input: script({ calls: [call({ query: 'replay speed' })] }), tools: [{ type: 'web_search_preview' }], stream: true };
    const events = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify(body) }));
    const types = events.map((e) => e.data.type);
    const at = (t: string) => types.indexOf(t);
    assert.ok(at('response.web_search_call.in_progress') > 0);
    assert.ok(at('response.web_search_call.searching') > at('response.web_search_call.in_progress'));
    assert.ok(at('response.web_search_call.completed') > at('response.web_search_call.searching'));
    assert.ok(at('response.output_text.annotation.added') > at('response.web_search_call.completed'));
    const done = events.find((e) => e.data.type === 'response.output_item.done' && e.data.item.type === 'web_search_call')!;
    assert.equal(done.data.item.action.sources, undefined);
    const id = events[0].data.response.id;
    const resumed = await readSse(await server.fetch(`/responses/${id}?stream=true&starting_after=0&include[]=web_search_call.action.sources`));
    const again = resumed.find((e) => e.data.type === 'response.output_item.done' && e.data.item.type === 'web_search_call')!;
    assert.equal(again.data.item.action.sources.length, 3);
  });

  it('opens a page and finds a pattern in it', async () => {
    const url = `${engine.url}/pages/durable`;
    const r = await client.responses.create({ model: MODEL, input: script({ calls: [call({ url }), call({ url, pattern: 'gap-free' })], answer: 'read' }), tools: [{ type: 'web_search' }] });
    assert.equal(r.status, 'completed');
    const [open, find] = r.output as any[];
    assert.deepEqual(open.action, { type: 'open_page', url });
    assert.deepEqual(find.action, { type: 'find_in_page', url, pattern: 'gap-free' });
    const text = textOf(r);
    assert.match(text.text, /An append-only log makes every stream resumable/);
    assert.match(text.text, /The sequence number is gap-free/);
    const cite = text.annotations.find((a) => a.type === 'url_citation') as OpenAI.Responses.ResponseOutputText.URLCitation;
    assert.equal(cite.url, url);
    assert.equal(cite.title, 'Durable event logs');
  });

  it('applies allowed_domains, search_context_size and user_location', async () => {
    const tools = [{ type: 'web_search' as const, filters: { allowed_domains: ['example.org'] }, search_context_size: 'low' as const, user_location: { type: 'approximate' as const, country: 'DE' } }];
    const r = await client.responses.create({
      model: MODEL, input: script({ calls: [call({ query: 'replay elsewhere' }), call({ url: `${engine.url}/pages/replay` })] }), tools,
      include: ['web_search_call.action.sources'],
    });
    assert.equal(r.status, 'completed');
    const [search, open] = r.output as any[];
    assert.deepEqual(search.action.sources, [{ type: 'url', url: 'https://docs.example.org/replay' }]);
    assert.equal(open.status, 'failed', 'a page outside the allowed domains is not opened');
    assert.equal(engine.queries.at(-1)!.params.get('language'), 'all-DE');
    assert.deepEqual(r.tools[0], { type: 'web_search', filters: { allowed_domains: ['example.org'] }, search_context_size: 'low', user_location: { type: 'approximate', city: null, country: 'DE', region: null, timezone: null } });
  });

  it('answers from what was fetched before when external_web_access is false', async () => {
    const before = engine.queries.length;
    const tools = [{ type: 'web_search', external_web_access: false }] as any;
    const cached = await client.responses.create({ model: MODEL, input: script({ calls: [call({ query: 'durable logs' })], answer: 'cached' }), tools });
    assert.match(textOf(cached).text, /Durable event logs/);
    const unknown = await client.responses.create({ model: MODEL, input: script({ calls: [call({ query: 'never searched' })], answer: 'none' }), tools });
    assert.match(textOf(unknown).text, /Live web access is off/);
    assert.equal(engine.queries.length, before, 'the engine was not asked');
  });

  it('forces the tool with tool_choice, and fails the call (not the response) when the engine fails', async () => {
    const r = await client.responses.create({
      model: MODEL, input: script({ calls: [call({ query: 'engine down' })], answer: 'sorry' }), tools: [{ type: 'web_search' }], tool_choice: { type: 'web_search' } as any,
    });
    assert.deepEqual(upstream.requests.filter((q) => q.path.endsWith('/chat/completions')).at(-2)!.body.tool_choice, { type: 'function', function: { name: 'web_search' } });
    assert.equal(r.status, 'completed');
    assert.equal((r.output[0] as any).status, 'failed');
    assert.match(textOf(r).text, /The web search failed: the search engine answered HTTP 502/);
  });

  it('refuses bad tool settings with a 400 naming the field', async () => {
    for (const [tool, param] of [
      [{ type: 'web_search', search_context_size: 'huge' }, 'tools[0].search_context_size'],
      [{ type: 'web_search', user_location: { type: 'approximate', country: 'Germany' } }, 'tools[0].user_location.country'],
      [{ type: 'web_search', filters: { allowed_domains: 'example.org' } }, 'tools[0].filters.allowed_domains'],
      [{ type: 'web_search', external_web_access: 'no' }, 'tools[0].external_web_access'],
    ] as const) {
      const s = await status(client.responses.create({ model: MODEL, input: 'x', tools: [tool as any] }));
      assert.deepEqual([s.status, s.param], [400, param]);
    }
    const conflict = await status(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }, { type: 'function', name: 'web_search', parameters: {}, strict: false }] }));
    assert.deepEqual([conflict.status, conflict.param], [400, 'tools[1].name']);
  });
});

describe('web_search elsewhere', () => {
  it('Brave Search: the token is sent and results come back', async () => {
    const brave = await startServer({ env: { OPENAI_BASE_URL: upstream.url, WEB_SEARCH_BACKEND: 'brave', WEB_SEARCH_URL: `${engine.url}/res/v1/web/search`, WEB_SEARCH_API_KEY: BRAVE_TOKEN } });
    try {
      const r = await brave.client().responses.create({ model: MODEL, input: script({ calls: [call({ query: 'brave durable' })] }), tools: [{ type: 'web_search' }], include: ['web_search_call.action.sources'] });
      const q = engine.queries.at(-1)!;
      assert.deepEqual([q.protocol, q.q, q.token, q.params.get('count')], ['brave', 'brave durable', BRAVE_TOKEN, '5']);
      assert.equal((r.output[0] as any).action.sources.length, 3);
      assert.ok(!brave.logs.some((l) => l.includes(BRAVE_TOKEN)), 'the token is never logged');
    } finally {
      await brave.stop();
    }
  });

  it('pages on private addresses are refused unless WEB_FETCH_ALLOW_PRIVATE', async () => {
    const guarded = await startServer({ env: { OPENAI_BASE_URL: upstream.url, WEB_SEARCH_BACKEND: 'searxng', WEB_SEARCH_URL: engine.url } });
    try {
      const served = engine.pagesServed.length;
      const r = await guarded.client().responses.create({ model: MODEL, input: script({ calls: [call({ url: `${engine.url}/pages/durable` })], answer: 'x' }), tools: [{ type: 'web_search' }] });
      assert.equal((r.output[0] as any).status, 'failed');
      assert.match(textOf(r).text, /loopback, private or link-local/);
      assert.equal(engine.pagesServed.length, served, 'the page was not fetched');
    } finally {
      await guarded.stop();
    }
  });

  it('without an engine: accepted and echoed, not offered; forcing it is a 400', async () => {
    const plain = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
    try {
      const c = plain.client();
      const r = await c.responses.create({ model: 'openai:mock-text', input: 'hi', tools: [{ type: 'web_search' }] });
      assert.equal(r.status, 'completed');
      assert.equal(upstream.lastChat().body.tools, undefined);
      const forced = await status(c.responses.create({ model: 'openai:mock-text', input: 'hi', tools: [{ type: 'web_search' }], tool_choice: { type: 'web_search' } as any }));
      assert.deepEqual([forced.status, forced.param, forced.code], [400, 'tool_choice', 'unsupported_tool']);
    } finally {
      await plain.stop();
    }
  });
});
