// Webhooks (issue 22 item 2): terminal responses are POSTed, signed as OpenAI signs, to the endpoints of
// their key; a receiver verifies every delivery with the official SDK's webhooks.unwrap(). Also: a
// receiver that is down then up, a SIGKILL right after the terminal commit, and two instances on one
// PostgreSQL delivering each event once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import pg from 'pg';
import { answers, dropSchema, randomName } from './support/backends.js';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_A, startServer } from './support/server.js';

const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const secret = `whsec_${randomBytes(24).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Delivery { at: number; event: any; raw: string }

/** A loopback receiver: verifies with the SDK; answers `status()` (500 = down). */
async function startReceiver() {
  const verifier = new OpenAI({ apiKey: 'x', webhookSecret: secret });
  const got: Delivery[] = [];
  const bad: string[] = [];
  let status = 200;
  let hits = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      hits++;
      const raw = Buffer.concat(chunks).toString('utf8');
      if (status === 0) return; // hangs: the sender times out
      if (status !== 200) return res.writeHead(status).end();
      try {
        const event = await verifier.webhooks.unwrap(raw, req.headers as Record<string, string>);
        got.push({ at: performance.now(), event, raw });
        res.writeHead(200).end();
      } catch (err) {
        bad.push((err as Error).message);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got, bad,
    get hits() { return hits; },
    setStatus(s: number) { status = s; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

function hooksFile(dir: string, url: string, events?: string[]): string {
  const file = join(dir, 'webhooks.json');
  writeFileSync(file, JSON.stringify([{ api_key_sha256: createHash('sha256').update(KEY_A).digest('hex'), url, secret, ...(events ? { events } : {}) }]));
  return file;
}

async function waitFor<T>(f: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

const forResponse = (r: Receiver, id: string) => () => r.got.find((d) => d.event.data.id === id);

let upstream: MockUpstream;
let dir: string;
before(async () => {
  upstream = await startMockUpstream();
  dir = mkdtempSync(join(tmpdir(), 'respd-hooks-'));
});
after(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('webhooks', { timeout: 120_000 }, () => {
  it('completed, failed and cancelled responses are delivered, verified by the SDK; p50 latency', async () => {
    const rx = await startReceiver();
    const s = await startServer({ env: { OPENAI_BASE_URL: upstream.url, WEBHOOKS_FILE: hooksFile(dir, rx.url) } });
    try {
      const c = s.client();
      const done = await c.responses.create({ model: 'openai:mock-text', input: 'hi', background: true });
      const d1 = await waitFor(forResponse(rx, done.id));
      assert.equal(d1.event.type, 'response.completed');
      assert.equal(d1.event.object, 'event');
      assert.match(d1.event.id, /^evt_/);
      assert.equal(typeof d1.event.created_at, 'number');

      const failed = await c.responses.create({ model: 'openai:mock-error-500', input: 'hi', background: true });
      assert.equal((await waitFor(forResponse(rx, failed.id))).event.type, 'response.failed');

      const slow = await c.responses.create({ model: 'openai:mock-slow', input: 'hi', background: true });
      await sleep(150);
      await c.responses.cancel(slow.id);
      assert.equal((await waitFor(forResponse(rx, slow.id))).event.type, 'response.cancelled');

      // Another key's responses are not sent to this key's endpoint.
      const other = await s.client('test-key-bravo').responses.create({ model: 'openai:mock-text', input: 'hi' });
      // Latency from the terminal commit (a foreground response returns once it is committed).
      const lat: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await c.responses.create({ model: 'openai:mock-text', input: `n${i}` });
        const t0 = performance.now();
        const d = await waitFor(forResponse(rx, r.id));
        lat.push(Math.max(0, d.at - t0));
      }
      lat.sort((a, b) => a - b);
      console.log(`# webhook delivery after terminal commit: p50 ${lat[10].toFixed(1)} ms, max ${lat[19].toFixed(1)} ms (20 responses)`);
      assert.equal(rx.got.find((d) => d.event.data.id === other.id), undefined);
      assert.deepEqual(rx.bad, []);
      // Each event once.
      assert.equal(new Set(rx.got.map((d) => d.event.id)).size, rx.got.length);
    } finally {
      await s.stop();
      await rx.close();
    }
  });

  it('a receiver that is down, then up, gets the event after retries', async () => {
    const rx = await startReceiver();
    rx.setStatus(500);
    const s = await startServer({ env: { OPENAI_BASE_URL: upstream.url, WEBHOOKS_FILE: hooksFile(dir, rx.url), WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_POLL_MS: '20' } });
    try {
      const r = await s.client().responses.create({ model: 'openai:mock-text', input: 'hi' });
      await waitFor(() => (rx.hits >= 3 ? true : undefined));
      assert.equal(rx.got.length, 0);
      rx.setStatus(200);
      assert.equal((await waitFor(forResponse(rx, r.id))).event.type, 'response.completed');
      assert.ok(s.logs.some((l) => l.includes('webhook delivery failed')));
    } finally {
      await s.stop();
      await rx.close();
    }
  });

  it('an event committed just before SIGKILL is delivered after the restart', async () => {
    const rx = await startReceiver();
    // Hanging: the first instance's attempt (if it starts before the kill) never ends, so nothing is
    // delivered before the crash; the row stays leased for 2 × WEBHOOK_TIMEOUT_MS + 5 s at most.
    rx.setStatus(0);
    const dataDir = mkdtempSync(join(tmpdir(), 'respd-hooks-kill-'));
    const env = { OPENAI_BASE_URL: upstream.url, WEBHOOKS_FILE: hooksFile(dir, rx.url), WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_RETRY_BASE_MS: '50' };
    try {
      const s1 = await startServer({ dataDir, env });
      const r = await s1.client().responses.create({ model: 'openai:mock-text', input: 'hi' });
      await s1.stop('SIGKILL');
      assert.equal(rx.got.length, 0);
      rx.setStatus(200);
      // Only the outbox row can bring it back: the process that committed it is gone.
      const s2 = await startServer({ dataDir, env });
      try {
        assert.equal((await waitFor(forResponse(rx, r.id), 20_000)).event.type, 'response.completed');
      } finally {
        await s2.stop();
      }
    } finally {
      await rx.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('bad endpoint configuration stops the server with a message', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ api_key_sha256: 'a'.repeat(64), url: 'ftp://x/y', secret }]));
    await assert.rejects(startServer({ env: { WEBHOOKS_FILE: file } }), /http\(s\) URL/);
    writeFileSync(file, JSON.stringify([{ api_key_sha256: 'a'.repeat(64), url: 'http://x/y', secret: 'nope' }]));
    await assert.rejects(startServer({ env: { WEBHOOKS_FILE: file } }), /whsec_/);
    writeFileSync(file, JSON.stringify([{ api_key_sha256: 'a'.repeat(64), url: 'http://x/y', secret, events: ['response.created'] }]));
    await assert.rejects(startServer({ env: { WEBHOOKS_FILE: file } }), /events/);
  });

  it('delivered and given-up rows are pruned after WEBHOOK_KEEP_MS; rows still being retried are kept', async () => {
    const up = await startReceiver();
    const down = await startReceiver();
    down.setStatus(500);
    const hash = createHash('sha256').update(KEY_A).digest('hex');
    const file = join(dir, 'two.json');
    writeFileSync(file, JSON.stringify([{ api_key_sha256: hash, url: up.url, secret }, { api_key_sha256: hash, url: down.url, secret }]));
    const data = mkdtempSync(join(tmpdir(), 'respd-hooks-prune-'));
    const env = {
      OPENAI_BASE_URL: upstream.url, WEBHOOKS_FILE: file, DATABASE_URL: '', REDIS_URL: '',
      WEBHOOK_POLL_MS: '20', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_CAP_MS: '100', WEBHOOK_KEEP_MS: '300', WEBHOOK_PRUNE_INTERVAL_MS: '1000',
    };
    const rows = () => {
      const db = new Database(join(data, 'respd.db'), { readonly: true });
      try {
        return db.prepare('SELECT endpoint, delivered_at IS NOT NULL AS delivered FROM webhook_outbox ORDER BY endpoint').all() as Array<{ endpoint: string; delivered: number }>;
      } finally {
        db.close();
      }
    };
    let s = await startServer({ dataDir: data, env });
    try {
      const r = await s.client().responses.create({ model: 'openai:mock-text', input: 'hi' });
      await waitFor(forResponse(up, r.id));
      await waitFor(() => (down.hits >= 2 ? true : undefined));
      // Within one prune interval plus WEBHOOK_KEEP_MS, the delivered row goes; the failing one stays.
      const left = await waitFor(() => { const x = rows(); return x.length === 1 ? x : undefined; }, 5000);
      assert.deepEqual(left, [{ endpoint: down.url, delivered: 0 }]);
      await waitFor(() => (s.logs.some((l) => l.includes('webhook outbox pruned')) ? true : undefined), 2000);
      await s.stop();
      // Restarted with a give-up time already past: its next attempt gives up, then it is pruned too.
      s = await startServer({ dataDir: data, env: { ...env, WEBHOOK_GIVE_UP_MS: '1' } });
      await waitFor(() => (rows().length === 0 ? true : undefined), 5000);
      assert.equal(up.got.length, 1);
    } finally {
      await s.stop();
      await Promise.all([up.close(), down.close()]);
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('two instances on one PostgreSQL deliver each event once', async (t) => {
    const u = new URL(PG_URL);
    if (!await answers(u.hostname || '127.0.0.1', Number(u.port || 5432))) {
      const reason = `PostgreSQL (${PG_URL}) does not answer`;
      if (process.env.CI) throw new Error(`${reason}; in CI it must run`);
      console.log(`# skipping: ${reason}`);
      t.skip(reason);
      return;
    }
    const schema = randomName('respd_hooks');
    const rx = await startReceiver();
    const env = { OPENAI_BASE_URL: upstream.url, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, WEBHOOKS_FILE: hooksFile(dir, rx.url), WEBHOOK_POLL_MS: '5', WEBHOOK_KEEP_MS: '300', WEBHOOK_PRUNE_INTERVAL_MS: '1000' };
    const a = await startServer({ env });
    const b = await startServer({ env });
    try {
      const ids: string[] = [];
      await Promise.all([a, b].map(async (s) => {
        for (let i = 0; i < 10; i++) ids.push((await s.client().responses.create({ model: 'openai:mock-text', input: `x${i}` })).id);
      }));
      for (const id of ids) await waitFor(forResponse(rx, id));
      await sleep(500);
      assert.equal(rx.got.length, ids.length);
      assert.equal(new Set(rx.got.map((d) => d.event.data.id)).size, ids.length);
      // Both instances prune the shared table (SKIP LOCKED): every delivered row goes.
      const db = new pg.Client({ connectionString: PG_URL });
      await db.connect();
      try {
        const count = async () => Number((await db.query(`SELECT count(*) AS n FROM "${schema}".webhook_outbox`)).rows[0].n);
        const end = Date.now() + 5000;
        while ((await count()) > 0 && Date.now() < end) await sleep(50);
        assert.equal(await count(), 0);
      } finally {
        await db.end();
      }
    } finally {
      await Promise.allSettled([a.stop(), b.stop()]);
      await rx.close();
      await dropSchema(PG_URL, schema);
    }
  });
});
