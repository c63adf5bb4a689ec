// Webhook outbox on SQLite: rows are inserted by the group commit that writes a response's terminal
// event (SqliteStore.appendEvents), so a crash cannot separate the two; the worker claims due rows with a
// lease column (one process owns a SQLite file, but a lease also keeps a slow attempt from being re-sent).
import type Database from 'better-sqlite3';
import type { OutboxRow, WebhookOutbox } from '../types.js';

export const webhooksMigration = {
  version: 7,
  sql: `
    CREATE TABLE webhook_outbox (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      event TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      lease_until INTEGER NOT NULL DEFAULT 0,
      delivered_at INTEGER
    );
    CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;
  `,
};

/** next_attempt_at of a row given up on: never due again. */
const GAVE_UP = Number.MAX_SAFE_INTEGER;

interface Row { id: string; tenant: string; endpoint: string; event: string; created_at: number; attempts: number }

export class SqliteWebhookOutbox implements WebhookOutbox {
  private readonly ins: Database.Statement;
  private readonly claimStmt: Database.Statement;
  private readonly doneStmt: Database.Statement;
  private readonly retryStmt: Database.Statement;
  private readonly pruneStmt: Database.Statement;

  constructor(db: Database.Database, private readonly write: <T>(fn: () => T) => Promise<T>) {
    this.ins = db.prepare('INSERT OR IGNORE INTO webhook_outbox (id, tenant, endpoint, event, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, 0)');
    this.claimStmt = db.prepare(`UPDATE webhook_outbox SET lease_until = @lease WHERE id IN (
      SELECT id FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= @now AND lease_until <= @now
      ORDER BY next_attempt_at LIMIT @limit) RETURNING id, tenant, endpoint, event, created_at, attempts`);
    this.doneStmt = db.prepare('UPDATE webhook_outbox SET delivered_at = ?, lease_until = 0 WHERE id = ?');
    // Given up: kept (delivered_at stays NULL) but never due again, so an operator can see it.
    this.retryStmt = db.prepare('UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?, lease_until = 0 WHERE id = ?');
    // No index serves this: it runs once per WEBHOOK_PRUNE_INTERVAL_MS over a table that pruning keeps to
    // WEBHOOK_KEEP_MS of events, in batches so that no write waits long behind it.
    this.pruneStmt = db.prepare(`DELETE FROM webhook_outbox WHERE id IN (
      SELECT id FROM webhook_outbox WHERE (delivered_at IS NOT NULL AND delivered_at < @before)
        OR (delivered_at IS NULL AND next_attempt_at = ${GAVE_UP} AND created_at < @before) LIMIT @limit)`);
  }

  /** Inside the caller's transaction. */
  insert(rows: OutboxRow[]): void {
    for (const r of rows) this.ins.run(r.id, r.tenant, r.endpoint, r.event, r.createdAt);
  }

  async claim(nowMs: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    const rows = await this.write(() => this.claimStmt.all({ now: nowMs, lease: nowMs + leaseMs, limit }) as Row[]);
    return rows.map((r) => ({ id: r.id, tenant: r.tenant, endpoint: r.endpoint, event: r.event, createdAt: r.created_at, attempts: r.attempts }));
  }

  async delivered(id: string, nowMs: number): Promise<void> {
    await this.write(() => this.doneStmt.run(nowMs, id));
  }

  async retry(id: string, attempts: number, nextMs: number | null): Promise<void> {
    await this.write(() => this.retryStmt.run(attempts, nextMs ?? GAVE_UP, id));
  }

  async prune(beforeMs: number, limit: number): Promise<number> {
    return this.write(() => this.pruneStmt.run({ before: beforeMs, limit }).changes);
  }
}
