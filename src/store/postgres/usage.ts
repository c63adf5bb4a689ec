// The usage ledger on PostgreSQL (issue 23): the same table and sums as sqlite/usage.ts, shared by every
// instance (each buffers its own completions and inserts them in one statement per flush).
import type pg from 'pg';
import type { UsageQuery } from '../types.js';
import type { CompletionUsageRow, ConversationUsageRow, LedgerRow, UsageStore } from '../usage.js';
import { mergeConversationRows } from '../sqlite/usage.js';

/** Version 10 of the PostgreSQL migrations (SQLite's version 11: the same table). */
export const usageLedgerMigration = {
  version: 10,
  sql: `
    CREATE TABLE usage_ledger (
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      model TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      input_tokens BIGINT NOT NULL,
      output_tokens BIGINT NOT NULL,
      cached_tokens BIGINT NOT NULL,
      requests INTEGER NOT NULL,
      stream BOOLEAN NOT NULL
    );
    CREATE INDEX usage_ledger_owner ON usage_ledger (tenant, created_at);
  `,
};

const args = (q: UsageQuery) => [q.tenant, q.start, q.end, q.width, q.endUser ?? null];

export class PgUsageStore implements UsageStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(rows: LedgerRow[]): Promise<void> {
    // One statement for the batch: arrays unnested into rows.
    await this.pool.query(`INSERT INTO usage_ledger (tenant, end_user, model, created_at, input_tokens, output_tokens, cached_tokens, requests, stream)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::int[], $9::boolean[])`, [
      rows.map((r) => r.tenant), rows.map((r) => r.endUser), rows.map((r) => r.model), rows.map((r) => r.createdAt),
      rows.map((r) => r.inputTokens), rows.map((r) => r.outputTokens), rows.map((r) => r.cachedTokens),
      rows.map((r) => r.requests), rows.map((r) => r.stream),
    ]);
  }

  async completionRows(q: UsageQuery): Promise<CompletionUsageRow[]> {
    const { rows } = await this.pool.query<Record<string, string>>(`
      SELECT (created_at - $2) / $4 AS bucket, end_user, model, sum(requests) AS requests,
        sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cached_tokens) AS cached
      FROM usage_ledger WHERE tenant = $1 AND ($5::text IS NULL OR end_user = $5) AND created_at >= $2 AND created_at < $3
      GROUP BY 1, 2, 3`, args(q));
    return rows.map((r) => ({
      bucket: Number(r.bucket), endUser: r.end_user, model: r.model, requests: Number(r.requests),
      inputTokens: Number(r.input), outputTokens: Number(r.output), cachedTokens: Number(r.cached),
    }));
  }

  async conversationRows(q: UsageQuery): Promise<ConversationUsageRow[]> {
    const created = await this.pool.query<{ bucket: string; end_user: string; n: string }>(`
      SELECT (created_at - $2) / $4 AS bucket, end_user, count(*) AS n FROM conversations
      WHERE tenant = $1 AND ($5::text IS NULL OR end_user = $5) AND created_at >= $2 AND created_at < $3 GROUP BY 1, 2`, args(q));
    // Operations as in sqlite/usage.ts: one per response turn or items call; creation items belong to the creation.
    const items = await this.pool.query<{ bucket: string; end_user: string; n: string; ops: string }>(`
      SELECT (i.created_at - $2) / $4 AS bucket, c.end_user, count(*) AS n,
        count(DISTINCT CASE WHEN i.response_id IS NULL AND i.created_at = c.created_at THEN NULL
          ELSE i.conversation_id || ':' || COALESCE(i.response_id, i.created_at::text) END) AS ops
      FROM conversations c JOIN conversation_items i ON i.conversation_id = c.id
      WHERE c.tenant = $1 AND ($5::text IS NULL OR c.end_user = $5) AND i.created_at >= $2 AND i.created_at < $3
      GROUP BY 1, 2`, args(q));
    return mergeConversationRows(created.rows, items.rows);
  }
}
