// Upgrading an existing SQLite file: a database written before migration 6 (event chunks, items and pending
// conversation items in WITHOUT ROWID tables) is moved to rowid tables on start, and everything it held
// is still read back over HTTP: the replayed stream, the input items and the stored Response.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readSse, startServer, type TestServer } from './support/server.js';

const SQLITE_ONLY = { DATABASE_URL: '', REDIS_URL: '' };

/** Rewrites the v6 tables back into their v5 layout (WITHOUT ROWID) with the same rows, and marks the file v5. */
function downgradeToV5(file: string): void {
  const db = new Database(file);
  db.transaction(() => {
    db.exec(`
      CREATE TABLE e5 (response_id TEXT NOT NULL, first_seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (response_id, first_seq)) WITHOUT ROWID;
      INSERT INTO e5 SELECT response_id, first_seq, data FROM response_events; DROP TABLE response_events; ALTER TABLE e5 RENAME TO response_events;
      CREATE TABLE i5 (response_id TEXT NOT NULL, kind TEXT NOT NULL, idx INTEGER NOT NULL, item_id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (response_id, kind, idx)) WITHOUT ROWID;
      INSERT INTO i5 SELECT response_id, kind, idx, item_id, json FROM response_items; DROP TABLE response_items; ALTER TABLE i5 RENAME TO response_items;
      CREATE TABLE p5 (response_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, items TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO p5 SELECT response_id, conversation_id, items FROM conversation_pending; DROP TABLE conversation_pending; ALTER TABLE p5 RENAME TO conversation_pending;
      DROP TABLE webhook_outbox; -- migration 7, which a v5 file did not have
      DROP TABLE api_keys; -- migration 8, likewise
      DROP TABLE container_files; DROP TABLE containers; -- migration 9
      DROP TABLE guardrails; DROP TABLE prompts; DROP TABLE prompt_versions; -- migration 10
      DROP TABLE usage_ledger; -- migration 11
    `);
    db.pragma('user_version = 5');
  })();
  db.close();
}

function layout(file: string): Record<string, boolean> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE name IN ('response_events', 'response_items', 'conversation_pending')").all() as Array<{ name: string; sql: string }>;
    return Object.fromEntries(rows.map((r) => [r.name, /WITHOUT ROWID/i.test(r.sql)]));
  } finally {
    db.close();
  }
}

describe('SQLite migration 6 (rowid tables for large rows)', () => {
  let dataDir: string;
  let server: TestServer | undefined;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'respd-mig-'));
  });
  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every event, item and the Response of a database written before it', async () => {
    server = await startServer({ dataDir, env: SQLITE_ONLY });
    const input = 'Once upon a time, ' + 'a long input to make the item large. '.repeat(50);
    const created = await readSse(await server.fetch('/responses', {
      method: 'POST', body: JSON.stringify({ model: 'auto', input, stream: true, max_output_tokens: 24, truncation: 'auto' }),
    }));
    assert.ok(created.length, 'the create streamed');
    const id = created[0].data.response.id as string;
    const before = await readSse(await server.fetch(`/responses/${id}?stream=true&starting_after=0`));
    const items = await (await server.fetch(`/responses/${id}/input_items`)).json() as { data: unknown[] };
    assert.ok(before.length >= 4, `a replayable log (${before.length} events)`);
    await server.stop();
    server = undefined;

    const file = join(dataDir, 'respd.db');
    downgradeToV5(file);
    assert.deepEqual(layout(file), { response_events: true, response_items: true, conversation_pending: true });

    server = await startServer({ dataDir, env: SQLITE_ONLY });
    assert.deepEqual(layout(file), { response_events: false, response_items: false, conversation_pending: false });
    const after = await readSse(await server.fetch(`/responses/${id}?stream=true&starting_after=0`));
    assert.deepEqual(after.map((e) => e.data), before.map((e) => e.data), 'the same events after the upgrade');
    assert.deepEqual(await (await server.fetch(`/responses/${id}/input_items`)).json(), items);
    const r = await server.client().responses.retrieve(id);
    assert.equal(r.id, id);
    assert.equal(r.status, created.at(-1)!.data.response.status);
  });
});
