// The operator console (README "Operator console"): the /admin endpoints over raw HTTP (admin key only,
// filters, paging, the same resumable stream, 404 when off), then the page itself in headless Chromium
// (Debian's chromium driven by playwright-core): sign in, list, filter, follow a running response live,
// replay a finished one, cancel. Screenshots go to a temporary folder, printed as `# screenshot: …`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConsoleConfig } from '../src/config/console.js';
import { startMockUpstream } from './support/mock-upstream.js';
import { KEY_A, KEY_B, readSse, startServer, type TestServer } from './support/server.js';

const ADMIN = 'test-admin-key-0123456789';
const CHROMIUM = '/usr/bin/chromium';

let server: TestServer;
let off: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  // mock-long: 400 chunks 50 ms apart (20 s): still running while the tests look at it.
  upstream = await startMockUpstream({ models: ['mock-slow', 'mock-long'], scenario: { kind: 'text', chunks: 400, delayMs: 50 } });
  [server, off] = await Promise.all([
    startServer({ env: { OPENAI_BASE_URL: upstream.url, CONSOLE_ADMIN_KEY: ADMIN } }),
    startServer({ env: { OPENAI_BASE_URL: upstream.url } }),
  ]);
});
after(async () => {
  await Promise.all([server?.stop(), off?.stop()]);
  await upstream?.close();
});

const admin = (path: string, init: RequestInit & { key?: string | null } = {}, s = server) => {
  const headers = new Headers(init.headers);
  const key = init.key === undefined ? ADMIN : init.key;
  if (key !== null) headers.set('authorization', `Bearer ${key}`);
  return fetch(`${s.url}${path}`, { ...init, headers });
};
const list = async (query: string) => {
  const res = await admin(`/admin/responses?${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  return res.json() as Promise<{ data: Array<{ id: string; status: string; model: string; tenant: string }>; has_more: boolean; last_id: string | null }>;
};

/** A background response of mock-long, created by `key`; returns its id. */
async function startLong(key = KEY_B): Promise<string> {
  const r = await server.client(key).responses.create({ model: 'openai:mock-long', input: 'tell a long story', background: true, stream: false });
  return r.id;
}

describe('CONSOLE_ADMIN_KEY', () => {
  it('is off when unset or empty, and refuses a short or spaced key', () => {
    const fail = (m: string) => new Error(m);
    assert.equal(parseConsoleConfig({}, fail), undefined);
    assert.equal(parseConsoleConfig({ CONSOLE_ADMIN_KEY: '' }, fail), undefined);
    assert.deepEqual(parseConsoleConfig({ CONSOLE_ADMIN_KEY: ADMIN }, fail), { adminKey: ADMIN });
    assert.throws(() => parseConsoleConfig({ CONSOLE_ADMIN_KEY: 'short' }, fail), /at least 16/);
    assert.throws(() => parseConsoleConfig({ CONSOLE_ADMIN_KEY: 'has a space in it 123' }, fail), /without spaces/);
  });
});

describe('console admin endpoints (HTTP)', () => {
  let finished: string;
  let finishedText: string;
  let running: string;
  let otherFinished: string;

  before(async () => {
    const a = await server.client(KEY_A).responses.create({ model: 'openai:mock-slow', input: 'hello console' });
    finished = a.id;
    finishedText = a.output_text;
    otherFinished = (await server.client(KEY_B).responses.create({ model: 'openai:mock-slow', input: 'second' })).id;
    running = await startLong();
  });
  after(async () => {
    await admin(`/admin/responses/${running}/cancel`, { method: 'POST' });
  });

  it('is off (404) without CONSOLE_ADMIN_KEY, whatever the key', async () => {
    for (const key of [ADMIN, KEY_A, null]) {
      assert.equal((await admin('/admin/responses', { key }, off)).status, 404);
      assert.equal((await admin('/console', { key }, off)).status, 404);
    }
  });

  it('refuses tenant keys and no key with 401 in the OpenAI error shape', async () => {
    for (const key of [KEY_A, KEY_B, null, 'wrong-admin-key-0000000000']) {
      const res = await admin('/admin/responses', { key });
      assert.equal(res.status, 401);
      const body = await res.json() as { error: { type: string; code: string; message: string } };
      assert.equal(body.error.code, 'invalid_api_key');
      assert.equal((await admin(`/admin/responses/${finished}/cancel`, { key, method: 'POST' })).status, 401);
    }
    // The admin key is not a tenant key either.
    assert.equal((await server.fetch('/responses', { key: ADMIN })).status, 401);
  });

  it('serves the page without a key (the page asks for it)', async () => {
    const res = await admin('/console', { key: null });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<script type="module" src="\/console\/app.js">/);
    const js = await admin('/console/app.js', { key: null });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
  });

  it('lists every tenant\'s responses, newest first, with filters', async () => {
    const all = await list('limit=100');
    const ids = all.data.map((r) => r.id);
    for (const id of [finished, otherFinished, running]) assert.ok(ids.includes(id), `${id} missing`);
    assert.ok(ids.indexOf(running) < ids.indexOf(finished), 'newest first');
    assert.equal(new Set(all.data.map((r) => r.tenant)).size >= 2, true, 'two tenants');

    const done = await list('status=completed');
    assert.ok(done.data.every((r) => r.status === 'completed'));
    assert.ok(done.data.some((r) => r.id === finished) && !done.data.some((r) => r.id === running));
    const live = await list('status=queued,in_progress');
    assert.deepEqual(live.data.map((r) => r.id), [running]);

    assert.deepEqual((await list('model=openai:mock-long')).data.map((r) => r.id), [running]);
    const tenantA = all.data.find((r) => r.id === finished)!.tenant;
    assert.deepEqual((await list(`tenant=${tenantA}`)).data.map((r) => r.id), [finished]);
    assert.equal((await list('created_before=1000')).data.length, 0);
    assert.equal((await list(`created_after=${Math.floor(Date.now() / 1000) + 3600}`)).data.length, 0);
    assert.equal((await list(`created_after=${new Date(Date.now() - 3_600_000).toISOString()}`)).data.length, all.data.length);

    for (const bad of ['status=done', 'limit=0', 'limit=101', 'created_after=yesterday']) {
      const res = await admin(`/admin/responses?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal((await res.json() as { error: { type: string } }).error.type, 'invalid_request_error');
    }
  });

  it('pages with after and has_more', async () => {
    const seen: string[] = [];
    let after = '';
    for (let i = 0; i < 3; i++) {
      const page = await list(`limit=1${after && `&after=${after}`}`);
      assert.equal(page.data.length, 1);
      seen.push(page.data[0].id);
      assert.equal(page.has_more, i < 2);
      after = page.last_id!;
    }
    assert.deepEqual(seen, [running, otherFinished, finished]);
    assert.equal((await list('after=resp_unknown')).data.length, 0);
  });

  it('shows one response with its input and output items', async () => {
    const res = await admin(`/admin/responses/${finished}`);
    assert.equal(res.status, 200);
    const d = await res.json() as { status: string; input_items: Array<{ content: Array<{ text: string }> }>; response: { output: Array<{ type: string; content?: Array<{ text: string }> }> } };
    assert.equal(d.status, 'completed');
    assert.equal(d.input_items[0].content[0].text, 'hello console');
    assert.equal(d.response.output.find((o) => o.type === 'message')!.content![0].text, finishedText);
    assert.equal((await admin('/admin/responses/resp_nope')).status, 404);
  });

  it('streams a finished response from the start: the same resumable SSE a client gets', async () => {
    const res = await admin(`/admin/responses/${finished}/stream?starting_after=-1`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = await readSse(res);
    assert.equal(events[0].data.type, 'response.created');
    assert.equal(events.at(-1)!.data.type, 'response.completed');
    const text = events.filter((e) => e.data.type === 'response.output_text.delta').map((e) => e.data.delta).join('');
    assert.equal(text, finishedText);
    // Resuming: starting_after skips what was seen, as on GET /responses/{id}?stream=true.
    const tenant = await readSse(await server.fetch(`/responses/${finished}?stream=true&starting_after=3`));
    const resumed = await readSse(await admin(`/admin/responses/${finished}/stream?starting_after=3`));
    assert.deepEqual(resumed.map((e) => e.data), tenant.map((e) => e.data));
    assert.equal(resumed[0].data.sequence_number, 4);
    assert.equal((await admin(`/admin/responses/${finished}/stream?starting_after=x`)).status, 400);
  });

  it('cancels only background responses', async () => {
    const res = await admin(`/admin/responses/${finished}/cancel`, { method: 'POST' });
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: { code: string } }).error.code, 'not_background');
    const id = await startLong(KEY_A);
    const c = await admin(`/admin/responses/${id}/cancel`, { method: 'POST' });
    assert.equal(c.status, 200);
    assert.equal((await c.json() as { status: string }).status, 'cancelled');
    // The tenant sees its response cancelled.
    assert.equal((await server.client(KEY_A).responses.retrieve(id)).status, 'cancelled');
  });
});

describe('console page (headless Chromium)', () => {
  it('signs in, lists, filters, follows live, replays and cancels', async (t) => {
    if (!existsSync(CHROMIUM)) {
      const why = `${CHROMIUM} is absent (apt-get install -y chromium)`;
      if (process.env.CI === 'true') assert.fail(`CI=true: ${why}`);
      t.skip(why);
      return;
    }
    const { chromium } = await import('playwright-core');
    const shots = mkdtempSync(join(tmpdir(), 'respd-console-shots-'));
    const shot = async (page: import('playwright-core').Page, name: string) => {
      const path = join(shots, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      console.log(`# screenshot: ${path}`);
    };
    const finished = await server.client(KEY_A).responses.create({ model: 'openai:mock-slow', input: 'replay me' });
    const running = await startLong();

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${server.url}/console`);
      // A wrong key is refused and asked again.
      await page.fill('#admin-key', KEY_A);
      await page.click('#sign-in');
      await page.waitForSelector('text=The admin key was refused.');
      await page.fill('#admin-key', ADMIN);
      await page.click('#sign-in');
      await page.waitForSelector(`tr[data-id="${running.slice(0)}"]`);
      await page.waitForSelector(`tr[data-id="${finished.id}"]`);
      await shot(page, '1-list');

      // Filter by status: only running ones.
      await page.selectOption('#f-status', 'in_progress');
      await page.waitForFunction((id) => {
        const rows = [...document.querySelectorAll('#responses tbody tr')];
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-status') === 'in_progress') && rows.some((r) => r.getAttribute('data-id') === id);
      }, running);
      assert.equal(await page.locator(`tr[data-id="${finished.id}"]`).count(), 0);
      await shot(page, '2-filtered');

      // The running one: text arrives live.
      await page.click(`tr[data-id="${running}"]`);
      await page.waitForSelector('#stream-mode');
      await page.waitForFunction(() => (document.querySelector('#live-text')?.textContent ?? '').length > 0);
      const first = (await page.textContent('#live-text'))!.length;
      await page.waitForFunction((n) => (document.querySelector('#live-text')?.textContent ?? '').length > n + 20, first);
      await shot(page, '3-live');

      // The finished one: replayed from the start, to its full text.
      await page.selectOption('#f-status', '');
      await page.click(`tr[data-id="${finished.id}"]`);
      await page.click('#replay');
      await page.waitForFunction((text) => document.querySelector('#live-text')?.textContent === text && !document.querySelector('#stream-mode'), finished.output_text, { timeout: 20_000 });
      assert.match((await page.textContent('#detail'))!, /replay me/);
      await shot(page, '4-replayed');

      // Cancel the running one: its status becomes cancelled, in the page and for its tenant.
      await page.click(`tr[data-id="${running}"]`);
      await page.click('#cancel');
      await page.waitForFunction(() => document.querySelector('#detail-status')?.textContent === 'cancelled');
      await page.waitForSelector(`tr[data-id="${running}"][data-status="cancelled"]`);
      await shot(page, '5-cancelled');
      assert.equal((await server.client(KEY_B).responses.retrieve(running)).status, 'cancelled');
    } finally {
      await browser.close();
    }
  });
});
