// The prompt repository (issue 23 item 6) over HTTP with raw fetch (create, get/render, list, update,
// versions, rollback, delete; ownership; bad input), and the `prompt` parameter of create with the
// official `openai` client: the rendered template reaches the model, the response echoes `prompt`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { KEY_B, startServer, type TestServer } from './support/server.js';
import { status } from './support/api-status.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  upstream = await startMockUpstream({ text: { chunks: 3, chunkSize: 8, delayMs: 0 } });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

type Init = { method?: string; body?: unknown; key?: string; endUser?: string };
const call = async (path: string, init: Init = {}) => {
  const res = await server.fetch(path, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), body: init.body === undefined ? undefined : JSON.stringify(init.body), key: init.key, endUser: init.endUser });
  return { status: res.status, body: await res.json() as any };
};
const newPrompt = (template: string, extra: Record<string, unknown> = {}, init: Init = {}) =>
  call('/prompts', { ...init, body: { name: 'greeting', template, ...extra } });
const lastMessages = () => upstream.requests.filter((r) => r.path.includes('chat/completions')).at(-1)!.body.messages;

describe('prompt repository', () => {
  it('create, get (render, version), update, versions, rollback, list, delete', async () => {
    const c = await newPrompt('Hello, {{name}}! Welcome to {{ company }}.', { description: 'A greeting', metadata: { team: 'onboarding', reviewed: true } });
    assert.equal(c.status, 201);
    const p = c.body;
    assert.match(p.id, /^prompt_[0-9a-f]{32}$/);
    assert.equal(p.object, 'prompt');
    assert.deepEqual([p.name, p.description, p.active_version, p.latest_version], ['greeting', 'A greeting', 1, 1]);
    assert.deepEqual(p.metadata, { team: 'onboarding', reviewed: true });
    assert.match(p.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(p.version.id, /^pver_[0-9a-f]{32}$/);
    assert.deepEqual([p.version.prompt_id, p.version.version, p.version.object, p.version.template], [p.id, 1, 'prompt.version', 'Hello, {{name}}! Welcome to {{ company }}.']);

    const got = await call(`/prompts/${p.id}?variables=${encodeURIComponent(JSON.stringify({ name: 'Alice' }))}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.active_template, 'Hello, {{name}}! Welcome to {{ company }}.');
    assert.equal(got.body.rendered_template, 'Hello, Alice! Welcome to {{ company }}.', 'unmatched placeholders are left as they are');
    assert.equal((await call(`/prompts/${p.id}`)).body.rendered_template, undefined);

    const upd = await call(`/prompts/${p.id}`, { body: { name: 'welcome', metadata: { team: 'x' } } });
    assert.deepEqual([upd.status, upd.body.name, upd.body.description, upd.body.metadata.team, upd.body.active_version], [200, 'welcome', 'A greeting', 'x', 1]);

    const v2 = await call(`/prompts/${p.id}/versions`, { body: { template: 'Hi {{name}}, v2.' } });
    assert.equal(v2.status, 201);
    assert.deepEqual([v2.body.object, v2.body.version, v2.body.template], ['prompt.version', 2, 'Hi {{name}}, v2.']);
    const v3 = await call(`/prompts/${p.id}/versions`, { body: { template: 'Hey {{name}}, v3.' } });
    assert.equal(v3.body.version, 3);
    let cur = (await call(`/prompts/${p.id}`)).body;
    assert.deepEqual([cur.active_version, cur.latest_version, cur.active_template], [3, 3, 'Hey {{name}}, v3.']);
    assert.equal((await call(`/prompts/${p.id}?version=1`)).body.active_template, 'Hello, {{name}}! Welcome to {{ company }}.');

    const versions = await call(`/prompts/${p.id}/versions`);
    assert.deepEqual(versions.body.data.map((v: any) => v.version), [3, 2, 1]);
    assert.equal(versions.body.object, 'list');
    const page = await call(`/prompts/${p.id}/versions?order=asc&limit=1&after=1`);
    assert.deepEqual([page.body.data.map((v: any) => v.version), page.body.has_more], [[2], true]);
    assert.deepEqual((await call(`/prompts/${p.id}/versions/2`)).body, v2.body);

    const rb = await call(`/prompts/${p.id}/rollback`, { body: { version: 1 } });
    assert.deepEqual([rb.status, rb.body.object, rb.body.active_version, rb.body.latest_version], [200, 'prompt', 1, 3]);
    cur = (await call(`/prompts/${p.id}`)).body;
    assert.equal(cur.active_template, 'Hello, {{name}}! Welcome to {{ company }}.', 'rollback moves the active version, newer ones stay');
    assert.equal((await call(`/prompts/${p.id}/versions`)).body.data.length, 3);

    const other = await newPrompt('Second');
    const list = await call('/prompts');
    assert.deepEqual(list.body.data.map((x: any) => x.id).slice(0, 2), [other.body.id, p.id], 'newest first');
    const asc = await call(`/prompts?order=asc&after=${p.id}`);
    assert.ok(asc.body.data.some((x: any) => x.id === other.body.id) && !asc.body.data.some((x: any) => x.id === p.id));

    const del = await call(`/prompts/${other.body.id}`, { method: 'DELETE' });
    assert.deepEqual(del.body, { id: other.body.id, object: 'prompt', deleted: true });
    assert.equal((await call(`/prompts/${other.body.id}`)).status, 404);
    assert.equal((await call(`/prompts/${other.body.id}/versions/1`)).status, 404);
  });

  it('prompts are their owner\'s: another key or end user gets 404', async () => {
    const p = (await newPrompt('Mine')).body;
    for (const init of [{ key: KEY_B }, { endUser: 'someone' }]) {
      assert.equal((await call(`/prompts/${p.id}`, init)).status, 404);
      assert.equal((await call(`/prompts/${p.id}/versions`, { ...init, body: { template: 'x' } })).status, 404);
      assert.equal((await call(`/prompts/${p.id}`, { ...init, method: 'DELETE' })).status, 404);
      assert.ok(!(await call('/prompts', init)).body.data.some((x: any) => x.id === p.id));
    }
    assert.equal((await call(`/prompts/${p.id}`)).status, 200);
  });

  it('bad input is a 400 naming the parameter; unknown ids and versions are 404', async () => {
    const p = (await newPrompt('T {{a}}')).body;
    const cases: Array<[string, Init, number, string | null]> = [
      ['/prompts', { body: { template: 'x' } }, 400, 'name'],
      ['/prompts', { body: { name: 'n' } }, 400, 'template'],
      ['/prompts', { body: { name: '', template: 'x' } }, 400, 'name'],
      ['/prompts', { body: { name: 'n', template: 'x'.repeat(100_001) } }, 400, 'template'],
      ['/prompts', { body: { name: 'n', template: 'x', description: 'd'.repeat(2001) } }, 400, 'description'],
      ['/prompts', { body: { name: 'n', template: 'x', metadata: [1] } }, 400, 'metadata'],
      ['/prompts', { body: { name: 'n', template: 'x', color: 'red' } }, 400, 'color'],
      [`/prompts/${p.id}/versions`, { body: { template: '' } }, 400, 'template'],
      [`/prompts/${p.id}/rollback`, { body: {} }, 400, 'version'],
      [`/prompts/${p.id}/rollback`, { body: { version: 0 } }, 400, 'version'],
      [`/prompts/${p.id}/rollback`, { body: { version: 9 } }, 404, 'version'],
      [`/prompts/${p.id}/versions/9`, {}, 404, 'version'],
      [`/prompts/${p.id}/versions/abc`, {}, 400, 'version'],
      [`/prompts/${p.id}?version=7`, {}, 404, 'version'],
      [`/prompts/${p.id}?variables=notjson`, {}, 400, 'variables'],
      ['/prompts/prompt_00000000000000000000000000000000', {}, 404, null],
      ['/prompts/xyz', {}, 404, null],
    ];
    for (const [path, init, code, param] of cases) {
      const r = await call(path, init);
      assert.equal(r.status, code, `${path} ${JSON.stringify(init).slice(0, 100)}`);
      assert.equal(r.body.error.param, param, `${path} ${JSON.stringify(init).slice(0, 100)}`);
    }
    const after = (await call(`/prompts/${p.id}`)).body;
    assert.deepEqual([after.active_version, after.latest_version], [1, 1], 'nothing was written');
  });
});

describe('the prompt parameter of create', () => {
  it('renders the active or a given version before the instructions, and echoes prompt', async () => {
    const p = (await newPrompt('You are a {{role}} assistant for {{company}}.')).body;
    await call(`/prompts/${p.id}/versions`, { body: { template: 'Version two for {{company}}.' } });
    const client = server.client();
    const r = await client.responses.create({
      model: 'openai:mock-text', input: 'Hi', instructions: 'Be brief.',
      prompt: { id: p.id, version: '1', variables: { role: 'helpful', company: { type: 'input_text', text: 'Acme' } } },
    });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.prompt, { id: p.id, version: '1', variables: { role: 'helpful', company: { type: 'input_text', text: 'Acme' } } });
    assert.equal(r.instructions, 'Be brief.');
    const msgs = lastMessages();
    assert.equal(msgs[0].role, 'system');
    assert.equal(msgs[0].content, 'You are a helpful assistant for Acme.\n\nBe brief.');
    assert.deepEqual((await client.responses.retrieve(r.id)).prompt, r.prompt);

    const active = await client.responses.create({ model: 'openai:mock-text', input: 'Hi', prompt: { id: p.id, variables: { company: 'Globex' } } });
    assert.equal(active.prompt?.version, '2', 'no version: the active one');
    assert.equal(lastMessages()[0].content, 'Version two for Globex.');

    await call(`/prompts/${p.id}/rollback`, { body: { version: 1 } });
    const rolled = await client.responses.create({ model: 'openai:mock-text', input: 'Hi', prompt: { id: p.id } });
    assert.equal(rolled.prompt?.version, '1');
    assert.equal(rolled.prompt?.variables, null);
    assert.equal(lastMessages()[0].content, 'You are a {{role}} assistant for {{company}}.');

    const streamed = await client.responses.create({ model: 'openai:mock-text', input: 'Hi', stream: true, prompt: { id: p.id, version: '2', variables: { company: 'Initech' } } });
    let final: any;
    for await (const ev of streamed) if (ev.type === 'response.completed') final = ev.response;
    assert.equal(final.prompt.version, '2');
  });

  it('an input_image variable reaches the model as a user message ahead of the input', async () => {
    const p = (await newPrompt('Describe {{photo}} for {{who}}.')).body;
    const url = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const r = await server.client().responses.create({
      model: 'openai:mock-text', input: 'Go',
      prompt: { id: p.id, variables: { photo: { type: 'input_image', image_url: url, detail: 'low' }, who: 'kids' } },
    });
    assert.equal(r.status, 'completed');
    const msgs = lastMessages();
    assert.equal(msgs[0].content, 'Describe [image: photo] for kids.');
    const parts = msgs[1].content;
    assert.equal(msgs[1].role, 'user');
    assert.ok(Array.isArray(parts) && parts.some((x: any) => x.type === 'image_url' && x.image_url.url === url), JSON.stringify(msgs[1]));
    assert.equal(msgs.at(-1).content, 'Go');
    const items = await server.client().responses.inputItems.list(r.id);
    assert.equal(items.data.length, 1, 'the prompt\'s parts are not stored as input items');
  });

  it('unknown prompt is 404, unknown version 404, bad shapes 400, another owner\'s prompt 404', async () => {
    const p = (await newPrompt('T')).body;
    const client = server.client();
    const create = (prompt: any, c = client) => status(c.responses.create({ model: 'openai:mock-text', input: 'Hi', prompt }));
    assert.deepEqual(await create({ id: 'prompt_00000000000000000000000000000000' }), { status: 404, param: 'prompt.id', code: 'not_found' });
    assert.deepEqual(await create({ id: p.id, version: '5' }), { status: 404, param: 'prompt.version', code: 'not_found' });
    assert.deepEqual(await create({ id: p.id, version: 'latest' }), { status: 400, param: 'prompt.version', code: 'invalid_value' });
    assert.deepEqual(await create({ id: 5 }), { status: 400, param: 'prompt.id', code: 'invalid_value' });
    assert.deepEqual(await create({ id: p.id, variables: { a: 5 } }), { status: 400, param: 'prompt.variables.a', code: 'invalid_value' });
    assert.deepEqual(await create({ id: p.id, variables: { a: { type: 'input_audio' } } }), { status: 400, param: 'prompt.variables.a.type', code: 'invalid_value' });
    assert.deepEqual(await create({ id: p.id, extra: 1 }), { status: 400, param: 'prompt.extra', code: 'unknown_parameter' });
    assert.deepEqual(await create({ id: p.id }, server.client(KEY_B)), { status: 404, param: 'prompt.id', code: 'not_found' });
  });

  it('guardrails check the prompt variables as user input', async () => {
    const p = (await newPrompt('Summarise: {{text}}')).body;
    await call('/guardrails', { method: 'PUT', body: { guardrails: [{ mode: 'ban_words', config: { words: ['forbidden'] } }] } });
    try {
      const r = await server.client().responses.create({ model: 'openai:mock-text', input: 'Go', prompt: { id: p.id, variables: { text: 'a forbidden word' } } });
      assert.equal((r.output[0] as any).content[0].type, 'refusal');
      assert.equal(r.prompt?.id, p.id);
    } finally {
      await call('/guardrails', { method: 'PUT', body: { guardrails: [] } });
    }
  });
});
