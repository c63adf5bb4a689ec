// Conversations in the embedded SQLite file (tables of migration 2), on the SqliteStore's connection.
// better-sqlite3 is synchronous and SQLite has one writer at a time, so every multi-row change is
// simply one transaction; `appendTurn` runs inside the store's group-commit transaction.
import type Database from 'better-sqlite3';
import {
  APPENDING_STATUSES, itemText, searchTerms, type ConversationItemRecord, type ConversationListQuery,
  type ConversationRecord, type ConversationStore, type ItemPageQuery,
} from '../conversations.js';
import type { Owner, StoredItem } from '../types.js';

interface ConvRow { id: string; tenant: string; end_user: string; created_at: number; metadata: string }
interface ItemRow { seq: number; item_id: string; json: string; response_id: string | null }

const toConv = (r: ConvRow): ConversationRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: r.created_at, metadata: JSON.parse(r.metadata),
});
const toItem = (r: ItemRow): ConversationItemRecord => ({ id: r.item_id, json: r.json, responseId: r.response_id });
const now = () => Math.floor(Date.now() / 1000);

/** FTS5 query: each word quoted (so user text is never FTS syntax), all required. */
const ftsQuery = (terms: string[]) => terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' ');

export class SqliteConversationStore implements ConversationStore {
  private s?: ReturnType<SqliteConversationStore['prepare']>;

  constructor(
    private readonly db: Database.Database,
    /** Told when a terminal commit could not append to a conversation (the commit itself goes on). */
    private readonly onAppendError: (err: unknown, responseId: string) => void = (err, id) => console.error(`conversation append for ${id} failed`, err),
  ) {}

  // Prepared on first use: the tables exist only once the store's migrations have run.
  private get stmts() {
    return (this.s ??= this.prepare());
  }

  private prepare() {
    const db = this.db;
    return {
      insertConv: db.prepare(`INSERT INTO conversations (id, tenant, end_user, created_at, updated_seq, metadata)
        VALUES (?, ?, ?, ?, (SELECT IFNULL(MAX(updated_seq), 0) + 1 FROM conversations), ?)`),
      getConv: db.prepare('SELECT id, tenant, end_user, created_at, metadata FROM conversations WHERE id = ?'),
      touch: db.prepare('UPDATE conversations SET updated_seq = (SELECT IFNULL(MAX(updated_seq), 0) + 1 FROM conversations) WHERE id = ?'),
      setMeta: db.prepare(`UPDATE conversations SET metadata = ?,
        updated_seq = (SELECT IFNULL(MAX(updated_seq), 0) + 1 FROM conversations) WHERE id = ?`),
      deleteConv: db.prepare('DELETE FROM conversations WHERE id = ?'),
      insertItem: db.prepare('INSERT INTO conversation_items (conversation_id, item_id, response_id, created_at, json) VALUES (?, ?, ?, ?, ?)'),
      insertText: db.prepare('INSERT INTO conversation_items_fts (rowid, text) VALUES (?, ?)'),
      allItems: db.prepare('SELECT seq, item_id, json, response_id FROM conversation_items WHERE conversation_id = ? ORDER BY seq'),
      getItem: db.prepare('SELECT seq, item_id, json, response_id FROM conversation_items WHERE conversation_id = ? AND item_id = ? ORDER BY seq LIMIT 1'),
      deleteItem: db.prepare('DELETE FROM conversation_items WHERE conversation_id = ? AND item_id = ?'),
      updatedSeqOf: db.prepare('SELECT updated_seq FROM conversations WHERE id = ? AND tenant = ? AND end_user = ?'),
      addPending: db.prepare('INSERT OR REPLACE INTO conversation_pending (response_id, conversation_id, items) VALUES (?, ?, ?)'),
      takePending: db.prepare('DELETE FROM conversation_pending WHERE response_id = ? RETURNING conversation_id, items'),
    };
  }

  private insertItems(conversationId: string, items: StoredItem[], responseId: string | null): void {
    const s = this.stmts;
    const at = now();
    for (const it of items) {
      const { lastInsertRowid } = s.insertItem.run(conversationId, it.id, responseId, at, it.json);
      const text = itemText(it.json);
      if (text) s.insertText.run(lastInsertRowid, text);
    }
  }

  async createConversation(rec: ConversationRecord, items: StoredItem[]): Promise<void> {
    this.db.transaction(() => {
      this.stmts.insertConv.run(rec.id, rec.tenant, rec.endUser, rec.createdAt, JSON.stringify(rec.metadata));
      this.insertItems(rec.id, items, null);
    })();
  }

  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    const row = this.stmts.getConv.get(id) as ConvRow | undefined;
    return row && toConv(row);
  }

  async listConversations(owner: Owner, q: ConversationListQuery): Promise<ConversationRecord[]> {
    const where = ['tenant = ?', 'end_user = ?'];
    const args: unknown[] = [owner.tenant, owner.endUser];
    if (q.after) {
      const row = this.stmts.updatedSeqOf.get(q.after, owner.tenant, owner.endUser) as { updated_seq: number } | undefined;
      if (!row) return [];
      where.push(`updated_seq ${q.order === 'desc' ? '<' : '>'} ?`);
      args.push(row.updated_seq);
    }
    for (const [k, v] of Object.entries(q.metadata ?? {})) {
      where.push('EXISTS (SELECT 1 FROM json_each(conversations.metadata) WHERE key = ? AND value = ?)');
      args.push(k, v);
    }
    if (q.search !== undefined) {
      const terms = searchTerms(q.search);
      if (!terms.length) return [];
      where.push(`id IN (SELECT conversation_id FROM conversation_items WHERE seq IN
        (SELECT rowid FROM conversation_items_fts WHERE conversation_items_fts MATCH ?))`);
      args.push(ftsQuery(terms));
    }
    const sql = `SELECT id, tenant, end_user, created_at, metadata FROM conversations WHERE ${where.join(' AND ')}
      ORDER BY updated_seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as ConvRow[]).map(toConv);
  }

  async updateConversationMetadata(id: string, metadata: Record<string, string>): Promise<boolean> {
    return this.stmts.setMeta.run(JSON.stringify(metadata), id).changes > 0;
  }

  async deleteConversation(id: string): Promise<boolean> {
    // Items go by ON DELETE CASCADE, their index entries by the delete trigger.
    return this.stmts.deleteConv.run(id).changes > 0;
  }

  /** Synchronous core of appendItems, usable inside an enclosing transaction. */
  private appendNow(conversationId: string, items: StoredItem[], responseId: string | null): boolean {
    if (!this.stmts.getConv.get(conversationId)) return false;
    this.insertItems(conversationId, items, responseId);
    this.stmts.touch.run(conversationId);
    return true;
  }

  async appendItems(conversationId: string, items: StoredItem[], responseId: string | null): Promise<boolean> {
    return this.db.transaction(() => this.appendNow(conversationId, items, responseId))();
  }

  async listItems(conversationId: string, q: ItemPageQuery): Promise<ConversationItemRecord[]> {
    const where = ['conversation_id = ?'];
    const args: unknown[] = [conversationId];
    if (q.after) {
      const row = this.stmts.getItem.get(conversationId, q.after) as ItemRow | undefined;
      if (!row) return [];
      where.push(`seq ${q.order === 'desc' ? '<' : '>'} ?`);
      args.push(row.seq);
    }
    const sql = `SELECT seq, item_id, json, response_id FROM conversation_items WHERE ${where.join(' AND ')}
      ORDER BY seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as ItemRow[]).map(toItem);
  }

  async allItems(conversationId: string): Promise<ConversationItemRecord[]> {
    return (this.stmts.allItems.all(conversationId) as ItemRow[]).map(toItem);
  }

  async getItem(conversationId: string, itemId: string): Promise<ConversationItemRecord | undefined> {
    const row = this.stmts.getItem.get(conversationId, itemId) as ItemRow | undefined;
    return row && toItem(row);
  }

  async deleteItems(conversationId: string, itemIds: string[]): Promise<string[]> {
    return this.db.transaction(() => {
      const missing = [...new Set(itemIds)].filter((id) => !this.stmts.getItem.get(conversationId, id));
      if (missing.length) return missing;
      for (const id of itemIds) this.stmts.deleteItem.run(conversationId, id);
      this.stmts.touch.run(conversationId);
      return [];
    })();
  }

  async registerPending(responseId: string, conversationId: string, inputItems: StoredItem[]): Promise<void> {
    this.stmts.addPending.run(responseId, conversationId, JSON.stringify(inputItems));
  }

  /**
   * Called by SqliteStore.appendEvents, inside its transaction, for a response's terminal batch: appends
   * the pending input items and the output as one block when the response completed, drops them when
   * it failed or was cancelled. Runs in a savepoint and never throws: a conversation problem (e.g. it
   * was deleted meanwhile) must not stop the response's own events from being committed.
   */
  appendTurn(responseId: string, status: string, outputItems: StoredItem[]): void {
    try {
      this.db.transaction(() => {
        const pending = this.stmts.takePending.get(responseId) as { conversation_id: string; items: string } | undefined;
        if (!pending || !APPENDING_STATUSES.has(status)) return;
        const input = JSON.parse(pending.items) as StoredItem[];
        this.appendNow(pending.conversation_id, [...input, ...outputItems], responseId);
      })();
    } catch (err) {
      this.onAppendError(err, responseId);
    }
  }
}
