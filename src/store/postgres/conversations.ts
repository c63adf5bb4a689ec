// Conversations in PostgreSQL (scale-out), on the PostgresStore's pool. Full-text search uses a
// tsvector of each item's text ('simple' configuration: no stemming, like SQLite's unicode61) with a
// GIN index, queried with plainto_tsquery (every word required).
//
// Several instances may append to one conversation at once, so an append locks the conversation row
// (SELECT … FOR UPDATE) and numbers its items from the current maximum position: blocks never
// interleave. `appendTurns` runs inside PostgresStore's group-commit transaction.
import type pg from 'pg';
import { inTransaction } from './tx.js';
import {
  APPENDING_STATUSES, itemText, searchTerms, type ConversationItemRecord, type ConversationListQuery,
  type ConversationRecord, type ConversationStore, type ItemPageQuery,
} from '../conversations.js';
import type { AppendBatch, Owner, StoredItem } from '../types.js';

/** Version 2 of the PostgreSQL migrations (the same tables as SQLite's version 2). */
export const conversationsMigration = {
  version: 2,
  sql: `
    CREATE SEQUENCE conversation_updates;
    CREATE TABLE conversations (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_seq BIGINT NOT NULL,
      metadata JSONB NOT NULL
    );
    CREATE INDEX conversations_owner ON conversations (tenant, end_user, updated_seq);
    CREATE TABLE conversation_items (
      conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
      position BIGINT NOT NULL,
      item_id TEXT NOT NULL,
      response_id TEXT,
      created_at BIGINT NOT NULL,
      json TEXT NOT NULL,
      tsv TSVECTOR NOT NULL,
      PRIMARY KEY (conversation_id, position)
    );
    CREATE INDEX conversation_items_id ON conversation_items (conversation_id, item_id);
    CREATE INDEX conversation_items_tsv ON conversation_items USING GIN (tsv);
    CREATE TABLE conversation_pending (
      response_id TEXT PRIMARY KEY,
      conversation_id TEXT NOT NULL,
      items TEXT NOT NULL
    );
  `,
};

interface ConvRow { id: string; tenant: string; end_user: string; created_at: string; metadata: Record<string, string> }
interface ItemRow { position: string; item_id: string; json: string; response_id: string | null }

const CONV_COLS = 'id, tenant, end_user, created_at, metadata';
const ITEM_COLS = 'position, item_id, json, response_id';
const toConv = (r: ConvRow): ConversationRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: Number(r.created_at), metadata: r.metadata,
});
const toItem = (r: ItemRow): ConversationItemRecord => ({ id: r.item_id, json: r.json, responseId: r.response_id });
const now = () => Math.floor(Date.now() / 1000);

type Q = Pick<pg.PoolClient, 'query'>;

export class PgConversationStore implements ConversationStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly onAppendError: (err: unknown, responseId: string) => void = (err, id) => console.error(`conversation append for ${id} failed`, err),
  ) {}

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  /** Locks the conversation and appends after its last item; false if it does not exist. */
  private async appendIn(c: Q, conversationId: string, items: StoredItem[], responseId: string | null): Promise<boolean> {
    const locked = await c.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [conversationId]);
    if (!locked.rowCount) return false;
    if (items.length) {
      await c.query(`
        INSERT INTO conversation_items (conversation_id, position, item_id, response_id, created_at, json, tsv)
        SELECT $1, base.p + t.i, t.item_id, $2, $3, t.json, to_tsvector('simple', t.text)
        FROM (SELECT COALESCE(MAX(position), 0) AS p FROM conversation_items WHERE conversation_id = $1) base,
          unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(item_id, json, text, i)`,
      [conversationId, responseId, now(), items.map((it) => it.id), items.map((it) => it.json), items.map((it) => itemText(it.json))]);
    }
    await c.query("UPDATE conversations SET updated_seq = nextval('conversation_updates') WHERE id = $1", [conversationId]);
    return true;
  }

  async createConversation(rec: ConversationRecord, items: StoredItem[]): Promise<void> {
    await this.tx(async (c) => {
      await c.query(`INSERT INTO conversations (id, tenant, end_user, created_at, updated_seq, metadata)
        VALUES ($1, $2, $3, $4, nextval('conversation_updates'), $5::jsonb)`,
      [rec.id, rec.tenant, rec.endUser, rec.createdAt, JSON.stringify(rec.metadata)]);
      await this.appendIn(c, rec.id, items, null);
    });
  }

  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    const { rows } = await this.pool.query<ConvRow>(`SELECT ${CONV_COLS} FROM conversations WHERE id = $1`, [id]);
    return rows[0] && toConv(rows[0]);
  }

  async listConversations(owner: Owner, q: ConversationListQuery): Promise<ConversationRecord[]> {
    const where = ['tenant = $1', 'end_user = $2'];
    const args: unknown[] = [owner.tenant, owner.endUser];
    if (q.after) {
      args.push(q.after);
      // An unknown cursor gives NULL, so no rows (as in SQLite).
      where.push(`updated_seq ${q.order === 'desc' ? '<' : '>'} (SELECT updated_seq FROM conversations WHERE id = $${args.length} AND tenant = $1 AND end_user = $2)`);
    }
    if (q.metadata && Object.keys(q.metadata).length) {
      args.push(JSON.stringify(q.metadata));
      where.push(`metadata @> $${args.length}::jsonb`);
    }
    if (q.search !== undefined) {
      const terms = searchTerms(q.search);
      if (!terms.length) return [];
      args.push(terms.join(' '));
      where.push(`id IN (SELECT conversation_id FROM conversation_items WHERE tsv @@ plainto_tsquery('simple', $${args.length}))`);
    }
    args.push(q.limit);
    const sql = `SELECT ${CONV_COLS} FROM conversations WHERE ${where.join(' AND ')}
      ORDER BY updated_seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`;
    return (await this.pool.query<ConvRow>(sql, args)).rows.map(toConv);
  }

  async updateConversationMetadata(id: string, metadata: Record<string, string>): Promise<boolean> {
    const r = await this.pool.query("UPDATE conversations SET metadata = $2::jsonb, updated_seq = nextval('conversation_updates') WHERE id = $1",
      [id, JSON.stringify(metadata)]);
    return (r.rowCount ?? 0) > 0;
  }

  async deleteConversation(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM conversations WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async appendItems(conversationId: string, items: StoredItem[], responseId: string | null): Promise<boolean> {
    return this.tx((c) => this.appendIn(c, conversationId, items, responseId));
  }

  async listItems(conversationId: string, q: ItemPageQuery): Promise<ConversationItemRecord[]> {
    const args: unknown[] = [conversationId];
    let cursor = '';
    if (q.after) {
      args.push(q.after);
      cursor = `AND position ${q.order === 'desc' ? '<' : '>'} (SELECT MIN(position) FROM conversation_items WHERE conversation_id = $1 AND item_id = $2)`;
    }
    args.push(q.limit);
    const { rows } = await this.pool.query<ItemRow>(`SELECT ${ITEM_COLS} FROM conversation_items WHERE conversation_id = $1 ${cursor}
      ORDER BY position ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`, args);
    return rows.map(toItem);
  }

  async allItems(conversationId: string): Promise<ConversationItemRecord[]> {
    const { rows } = await this.pool.query<ItemRow>(`SELECT ${ITEM_COLS} FROM conversation_items WHERE conversation_id = $1 ORDER BY position`, [conversationId]);
    return rows.map(toItem);
  }

  async getItem(conversationId: string, itemId: string): Promise<ConversationItemRecord | undefined> {
    const { rows } = await this.pool.query<ItemRow>(`SELECT ${ITEM_COLS} FROM conversation_items
      WHERE conversation_id = $1 AND item_id = $2 ORDER BY position LIMIT 1`, [conversationId, itemId]);
    return rows[0] && toItem(rows[0]);
  }

  async deleteItems(conversationId: string, itemIds: string[]): Promise<string[]> {
    const ids = [...new Set(itemIds)];
    return this.tx(async (c) => {
      const { rows } = await c.query<{ item_id: string }>(
        'SELECT DISTINCT item_id FROM conversation_items WHERE conversation_id = $1 AND item_id = ANY($2::text[])', [conversationId, ids]);
      const found = new Set(rows.map((r) => r.item_id));
      const missing = ids.filter((id) => !found.has(id));
      if (missing.length) return missing;
      await c.query('DELETE FROM conversation_items WHERE conversation_id = $1 AND item_id = ANY($2::text[])', [conversationId, ids]);
      await c.query("UPDATE conversations SET updated_seq = nextval('conversation_updates') WHERE id = $1", [conversationId]);
      return [];
    });
  }

  async registerPending(responseId: string, conversationId: string, inputItems: StoredItem[]): Promise<void> {
    await this.pool.query(`INSERT INTO conversation_pending (response_id, conversation_id, items) VALUES ($1, $2, $3)
      ON CONFLICT (response_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id, items = EXCLUDED.items`,
    [responseId, conversationId, JSON.stringify(inputItems)]);
  }

  /**
   * Called by PostgresStore.appendEvents inside its transaction with the terminal batches it accepted:
   * one query finds which belong to a conversation (usually none); each of those is appended (if it
   * completed) in a savepoint, so a conversation problem never aborts the group commit. Conversations
   * are locked in id order, so two instances' group commits cannot deadlock on them.
   */
  async appendTurns(c: Q, terminal: AppendBatch[]): Promise<void> {
    if (!terminal.length) return;
    const byId = new Map(terminal.map((b) => [b.responseId, b]));
    const { rows } = await c.query<{ response_id: string; conversation_id: string; items: string }>(
      'DELETE FROM conversation_pending WHERE response_id = ANY($1::text[]) RETURNING response_id, conversation_id, items', [[...byId.keys()]]);
    rows.sort((a, b) => (a.conversation_id < b.conversation_id ? -1 : a.conversation_id > b.conversation_id ? 1 : 0));
    for (const row of rows) {
      const b = byId.get(row.response_id)!;
      if (!APPENDING_STATUSES.has(b.status)) continue;
      await c.query('SAVEPOINT conversation_append');
      try {
        await this.appendIn(c, row.conversation_id, [...(JSON.parse(row.items) as StoredItem[]), ...(b.outputItems ?? [])], row.response_id);
        await c.query('RELEASE SAVEPOINT conversation_append');
      } catch (err) {
        await c.query('ROLLBACK TO SAVEPOINT conversation_append');
        this.onAppendError(err, row.response_id);
      }
    }
  }
}
