// The usage ledger on SQLite (issue 23): one row per chat completion, inserted in batches (usage/ledger.ts)
// through the store's `write`; completions usage sums it, conversations usage counts the conversations
// tables. Its own file and migration so the version number is easy to move.
import type Database from 'better-sqlite3';
import type { UsageQuery } from '../types.js';
import type { CompletionUsageRow, ConversationUsageRow, LedgerRow, UsageStore } from '../usage.js';

export const usageLedgerMigration = {
  version: 11,
  sql: `
    CREATE TABLE usage_ledger (
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      model TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      input_tokens INTEGER NOT NULL,
      output_tokens INTEGER NOT NULL,
      cached_tokens INTEGER NOT NULL,
      requests INTEGER NOT NULL,
      stream INTEGER NOT NULL
    );
    CREATE INDEX usage_ledger_owner ON usage_ledger (tenant, created_at);
  `,
};

type Params = Omit<UsageQuery, 'endUser'> & { endUser: string | null };
const params = (q: UsageQuery): Params => ({ ...q, endUser: q.endUser ?? null });
const OWNER = 'tenant = @tenant AND (@endUser IS NULL OR end_user = @endUser)';

export class SqliteUsageStore implements UsageStore {
  private readonly ins: Database.Statement;
  private readonly completions: Database.Statement;
  private readonly created: Database.Statement;
  private readonly items: Database.Statement;

  constructor(db: Database.Database, private readonly write: <T>(fn: () => T) => Promise<T>) {
    this.ins = db.prepare(`INSERT INTO usage_ledger (tenant, end_user, model, created_at, input_tokens, output_tokens, cached_tokens, requests, stream)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.completions = db.prepare(`SELECT (created_at - CAST(@start AS INTEGER)) / CAST(@width AS INTEGER) AS bucket, end_user, model, sum(requests) AS requests,
        sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cached_tokens) AS cached
      FROM usage_ledger WHERE ${OWNER} AND created_at >= @start AND created_at < @end GROUP BY 1, 2, 3`);
    this.created = db.prepare(`SELECT (created_at - CAST(@start AS INTEGER)) / CAST(@width AS INTEGER) AS bucket, end_user, count(*) AS n
      FROM conversations WHERE ${OWNER} AND created_at >= @start AND created_at < @end GROUP BY 1, 2`);
    // An operation is one write that added items: a response's turn (its response_id) or an items call
    // (the items of one conversation added in the same second); the items a conversation was created
    // with belong to its creation, counted above.
    this.items = db.prepare(`SELECT (i.created_at - CAST(@start AS INTEGER)) / CAST(@width AS INTEGER) AS bucket, c.end_user, count(*) AS n,
        count(DISTINCT CASE WHEN i.response_id IS NULL AND i.created_at = c.created_at THEN NULL
          ELSE i.conversation_id || ':' || COALESCE(i.response_id, i.created_at) END) AS ops
      FROM conversations c JOIN conversation_items i ON i.conversation_id = c.id
      WHERE c.tenant = @tenant AND (@endUser IS NULL OR c.end_user = @endUser) AND i.created_at >= @start AND i.created_at < @end
      GROUP BY 1, 2`);
  }

  async insert(rows: LedgerRow[]): Promise<void> {
    await this.write(() => {
      for (const r of rows) this.ins.run(r.tenant, r.endUser, r.model, r.createdAt, r.inputTokens, r.outputTokens, r.cachedTokens, r.requests, r.stream ? 1 : 0);
    });
  }

  async completionRows(q: UsageQuery): Promise<CompletionUsageRow[]> {
    return (this.completions.all(params(q)) as Array<Record<string, number | string>>).map((r) => ({
      bucket: Number(r.bucket), endUser: String(r.end_user), model: String(r.model), requests: Number(r.requests),
      inputTokens: Number(r.input), outputTokens: Number(r.output), cachedTokens: Number(r.cached),
    }));
  }

  async conversationRows(q: UsageQuery): Promise<ConversationUsageRow[]> {
    const p = params(q);
    return mergeConversationRows(
      this.created.all(p) as Array<{ bucket: number; end_user: string; n: number }>,
      this.items.all(p) as Array<{ bucket: number; end_user: string; n: number; ops: number }>);
  }
}

/** Conversations created and items added, by bucket × end user, into one row each (shared with PostgreSQL). */
export function mergeConversationRows(
  created: Array<{ bucket: number | string; end_user: string; n: number | string }>,
  items: Array<{ bucket: number | string; end_user: string; n: number | string; ops: number | string }>,
): ConversationUsageRow[] {
  const out = new Map<string, ConversationUsageRow>();
  const row = (bucket: number, endUser: string) => {
    const key = `${bucket}\0${endUser}`;
    let r = out.get(key);
    if (!r) out.set(key, (r = { bucket, endUser, created: 0, items: 0, operations: 0 }));
    return r;
  };
  for (const c of created) {
    const r = row(Number(c.bucket), c.end_user);
    r.created += Number(c.n);
    r.operations += Number(c.n);
  }
  for (const i of items) {
    const r = row(Number(i.bucket), i.end_user);
    r.items += Number(i.n);
    r.operations += Number(i.ops);
  }
  return [...out.values()];
}
