// The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, which suits a store
// that is written in small group-committed transactions from a single process.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppendBatch, EventChunk, Owner, PageQuery, ResponseRecord, Store, StoredItem, UsageQuery, UsageRow } from '../types.js';
import { SqliteConversationStore } from './conversations.js';
import { SqliteFileStore } from './files.js';
import { SqliteVectorStoreStore } from './vector-stores.js';
import { loadSqliteVec } from './vec.js';
import { migrations } from './migrations.js';
import { SqliteWebhookOutbox } from './webhooks.js';
import { SqliteApiKeyStore } from './api-keys.js';
import { COUNTED_TABLES, type StoreInspection } from '../inspection.js';
import { SqliteContainerStore } from './containers.js';
import { SqliteGuardrailStore, SqlitePromptStore } from './prompts.js';
import { SqliteUsageStore } from './usage.js';
import { pageItems } from '../paging.js';
import { toChunks } from '../chunks.js';
import { adminWhere, type AdminResponseQuery } from '../admin.js';

interface Row {
  id: string; tenant: string; end_user: string; created_at: number; status: string; background: number;
  previous_response_id: string | null; conversation_id: string | null; last_seq: number; snapshot: string; request: string;
  metadata: string | null;
}

const toRecord = (r: Row): ResponseRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: r.created_at, status: r.status as ResponseRecord['status'],
  background: r.background === 1, previousResponseId: r.previous_response_id, conversationId: r.conversation_id,
  lastSeq: r.last_seq, snapshot: r.snapshot, request: r.request, metadata: r.metadata,
});

const COLS = 'id, tenant, end_user, created_at, status, background, previous_response_id, conversation_id, last_seq, snapshot, request, metadata';

/** The chain of `previous_response_id` links ending at @id, with each link's distance from it. */
const CHAIN = `WITH RECURSIVE chain (id, tenant, end_user, status, previous_response_id, depth) AS (
    SELECT id, tenant, end_user, status, previous_response_id, 0 FROM responses WHERE id = @id
    UNION ALL
    SELECT r.id, r.tenant, r.end_user, r.status, r.previous_response_id, c.depth + 1
    FROM responses r JOIN chain c ON r.id = c.previous_response_id WHERE c.depth + 1 < @max
  )`;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  /** Conversations live in the same file and share the connection (so they share transactions). */
  readonly conversations: SqliteConversationStore;
  /** Files: records here, bytes under `files/` next to the database file. */
  readonly files: SqliteFileStore;
  readonly vectorStores: SqliteVectorStoreStore;
  webhooks!: SqliteWebhookOutbox;
  apiKeys!: SqliteApiKeyStore;
  /** Containers of the code_interpreter tool (migration 9). */
  containers!: SqliteContainerStore;
  guardrails!: SqliteGuardrailStore;
  prompts!: SqlitePromptStore;
  usage!: SqliteUsageStore;
  private stmts!: ReturnType<SqliteStore['prepare']>;
  /** How long a write waits for a lock another process holds before failing with SQLITE_BUSY (503). */
  private readonly busyMs: number;

  /** `busyTimeoutMs`: how long a write waits for a locked file (SQLITE_BUSY_TIMEOUT_MS). */
  /** `vectorExtension`: load sqlite-vec for vector search (VECTOR_EXTENSION, default on). */
  constructor(readonly path: string, opts: { busyTimeoutMs?: number; vectorExtension?: boolean } = {}) {
    this.busyMs = opts.busyTimeoutMs ?? 5000;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${this.busyMs}`);
    // Checkpoints are where WAL mode fsyncs: checkpoint less often (every ~16 MiB of WAL instead of
    // 4 MiB) so the cost is paid in fewer, larger steps. The WAL is truncated back after each.
    this.db.pragma('wal_autocheckpoint = 4096');
    this.db.pragma('journal_size_limit = 16777216');
    this.db.pragma('foreign_keys = ON');
    // A page cache of 32 MiB (the default is 2 MiB): a replayed log is read right after it was written,
    // mostly from the WAL, and a 10,000-event log (~2.5 MB) no longer fits the default, so every replay
    // re-read every page through a syscall. Grows only as pages are used.
    this.db.pragma('cache_size = -32768');
    this.conversations = new SqliteConversationStore(this.db);
    this.vectorStores = new SqliteVectorStoreStore(this.db, loadSqliteVec(this.db, opts.vectorExtension ?? true));
    this.files = new SqliteFileStore(this.db, join(path === ':memory:' ? '.' : dirname(path), 'files'), (id) => this.vectorStores.removeFile(id));
  }

  async init(): Promise<void> {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.pragma(`user_version = ${m.version}`);
      })();
    }
    this.stmts = this.prepare();
    this.webhooks = new SqliteWebhookOutbox(this.db, (fn) => this.write(fn));
    this.apiKeys = new SqliteApiKeyStore(this.db, (fn) => this.write(fn));
    this.containers = new SqliteContainerStore(this.db, (fn) => this.write(fn));
    this.guardrails = new SqliteGuardrailStore(this.db, (fn) => this.write(fn));
    this.prompts = new SqlitePromptStore(this.db, (fn) => this.write(fn));
    this.usage = new SqliteUsageStore(this.db, (fn) => this.write(fn));
    // From here on a locked file never blocks the event loop (better-sqlite3 would wait inside the
    // call): writes fail at once and `write` retries them with timers; reads never wait in WAL mode.
    this.db.pragma('busy_timeout = 0');
  }

  async inspect(): Promise<StoreInspection> {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    const tables = new Set((this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]));
    const counts: Record<string, number> = {};
    for (const t of COUNTED_TABLES) if (tables.has(t)) counts[t] = this.db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
    // user_version counts up: every version up to it is applied (a newer respd may have gone further).
    return { applied: Array.from({ length: current }, (_, i) => i + 1), known: migrations.map((m) => m.version), counts };
  }

  /**
   * Runs a write transaction (BEGIN IMMEDIATE, so a lock held elsewhere fails at its start), retrying
   * with backoff while another process holds the write lock, up to busyMs; then SQLITE_BUSY.
   */
  private async write<T>(fn: () => T): Promise<T> {
    const tx = this.db.transaction(fn);
    const deadline = Date.now() + this.busyMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      try {
        return tx.immediate();
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare(`INSERT INTO responses (${COLS}) VALUES (@id, @tenant, @endUser, @createdAt, @status, @background, @previousResponseId, @conversationId, @lastSeq, @snapshot, @request, @metadata)`),
      insertItem: db.prepare('INSERT INTO response_items (response_id, kind, idx, item_id, json) VALUES (?, ?, ?, ?, ?)'),
      insertChunk: db.prepare('INSERT INTO response_events (response_id, first_seq, data) VALUES (?, ?, ?)'),
      get: db.prepare(`SELECT ${COLS} FROM responses WHERE id = ?`),
      getOwned: db.prepare(`SELECT ${COLS} FROM responses WHERE id = ? AND tenant = ? AND end_user = ?`),
      seqOf: db.prepare('SELECT seq FROM responses WHERE id = ? AND tenant = ? AND end_user = ?'),
      update: db.prepare('UPDATE responses SET status = ?, snapshot = ?, last_seq = ? WHERE id = ?'),
      updateMetadata: db.prepare('UPDATE responses SET metadata = ? WHERE id = ?'),
      readEvents: db.prepare(`SELECT first_seq, data FROM response_events WHERE response_id = @id AND first_seq >=
        (SELECT IFNULL(MAX(first_seq), 0) FROM response_events WHERE response_id = @id AND first_seq <= @after + 1) ORDER BY first_seq LIMIT @limit`),
      items: db.prepare('SELECT item_id, json FROM response_items WHERE response_id = ? AND kind = ? ORDER BY idx'),
      chainLinks: db.prepare(`${CHAIN} SELECT id, tenant, end_user, status, previous_response_id FROM chain ORDER BY depth`),
      chainItems: db.prepare(`${CHAIN} SELECT i.item_id, i.json FROM chain c JOIN response_items i ON i.response_id = c.id
        ORDER BY c.depth DESC, i.kind, i.idx`),
      delete: db.prepare('DELETE FROM responses WHERE id = ?'),
      deleteItems: db.prepare('DELETE FROM response_items WHERE response_id = ?'),
      deleteEvents: db.prepare('DELETE FROM response_events WHERE response_id = ?'),
      unfinished: db.prepare(`SELECT ${COLS} FROM responses WHERE status IN ('queued', 'in_progress') ORDER BY seq`),
      older: db.prepare('SELECT id FROM responses WHERE created_at < ?'),
      queue: db.prepare(`SELECT count(*) AS depth, min(created_at) AS oldest FROM responses WHERE status = 'queued'`),
      usage: db.prepare(`SELECT (created_at - CAST(@start AS INTEGER)) / CAST(@width AS INTEGER) AS bucket, end_user, background,
          IFNULL(json_extract(snapshot, '$.model'), '') AS model, count(*) AS responses,
          IFNULL(sum(json_extract(snapshot, '$.usage.input_tokens')), 0) AS input,
          IFNULL(sum(json_extract(snapshot, '$.usage.output_tokens')), 0) AS output,
          IFNULL(sum(json_extract(snapshot, '$.usage.input_tokens_details.cached_tokens')), 0) AS cached,
          IFNULL(sum(json_extract(snapshot, '$.usage.output_tokens_details.reasoning_tokens')), 0) AS reasoning
        FROM responses WHERE tenant = @tenant AND (@endUser IS NULL OR end_user = @endUser)
          AND created_at >= @start AND created_at < @end
        GROUP BY 1, 2, 3, 4`),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async createResponse(rec: ResponseRecord, inputItems: StoredItem[], firstEvents: string[]): Promise<void> {
    const s = this.stmts;
    await this.write(() => {
      this.insertResponse(rec, inputItems);
      for (const c of toChunks(0, firstEvents)) s.insertChunk.run(rec.id, c.firstSeq, c.data);
    });
  }

  private insertResponse(rec: ResponseRecord, inputItems: StoredItem[]): void {
    this.stmts.insert.run({ ...rec, background: rec.background ? 1 : 0 });
    inputItems.forEach((it, i) => this.stmts.insertItem.run(rec.id, 'input', i, it.id, it.json));
  }

  async getChain(id: string, maxLinks: number) {
    const links = (this.stmts.chainLinks.all({ id, max: maxLinks }) as Array<Pick<Row, 'id' | 'tenant' | 'end_user' | 'status' | 'previous_response_id'>>)
      .map((r) => ({ id: r.id, tenant: r.tenant, endUser: r.end_user, status: r.status as ResponseRecord['status'], previousResponseId: r.previous_response_id }));
    const items = (this.stmts.chainItems.all({ id, max: maxLinks }) as Array<{ item_id: string; json: string }>).map((r) => ({ id: r.item_id, json: r.json }));
    return { links, items };
  }

  async getResponse(id: string, owner?: Owner): Promise<ResponseRecord | undefined> {
    const row = (owner ? this.stmts.getOwned.get(id, owner.tenant, owner.endUser) : this.stmts.get.get(id)) as Row | undefined;
    return row && toRecord(row);
  }

  async listResponses(owner: Owner, q: PageQuery): Promise<ResponseRecord[]> {
    const where = ['tenant = ?', 'end_user = ?'];
    const args: unknown[] = [owner.tenant, owner.endUser];
    for (const [cursor, op] of [[q.after, q.order === 'desc' ? '<' : '>'], [q.before, q.order === 'desc' ? '>' : '<']] as const) {
      if (!cursor) continue;
      const row = this.stmts.seqOf.get(cursor, owner.tenant, owner.endUser) as { seq: number } | undefined;
      if (!row) return [];
      where.push(`seq ${op} ?`);
      args.push(row.seq);
    }
    const sql = `SELECT ${COLS} FROM responses WHERE ${where.join(' AND ')} ORDER BY seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as Row[]).map(toRecord);
  }

  async adminListResponses(q: AdminResponseQuery): Promise<ResponseRecord[]> {
    // An unknown cursor yields NULL (no rows), as in PostgreSQL.
    const { where, args } = adminWhere(q, () => '?', "json_extract(snapshot, '$.model')");
    return (this.db.prepare(`SELECT ${COLS} FROM responses ${where} ORDER BY seq DESC LIMIT ?`).all(...args, q.limit) as Row[]).map(toRecord);
  }

  async appendEvents(batches: AppendBatch[]): Promise<void> {
    const s = this.stmts;
    await this.write(() => {
      for (const b of batches) {
        const lastSeq = b.firstSeq + b.lines.length - 1;
        // Inserted by this commit: the row goes in as it stands now rather than as created and then
        // updated (one row write, and a response that also ended here never enters the unfinished index).
        if (b.create) this.insertResponse({ ...b.create.record, status: b.status, snapshot: b.snapshot, lastSeq }, b.create.inputItems);
        else s.update.run(b.status, b.snapshot, lastSeq, b.responseId);
        for (const c of toChunks(b.firstSeq, b.lines)) s.insertChunk.run(b.responseId, c.firstSeq, c.data);
        b.outputItems?.forEach((it, i) => s.insertItem.run(b.responseId, 'output', i, it.id, it.json));
        // A terminal batch: a conversation response's items join its conversation in this same commit.
        if (b.outputItems) this.conversations.appendTurn(b.responseId, b.status, b.outputItems);
        // Its webhooks too (the outbox): delivered later, but never lost to a crash after this commit.
        if (b.webhooks) this.webhooks.insert(b.webhooks);
      }
    });
  }

  async readEvents(responseId: string, afterSeq: number, limit: number): Promise<EventChunk[]> {
    return (this.stmts.readEvents.all({ id: responseId, after: afterSeq, limit }) as Array<{ first_seq: number; data: string }>)
      .map((r) => ({ firstSeq: r.first_seq, data: r.data }));
  }

  async updateMetadata(id: string, metadata: string): Promise<void> {
    await this.write(() => this.stmts.updateMetadata.run(metadata, id));
  }

  async listInputItems(responseId: string, q: PageQuery): Promise<StoredItem[]> {
    return pageItems(this.readItems(responseId, 'input'), q);
  }

  private readItems(responseId: string, kind: 'input' | 'output'): StoredItem[] {
    return (this.stmts.items.all(responseId, kind) as Array<{ item_id: string; json: string }>)
      .map((r) => ({ id: r.item_id, json: r.json }));
  }

  async deleteResponse(id: string): Promise<boolean> {
    const s = this.stmts;
    return this.write(() => {
      s.deleteEvents.run(id);
      s.deleteItems.run(id);
      return s.delete.run(id).changes > 0;
    });
  }

  async checkpoint(): Promise<void> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async listUnfinished(): Promise<ResponseRecord[]> {
    return (this.stmts.unfinished.all() as Row[]).map(toRecord);
  }

  async queueStats(): Promise<{ depth: number; oldestCreatedAt: number | null }> {
    const r = this.stmts.queue.get() as { depth: number; oldest: number | null };
    return { depth: r.depth, oldestCreatedAt: r.oldest };
  }

  async usageRows(q: UsageQuery): Promise<UsageRow[]> {
    const rows = this.stmts.usage.all({ ...q, endUser: q.endUser ?? null }) as Array<Record<string, number | string>>;
    return rows.map((r) => ({
      bucket: Number(r.bucket), endUser: String(r.end_user), model: String(r.model), background: r.background === 1,
      responses: Number(r.responses), inputTokens: Number(r.input), outputTokens: Number(r.output),
      cachedTokens: Number(r.cached), reasoningTokens: Number(r.reasoning),
    }));
  }

  async deleteOlderThan(unixSeconds: number): Promise<number> {
    const ids = (this.stmts.older.all(unixSeconds) as Array<{ id: string }>).map((r) => r.id);
    for (const id of ids) await this.deleteResponse(id);
    return ids.length;
  }
}
