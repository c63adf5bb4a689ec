// Webhook outbox on PostgreSQL: rows are inserted in the transaction that commits a response's terminal
// batch (PgStore.appendEvents, only for batches that passed the fence). Instances share the table; a
// claim takes due rows with FOR UPDATE SKIP LOCKED and sets a lease, so each row is sent by one
// instance at a time and, once delivered, never again.
import type pg from 'pg';
import type { OutboxRow, WebhookOutbox } from '../types.js';

export const webhooksMigration = {
  version: 6,
  sql: `
    CREATE TABLE webhook_outbox (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      event TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      lease_until BIGINT NOT NULL DEFAULT 0,
      delivered_at BIGINT
    );
    CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;
  `,
};

/** next_attempt_at of a row given up on: never due again. */
const GAVE_UP = Number.MAX_SAFE_INTEGER;

interface Row { id: string; tenant: string; endpoint: string; event: string; created_at: string; attempts: number }

export async function insertOutbox(c: pg.PoolClient, rows: OutboxRow[]): Promise<void> {
  if (!rows.length) return;
  await c.query(`INSERT INTO webhook_outbox (id, tenant, endpoint, event, created_at, next_attempt_at)
    SELECT *, 0 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) ON CONFLICT DO NOTHING`,
  [rows.map((r) => r.id), rows.map((r) => r.tenant), rows.map((r) => r.endpoint), rows.map((r) => r.event), rows.map((r) => r.createdAt)]);
}

export class PgWebhookOutbox implements WebhookOutbox {
  constructor(private readonly pool: pg.Pool) {}

  async claim(nowMs: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<Row>(`UPDATE webhook_outbox o SET lease_until = $2 FROM (
        SELECT id FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND lease_until <= $1
        ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) d
      WHERE o.id = d.id RETURNING o.id, o.tenant, o.endpoint, o.event, o.created_at, o.attempts`, [nowMs, nowMs + leaseMs, limit]);
    return rows.map((r) => ({ id: r.id, tenant: r.tenant, endpoint: r.endpoint, event: r.event, createdAt: Number(r.created_at), attempts: r.attempts }));
  }

  async delivered(id: string, nowMs: number): Promise<void> {
    await this.pool.query('UPDATE webhook_outbox SET delivered_at = $1, lease_until = 0 WHERE id = $2', [nowMs, id]);
  }

  async retry(id: string, attempts: number, nextMs: number | null): Promise<void> {
    await this.pool.query('UPDATE webhook_outbox SET attempts = $1, next_attempt_at = $2, lease_until = 0 WHERE id = $3', [attempts, nextMs ?? GAVE_UP, id]);
  }

  async prune(beforeMs: number, limit: number): Promise<number> {
    // SKIP LOCKED: two instances pruning at once take different rows instead of waiting on each other.
    const r = await this.pool.query(`DELETE FROM webhook_outbox WHERE id IN (
        SELECT id FROM webhook_outbox WHERE (delivered_at IS NOT NULL AND delivered_at < $1)
          OR (delivered_at IS NULL AND next_attempt_at = $2 AND created_at < $1)
        LIMIT $3 FOR UPDATE SKIP LOCKED)`, [beforeMs, GAVE_UP, limit]);
    return r.rowCount ?? 0;
  }
}
