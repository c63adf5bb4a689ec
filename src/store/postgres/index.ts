// The scale-out store: PostgreSQL, shared by every instance. Same tables and numbered migrations as
// the SQLite store. A group commit is one transaction whatever the number of responses in it (array
// parameters + data-modifying CTEs), so its cost does not grow with the number of live responses.
//
// Fence: a batch is written only if the response's stored last_seq is exactly firstSeq - 1 and it is
// not already terminal. A legitimate writer always satisfies that (it numbers its lines from the stored
// last_seq), so the check only bites when two instances write the same response — a worker that lost
// its lease while another took over, or a response deleted under a run. Such batches are skipped and
// marked `rejected` (not an error: failing the whole group commit would stall every other response).
import { adminWhere, type AdminResponseQuery } from '../admin.js';
import pg from 'pg';
import { inTransaction } from './tx.js';
import { pageItems } from '../paging.js';
import { toChunks } from '../chunks.js';
import type { AppendBatch, EventChunk, Owner, PageQuery, ResponseRecord, Store, StoredItem, UsageQuery, UsageRow } from '../types.js';
import { PgConversationStore } from './conversations.js';
import { PgFileStore } from './files.js';
import { PgContainerStore } from './containers.js';
import { PgVectorStoreStore } from './vector-stores.js';
import { migrations } from './migrations.js';
import { detectPgvector } from './pgvector.js';
import { insertOutbox, PgWebhookOutbox } from './webhooks.js';
import { PgApiKeyStore } from './api-keys.js';
import { COUNTED_TABLES, type StoreInspection } from '../inspection.js';
import { PgGuardrailStore, PgPromptStore } from './prompts.js';
import { PgUsageStore } from './usage.js';

interface Row {
  id: string; tenant: string; end_user: string; created_at: string | number; status: string; background: boolean;
  previous_response_id: string | null; conversation_id: string | null; last_seq: number; snapshot: string; request: string;
  metadata: string | null;
}

const toRecord = (r: Row): ResponseRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: Number(r.created_at), status: r.status as ResponseRecord['status'],
  background: r.background, previousResponseId: r.previous_response_id, conversationId: r.conversation_id,
  lastSeq: r.last_seq, snapshot: r.snapshot, request: r.request, metadata: r.metadata,
});

const COLS = 'id, tenant, end_user, created_at, status, background, previous_response_id, conversation_id, last_seq, snapshot, request, metadata';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// Deadlines: a hung server (stopped, not refusing) must cost a request a 503 store_unavailable, not a
// hang. Connecting includes waiting for a free pooled connection. Migrations and retention deletes
// may legitimately run long and get their own.
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 5_000;
const LONG_QUERY_TIMEOUT_MS = 10 * 60_000;
const long = (text: string, values?: unknown[]) => ({ text, values, query_timeout: LONG_QUERY_TIMEOUT_MS }) as pg.QueryConfig;

/** Splits `?schema=NAME` off a postgres:// URL (pg would pass unknown parameters to the server). */
export function parsePostgresUrl(url: string, envSchema?: string): { connectionString: string; schema?: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') || envSchema || undefined;
  u.searchParams.delete('schema');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`Invalid PostgreSQL schema name '${schema}': use letters, digits and _ (not starting with a digit)`);
  }
  return { connectionString: u.toString(), schema };
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly schema?: string;
  private readonly vectorExtension: boolean;
  /** Conversations (issue 5, conversations.ts): same pool; their terminal appends join the group commit. */
  readonly conversations: PgConversationStore;
  /** Files, bytes included (every instance reads every file). */
  readonly files: PgFileStore;
  readonly vectorStores: PgVectorStoreStore;
  readonly webhooks: PgWebhookOutbox;
  readonly apiKeys: PgApiKeyStore;
  /** Containers of the code_interpreter tool, file bytes included. */
  readonly containers: PgContainerStore;
  readonly guardrails: PgGuardrailStore;
  readonly prompts: PgPromptStore;
  readonly usage: PgUsageStore;

  /** `vectorExtension`: look for pgvector (VECTOR_EXTENSION, default on). */
  constructor(url: string, opts: { schema?: string; max?: number; onError?: (err: Error) => void; vectorExtension?: boolean } = {}) {
    const { connectionString, schema } = parsePostgresUrl(url, opts.schema);
    this.schema = schema;
    this.vectorExtension = opts.vectorExtension ?? true;
    this.pool = new pg.Pool({
      connectionString,
      max: opts.max ?? 10,
      // Every connection resolves unqualified names in our schema only (set at connection start-up).
      options: schema ? `-c search_path=${schema}` : undefined,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by the server must not crash the process; the pool reconnects.
    this.pool.on('error', opts.onError ?? ((err) => console.error('postgres: idle connection error', err.message)));
    this.conversations = new PgConversationStore(this.pool);
    this.vectorStores = new PgVectorStoreStore(this.pool);
    this.webhooks = new PgWebhookOutbox(this.pool);
    this.apiKeys = new PgApiKeyStore(this.pool);
    this.containers = new PgContainerStore(this.pool);
    this.guardrails = new PgGuardrailStore(this.pool);
    this.prompts = new PgPromptStore(this.pool);
    this.usage = new PgUsageStore(this.pool);
    this.files = new PgFileStore(this.pool, (c, id) => this.vectorStores.removeFileIn(c, id));
  }

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  async init(): Promise<void> {
    const c = await this.pool.connect();
    const lockKey = `respd_migrations:${this.schema ?? ''}`;
    // The connection dropping between queries must fail init, not the process (see tx.ts).
    const onError = (err: Error) => { broken = err; };
    let broken: Error | undefined;
    c.on('error', onError);
    try {
      // Instances starting together: one migrates, the others wait and then find nothing to do.
      await c.query(long('SELECT pg_advisory_lock(hashtext($1))', [lockKey]));
      if (this.schema) {
        await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        await c.query(`SET search_path TO "${this.schema}"`);
      }
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await c.query('BEGIN');
        try {
          await c.query(long(m.sql));
          await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {});
          throw new Error(`PostgreSQL migration ${m.version} failed: ${(err as Error).message}`);
        }
      }
      this.vectorStores.searchPath = await detectPgvector(c, this.vectorExtension);
    } finally {
      await c.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
      c.off('error', onError);
      c.release(broken);
    }
  }

  async inspect(): Promise<StoreInspection> {
    const known = migrations.map((m) => m.version);
    // Names resolve in the store's schema (search_path is set per connection), as the server's do.
    const { rows: present } = await this.pool.query<{ t: string }>(
      'SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL', [['schema_migrations', ...COUNTED_TABLES]]);
    const tables = new Set(present.map((r) => r.t));
    const applied = tables.has('schema_migrations')
      ? (await this.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version)
      : [];
    const counts: Record<string, number> = {};
    for (const t of COUNTED_TABLES) {
      if (tables.has(t)) counts[t] = Number((await this.pool.query<{ n: string }>(long(`SELECT count(*) AS n FROM ${t}`))).rows[0]!.n);
    }
    return { applied, known, counts };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async createResponse(rec: ResponseRecord, inputItems: StoredItem[], firstEvents: string[]): Promise<void> {
    await this.tx(async (c) => {
      await this.insertResponse(c, rec, inputItems);
      const chunks = toChunks(0, firstEvents);
      if (chunks.length) {
        await c.query('INSERT INTO response_events (response_id, first_seq, data) SELECT $1, * FROM unnest($2::int[], $3::text[])',
          [rec.id, chunks.map((k) => k.firstSeq), chunks.map((k) => k.data)]);
      }
    });
  }

  /** `again`: a group commit retried after an ambiguous failure may find the row already inserted. */
  private async insertResponse(c: pg.PoolClient, rec: ResponseRecord, inputItems: StoredItem[], again = false): Promise<void> {
    const onConflict = again ? ' ON CONFLICT DO NOTHING' : '';
    await c.query(`INSERT INTO responses (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)${onConflict}`, [
      rec.id, rec.tenant, rec.endUser, rec.createdAt, rec.status, rec.background, rec.previousResponseId,
      rec.conversationId, rec.lastSeq, rec.snapshot, rec.request, rec.metadata,
    ]);
    if (inputItems.length) {
      await c.query(`INSERT INTO response_items (response_id, kind, idx, item_id, json)
        SELECT $1, 'input', i - 1, t.item_id, t.json FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(item_id, json, i)${onConflict}`,
      [rec.id, inputItems.map((it) => it.id), inputItems.map((it) => it.json)]);
    }
  }

  async getResponse(id: string, owner?: Owner): Promise<ResponseRecord | undefined> {
    const { rows } = owner
      ? await this.pool.query<Row>(`SELECT ${COLS} FROM responses WHERE id = $1 AND tenant = $2 AND end_user = $3`, [id, owner.tenant, owner.endUser])
      : await this.pool.query<Row>(`SELECT ${COLS} FROM responses WHERE id = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  async listResponses(owner: Owner, q: PageQuery): Promise<ResponseRecord[]> {
    const where = ['tenant = $1', 'end_user = $2'];
    const args: unknown[] = [owner.tenant, owner.endUser];
    for (const [cursor, op] of [[q.after, q.order === 'desc' ? '<' : '>'], [q.before, q.order === 'desc' ? '>' : '<']] as const) {
      if (!cursor) continue;
      args.push(cursor);
      // An unknown cursor yields NULL, so no rows: the same answer as SQLite's.
      where.push(`seq ${op} (SELECT seq FROM responses WHERE id = $${args.length} AND tenant = $1 AND end_user = $2)`);
    }
    args.push(q.limit);
    const sql = `SELECT ${COLS} FROM responses WHERE ${where.join(' AND ')} ORDER BY seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`;
    return (await this.pool.query<Row>(sql, args)).rows.map(toRecord);
  }

  async adminListResponses(q: AdminResponseQuery): Promise<ResponseRecord[]> {
    // The snapshot is stored as text: parsed for the model filter only (an operator's query).
    const { where, args } = adminWhere(q, (i) => `$${i}`, "(snapshot::jsonb ->> 'model')");
    args.push(q.limit);
    return (await this.pool.query<Row>(`SELECT ${COLS} FROM responses ${where} ORDER BY seq DESC LIMIT $${args.length}`, args)).rows.map(toRecord);
  }

  async appendEvents(batches: AppendBatch[]): Promise<void> {
    if (!batches.length) return;
    const accepted = await this.tx(async (c) => {
      for (const b of batches) if (b.create) await this.insertResponse(c, b.create.record, b.create.inputItems, true);
      const ids = await this.write(c, batches);
      // A refused batch may be one this writer already committed, in whole or in part: its COMMIT
      // reached the server but the answer did not reach us (connection lost, deadline passed), and
      // the flusher sends the lines again, with any appended since. Write only what is missing.
      const rest: AppendBatch[] = [];
      for (const b of batches) {
        if (ids.has(b.responseId)) continue;
        const stored = await this.storedPrefix(c, b);
        if (stored === b.lines.length) ids.add(b.responseId);
        else if (stored > 0) rest.push({ ...b, firstSeq: b.firstSeq + stored, lines: b.lines.slice(stored) });
      }
      if (rest.length) for (const id of await this.write(c, rest)) ids.add(id);
      // The outbox rows of terminal batches that passed the fence, in this same transaction.
      await insertOutbox(c, batches.filter((b) => b.webhooks && ids.has(b.responseId)).flatMap((b) => b.webhooks!));
      return ids;
    });
    for (const b of batches) if (!accepted.has(b.responseId)) b.rejected = true;
  }

  /** Writes the batches that pass the fence; returns their response ids. */
  private async write(c: pg.PoolClient, batches: AppendBatch[]): Promise<Set<string>> {
    const items = batches.flatMap((b) => (b.outputItems ?? []).map((it, i) => [b.responseId, i, it.id, it.json] as const));
    const chunks = batches.flatMap((b) => toChunks(b.firstSeq, b.lines).map((k) => [b.responseId, k.firstSeq, k.data] as const));
    const { rows } = await c.query<{ id: string }>(`
      WITH b AS (
        SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[])
          AS b(id, first_seq, n, status, snapshot)
      ), u AS (
        UPDATE responses r SET status = b.status, snapshot = b.snapshot, last_seq = b.first_seq + b.n - 1
        FROM b WHERE r.id = b.id AND r.last_seq = b.first_seq - 1 AND r.status IN ('queued', 'in_progress')
        RETURNING r.id
      ), ev AS (
        INSERT INTO response_events (response_id, first_seq, data)
        SELECT k.rid, k.first_seq, k.data FROM unnest($6::text[], $11::int[], $12::text[]) AS k(rid, first_seq, data)
        JOIN u ON u.id = k.rid
        ON CONFLICT DO NOTHING
      ), it AS (
        INSERT INTO response_items (response_id, kind, idx, item_id, json)
        SELECT i.rid, 'output', i.idx, i.item_id, i.json
        FROM unnest($7::text[], $8::int[], $9::text[], $10::text[]) AS i(rid, idx, item_id, json) JOIN u ON u.id = i.rid
        ON CONFLICT DO NOTHING
      )
      SELECT id FROM u`, [
      batches.map((b) => b.responseId), batches.map((b) => b.firstSeq), batches.map((b) => b.lines.length),
      batches.map((b) => b.status), batches.map((b) => b.snapshot), chunks.map((k) => k[0]),
      items.map((i) => i[0]), items.map((i) => i[1]), items.map((i) => i[2]), items.map((i) => i[3]),
      chunks.map((k) => k[1]), chunks.map((k) => k[2]),
    ]);
    const ids = new Set(rows.map((r) => r.id));
    // Conversations (issue 5): accepted terminal batches append their items in this same transaction.
    await this.conversations.appendTurns(c, batches.filter((b) => b.outputItems && ids.has(b.responseId)));
    return ids;
  }

  /** How many of the batch's lines are already stored exactly where it puts them (-1: other lines are). */
  private async storedPrefix(c: pg.PoolClient, b: AppendBatch): Promise<number> {
    if (!b.lines.length) return -1;
    const { rows } = await c.query<{ first: number | null; last_seq: number; data: string | null }>(`
      SELECT min(e.first_seq) AS first, r.last_seq, string_agg(e.data, E'\n' ORDER BY e.first_seq) AS data
      FROM responses r JOIN response_events e ON e.response_id = r.id AND e.first_seq >= $2
      WHERE r.id = $1 GROUP BY r.last_seq`, [b.responseId, b.firstSeq]);
    const row = rows[0];
    if (!row || row.first !== b.firstSeq || row.data === null) return -1;
    const stored = row.data.split('\n');
    if (stored.length > b.lines.length || row.last_seq !== b.firstSeq + stored.length - 1) return -1;
    for (let i = 0; i < stored.length; i++) if (stored[i] !== b.lines[i]) return -1;
    return stored.length;
  }

  async readEvents(responseId: string, afterSeq: number, limit: number): Promise<EventChunk[]> {
    const { rows } = await this.pool.query<{ first_seq: number; data: string }>(`
      SELECT first_seq, data FROM response_events WHERE response_id = $1 AND first_seq >=
        (SELECT COALESCE(MAX(first_seq), 0) FROM response_events WHERE response_id = $1 AND first_seq <= $2 + 1)
      ORDER BY first_seq LIMIT $3`, [responseId, afterSeq, limit]);
    return rows.map((r) => ({ firstSeq: r.first_seq, data: r.data }));
  }

  async updateMetadata(id: string, metadata: string): Promise<void> {
    await this.pool.query('UPDATE responses SET metadata = $2 WHERE id = $1', [id, metadata]);
  }

  private async items(responseId: string, kind: string): Promise<StoredItem[]> {
    const { rows } = await this.pool.query<{ item_id: string; json: string }>(
      'SELECT item_id, json FROM response_items WHERE response_id = $1 AND kind = $2 ORDER BY idx', [responseId, kind]);
    return rows.map((r) => ({ id: r.item_id, json: r.json }));
  }

  async listInputItems(responseId: string, q: PageQuery): Promise<StoredItem[]> {
    return pageItems(await this.items(responseId, 'input'), q);
  }

  async getChain(id: string, maxLinks: number) {
    const chain = `WITH RECURSIVE chain (id, tenant, end_user, status, previous_response_id, depth) AS (
        SELECT id, tenant, end_user, status, previous_response_id, 0 FROM responses WHERE id = $1
        UNION ALL
        SELECT r.id, r.tenant, r.end_user, r.status, r.previous_response_id, c.depth + 1
        FROM responses r JOIN chain c ON r.id = c.previous_response_id WHERE c.depth + 1 < $2
      )`;
    const [links, items] = await Promise.all([
      this.pool.query<Pick<Row, 'id' | 'tenant' | 'end_user' | 'status' | 'previous_response_id'>>(
        `${chain} SELECT id, tenant, end_user, status, previous_response_id FROM chain ORDER BY depth`, [id, maxLinks]),
      this.pool.query<{ item_id: string; json: string }>(
        `${chain} SELECT i.item_id, i.json FROM chain c JOIN response_items i ON i.response_id = c.id ORDER BY c.depth DESC, i.kind, i.idx`, [id, maxLinks]),
    ]);
    return {
      links: links.rows.map((r) => ({ id: r.id, tenant: r.tenant, endUser: r.end_user, status: r.status as ResponseRecord['status'], previousResponseId: r.previous_response_id })),
      items: items.rows.map((r) => ({ id: r.item_id, json: r.json })),
    };
  }

  async deleteResponse(id: string): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM response_events WHERE response_id = $1', [id]);
      await c.query('DELETE FROM response_items WHERE response_id = $1', [id]);
      return ((await c.query('DELETE FROM responses WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async listUnfinished(): Promise<ResponseRecord[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLS} FROM responses WHERE status IN ('queued', 'in_progress') ORDER BY seq`);
    return rows.map(toRecord);
  }

  async queueStats(): Promise<{ depth: number; oldestCreatedAt: number | null }> {
    const { rows } = await this.pool.query<{ depth: string; oldest: string | null }>(
      `SELECT count(*) AS depth, min(created_at) AS oldest FROM responses WHERE status = 'queued'`);
    return { depth: Number(rows[0].depth), oldestCreatedAt: rows[0].oldest === null ? null : Number(rows[0].oldest) };
  }

  async usageRows(q: UsageQuery): Promise<UsageRow[]> {
    // The snapshot is text (written as serialised); parsed here only for the rows of the window.
    const { rows } = await this.pool.query<Record<string, string | boolean>>(long(`
      SELECT (created_at - $2) / $4 AS bucket, end_user, background, COALESCE(s->>'model', '') AS model, count(*) AS responses,
        COALESCE(sum((s->'usage'->>'input_tokens')::bigint), 0) AS input,
        COALESCE(sum((s->'usage'->>'output_tokens')::bigint), 0) AS output,
        COALESCE(sum((s->'usage'->'input_tokens_details'->>'cached_tokens')::bigint), 0) AS cached,
        COALESCE(sum((s->'usage'->'output_tokens_details'->>'reasoning_tokens')::bigint), 0) AS reasoning
      FROM (SELECT created_at, end_user, background, snapshot::jsonb AS s FROM responses
            WHERE tenant = $1 AND ($5::text IS NULL OR end_user = $5) AND created_at >= $2 AND created_at < $3) w
      GROUP BY 1, 2, 3, 4`, [q.tenant, q.start, q.end, q.width, q.endUser ?? null]));
    return rows.map((r) => ({
      bucket: Number(r.bucket), endUser: String(r.end_user), model: String(r.model), background: r.background === true,
      responses: Number(r.responses), inputTokens: Number(r.input), outputTokens: Number(r.output),
      cachedTokens: Number(r.cached), reasoningTokens: Number(r.reasoning),
    }));
  }

  async deleteOlderThan(unixSeconds: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(long(`
      WITH gone AS (DELETE FROM responses WHERE created_at < $1 RETURNING id),
      ev AS (DELETE FROM response_events WHERE response_id IN (SELECT id FROM gone)),
      it AS (DELETE FROM response_items WHERE response_id IN (SELECT id FROM gone))
      SELECT count(*) AS n FROM gone`, [unixSeconds]));
    return Number(rows[0]?.n ?? 0);
  }
}
