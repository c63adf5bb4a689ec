// Vector stores in PostgreSQL (scale-out), on the PostgresStore's pool. Every instance's ingestion
// worker claims files with FOR UPDATE SKIP LOCKED under a lease. Lexical search is BM25 computed in
// SQL over an 'english' tsvector (stemming and stop words, as Lucene's EnglishAnalyzer): candidates
// come from the GIN index, term frequencies from the tsvector's positions, and the collection
// statistics (chunk count, average length, document frequencies) from the stores searched.
import { nearest } from '../vector-math.js';
import type pg from 'pg';
import { inTransaction } from './tx.js';
import type {
  Attributes, BatchRecord, VectorQuery, ChunkHit, ChunkInput, IngestionJob, LexicalQuery, StoreFileListQuery, StoreFileRecord,
  StoreStats, VectorSearchPath, VectorStoreListQuery, VectorStoreRecord, VectorStoreStore,
} from '../vector-stores.js';
import type { Owner } from '../types.js';

/** Version 5 of the PostgreSQL migrations (the same tables as SQLite's version 5, tsvector for FTS5). */
export const vectorStoresMigration = {
  version: 5,
  sql: `
    CREATE TABLE vector_stores (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      name TEXT NOT NULL,
      description TEXT,
      metadata TEXT,
      expires_after_days INTEGER,
      last_active_at BIGINT NOT NULL,
      embedding_model TEXT
    );
    CREATE INDEX vector_stores_owner ON vector_stores (tenant, end_user, id);
    CREATE TABLE vector_store_file_batches (
      id TEXT PRIMARY KEY,
      vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
      created_at BIGINT NOT NULL,
      cancelled BOOLEAN NOT NULL DEFAULT false
    );
    CREATE INDEX vector_store_file_batches_store ON vector_store_file_batches (vector_store_id);
    CREATE TABLE vector_store_files (
      seq BIGSERIAL PRIMARY KEY,
      vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
      file_id TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      status TEXT NOT NULL,
      last_error TEXT,
      attributes TEXT,
      chunking TEXT NOT NULL,
      usage_bytes BIGINT NOT NULL DEFAULT 0,
      batch_id TEXT,
      text TEXT,
      locked_by TEXT,
      locked_until BIGINT,
      attempts INTEGER NOT NULL DEFAULT 0,
      UNIQUE (vector_store_id, file_id)
    );
    CREATE INDEX vector_store_files_file ON vector_store_files (file_id);
    CREATE INDEX vector_store_files_pending ON vector_store_files (seq) WHERE status = 'in_progress';
    CREATE TABLE vector_store_chunks (
      seq BIGSERIAL PRIMARY KEY,
      vector_store_id TEXT NOT NULL,
      file_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      text TEXT NOT NULL,
      tsv TSVECTOR NOT NULL,
      len INTEGER NOT NULL,
      vector BYTEA
    );
    CREATE INDEX vector_store_chunks_file ON vector_store_chunks (vector_store_id, file_id);
    CREATE INDEX vector_store_chunks_tsv ON vector_store_chunks USING GIN (tsv);
  `,
};

interface VsRow {
  id: string; tenant: string; end_user: string; created_at: string; name: string; description: string | null;
  metadata: string | null; expires_after_days: number | null; last_active_at: string; embedding_model: string | null;
}
interface FileRow {
  vector_store_id: string; file_id: string; created_at: string; status: string; last_error: string | null;
  attributes: string | null; chunking: string; usage_bytes: string; batch_id: string | null;
}

const VS_COLS = 'id, tenant, end_user, created_at, name, description, metadata, expires_after_days, last_active_at, embedding_model';
const FILE_COLS = 'vector_store_id, file_id, created_at, status, last_error, attributes, chunking, usage_bytes, batch_id';
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const toVs = (r: VsRow): VectorStoreRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: Number(r.created_at), name: r.name, description: r.description,
  metadata: r.metadata === null ? null : JSON.parse(r.metadata), expiresAfterDays: r.expires_after_days,
  lastActiveAt: Number(r.last_active_at), embeddingModel: r.embedding_model,
});
const toFile = (r: FileRow): StoreFileRecord => ({
  vectorStoreId: r.vector_store_id, fileId: r.file_id, createdAt: Number(r.created_at), status: r.status as StoreFileRecord['status'],
  lastError: r.last_error === null ? null : JSON.parse(r.last_error), attributes: r.attributes === null ? null : JSON.parse(r.attributes),
  chunking: JSON.parse(r.chunking), usageBytes: Number(r.usage_bytes), batchId: r.batch_id,
});

type Q = Pick<pg.PoolClient, 'query'>;

// BM25 (k1 = 1.2, b = 0.75, Lucene's idf) over the chunks of the stores searched: candidates from the
// GIN index (the tsquery is inline so the planner can use it), term frequencies from their tsvectors.
const BM25 = `
  WITH lex AS (SELECT coalesce(array_agg(lexeme), '{}') AS lexemes FROM unnest(to_tsvector('english', $3))),
  stats AS (SELECT count(*)::float8 AS n, coalesce(avg(len), 1)::float8 AS avgdl FROM vector_store_chunks WHERE vector_store_id = ANY($1)),
  cand AS MATERIALIZED (
    SELECT c.seq, c.len, c.tsv FROM vector_store_chunks c
    WHERE c.tsv @@ to_tsquery('english', $2) AND c.vector_store_id = ANY($1) AND ($5::text[] IS NULL OR c.file_id = ANY($5))
  ),
  hits AS (
    SELECT cand.seq, cand.len, t.lexeme, coalesce(array_length(t.positions, 1), 1)::float8 AS tf
    FROM cand CROSS JOIN lex CROSS JOIN LATERAL unnest(cand.tsv) t WHERE t.lexeme = ANY(lex.lexemes)
  ),
  df AS (SELECT lexeme, count(*)::float8 AS df FROM hits GROUP BY lexeme),
  scored AS (
    SELECT h.seq, sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * h.len / greatest(s.avgdl, 1)))) AS score
    FROM hits h JOIN df USING (lexeme) CROSS JOIN stats s GROUP BY h.seq ORDER BY score DESC LIMIT $4
  )
  SELECT c.vector_store_id, c.file_id, f.filename, c.idx, c.text, scored.score, s.attributes
  FROM scored JOIN vector_store_chunks c ON c.seq = scored.seq JOIN files f ON f.id = c.file_id
    JOIN vector_store_files s ON s.vector_store_id = c.vector_store_id AND s.file_id = c.file_id
  ORDER BY scored.score DESC`;

export class PgVectorStoreStore implements VectorStoreStore {
  /** Set by PostgresStore.init from detectPgvector (pgvector.ts). */
  searchPath: VectorSearchPath = { engine: 'js', detail: 'exact, in JS over bytea' };

  constructor(private readonly pool: pg.Pool) {}

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  private async insertFiles(c: Q, files: StoreFileRecord[]): Promise<void> {
    for (const f of files) {
      await c.query('DELETE FROM vector_store_chunks WHERE vector_store_id = $1 AND file_id = $2', [f.vectorStoreId, f.fileId]);
      await c.query(`INSERT INTO vector_store_files (${FILE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (vector_store_id, file_id) DO UPDATE SET status = excluded.status, last_error = NULL,
          attributes = excluded.attributes, chunking = excluded.chunking, usage_bytes = 0, batch_id = excluded.batch_id,
          text = NULL, locked_by = NULL, locked_until = NULL, attempts = 0`,
      [f.vectorStoreId, f.fileId, f.createdAt, f.status, json(f.lastError), json(f.attributes), json(f.chunking), f.usageBytes, f.batchId]);
    }
  }

  async createVectorStore(rec: VectorStoreRecord, files: StoreFileRecord[]): Promise<void> {
    await this.tx(async (c) => {
      await c.query(`INSERT INTO vector_stores (${VS_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        rec.id, rec.tenant, rec.endUser, rec.createdAt, rec.name, rec.description, json(rec.metadata), rec.expiresAfterDays,
        rec.lastActiveAt, rec.embeddingModel,
      ]);
      await this.insertFiles(c, files);
    });
  }

  async getVectorStore(id: string): Promise<VectorStoreRecord | undefined> {
    const { rows } = await this.pool.query<VsRow>(`SELECT ${VS_COLS} FROM vector_stores WHERE id = $1`, [id]);
    return rows[0] && toVs(rows[0]);
  }

  async listVectorStores(owner: Owner, q: VectorStoreListQuery): Promise<VectorStoreRecord[]> {
    const where = ['tenant = $1', 'end_user = $2'];
    const args: unknown[] = [owner.tenant, owner.endUser];
    if (q.after) (args.push(q.after), where.push(`id ${q.order === 'desc' ? '<' : '>'} $${args.length}`));
    if (q.before) (args.push(q.before), where.push(`id ${q.order === 'desc' ? '>' : '<'} $${args.length}`));
    args.push(q.limit);
    const sql = `SELECT ${VS_COLS} FROM vector_stores WHERE ${where.join(' AND ')} ORDER BY id ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`;
    return (await this.pool.query<VsRow>(sql, args)).rows.map(toVs);
  }

  async updateVectorStore(rec: VectorStoreRecord): Promise<boolean> {
    const r = await this.pool.query(`UPDATE vector_stores SET name = $1, metadata = $2, expires_after_days = $3, last_active_at = $4,
      embedding_model = $5 WHERE id = $6`, [rec.name, json(rec.metadata), rec.expiresAfterDays, rec.lastActiveAt, rec.embeddingModel, rec.id]);
    return (r.rowCount ?? 0) > 0;
  }

  async deleteVectorStore(id: string): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM vector_store_chunks WHERE vector_store_id = $1', [id]);
      return ((await c.query('DELETE FROM vector_stores WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async stats(vectorStoreId: string, batchId?: string): Promise<StoreStats> {
    const { rows } = await this.pool.query<{ status: string; n: string; bytes: string | null }>(`SELECT status, count(*) AS n, sum(usage_bytes) AS bytes
      FROM vector_store_files WHERE vector_store_id = $1 AND ($2::text IS NULL OR batch_id = $2) GROUP BY status`, [vectorStoreId, batchId ?? null]);
    const counts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
    let usageBytes = 0;
    for (const r of rows) {
      counts[r.status as keyof typeof counts] = Number(r.n);
      counts.total += Number(r.n);
      usageBytes += Number(r.bytes ?? 0);
    }
    return { counts, usageBytes };
  }

  async addFiles(files: StoreFileRecord[], batch?: BatchRecord): Promise<void> {
    await this.tx(async (c) => {
      if (batch) {
        await c.query('INSERT INTO vector_store_file_batches (id, vector_store_id, created_at) VALUES ($1, $2, $3)', [batch.id, batch.vectorStoreId, batch.createdAt]);
      }
      await this.insertFiles(c, files);
    });
  }

  async getStoreFile(vectorStoreId: string, fileId: string): Promise<StoreFileRecord | undefined> {
    const { rows } = await this.pool.query<FileRow>(`SELECT ${FILE_COLS} FROM vector_store_files WHERE vector_store_id = $1 AND file_id = $2`, [vectorStoreId, fileId]);
    return rows[0] && toFile(rows[0]);
  }

  async listStoreFiles(vectorStoreId: string, q: StoreFileListQuery): Promise<StoreFileRecord[]> {
    const where = ['vector_store_id = $1'];
    const args: unknown[] = [vectorStoreId];
    for (const [cursor, op] of [[q.after, q.order === 'desc' ? '<' : '>'], [q.before, q.order === 'desc' ? '>' : '<']] as const) {
      if (!cursor) continue;
      const { rows } = await this.pool.query<{ seq: string }>('SELECT seq FROM vector_store_files WHERE vector_store_id = $1 AND file_id = $2', [vectorStoreId, cursor]);
      if (!rows[0]) return [];
      args.push(rows[0].seq);
      where.push(`seq ${op} $${args.length}`);
    }
    if (q.status) (args.push(q.status), where.push(`status = $${args.length}`));
    if (q.batchId) (args.push(q.batchId), where.push(`batch_id = $${args.length}`));
    args.push(q.limit);
    const sql = `SELECT ${FILE_COLS} FROM vector_store_files WHERE ${where.join(' AND ')} ORDER BY seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`;
    return (await this.pool.query<FileRow>(sql, args)).rows.map(toFile);
  }

  async updateStoreFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes | null): Promise<boolean> {
    const r = await this.pool.query('UPDATE vector_store_files SET attributes = $1 WHERE vector_store_id = $2 AND file_id = $3', [json(attributes), vectorStoreId, fileId]);
    return (r.rowCount ?? 0) > 0;
  }

  async deleteStoreFile(vectorStoreId: string, fileId: string): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM vector_store_chunks WHERE vector_store_id = $1 AND file_id = $2', [vectorStoreId, fileId]);
      return ((await c.query('DELETE FROM vector_store_files WHERE vector_store_id = $1 AND file_id = $2', [vectorStoreId, fileId])).rowCount ?? 0) > 0;
    });
  }

  /** Every store's copy of a file (called inside the Files API's delete transaction). */
  async removeFileIn(c: Q, fileId: string): Promise<void> {
    await c.query('DELETE FROM vector_store_chunks WHERE file_id = $1', [fileId]);
    await c.query('DELETE FROM vector_store_files WHERE file_id = $1', [fileId]);
  }

  async storeFileText(vectorStoreId: string, fileId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ text: string | null }>(`SELECT text FROM vector_store_files
      WHERE vector_store_id = $1 AND file_id = $2 AND status = 'completed'`, [vectorStoreId, fileId]);
    return rows[0]?.text ?? undefined;
  }

  async fileAttributes(vectorStoreIds: string[]): Promise<Array<{ fileId: string; attributes: Attributes | null }>> {
    const { rows } = await this.pool.query<{ file_id: string; attributes: string | null }>(`SELECT file_id, attributes FROM vector_store_files
      WHERE vector_store_id = ANY($1) AND status = 'completed'`, [vectorStoreIds]);
    return rows.map((r) => ({ fileId: r.file_id, attributes: r.attributes === null ? null : JSON.parse(r.attributes) }));
  }

  async getBatch(vectorStoreId: string, batchId: string): Promise<BatchRecord | undefined> {
    const { rows } = await this.pool.query<{ id: string; vector_store_id: string; created_at: string; cancelled: boolean }>(
      'SELECT id, vector_store_id, created_at, cancelled FROM vector_store_file_batches WHERE id = $1 AND vector_store_id = $2', [batchId, vectorStoreId]);
    const r = rows[0];
    return r && { id: r.id, vectorStoreId: r.vector_store_id, createdAt: Number(r.created_at), cancelled: r.cancelled };
  }

  async cancelBatch(vectorStoreId: string, batchId: string): Promise<void> {
    await this.tx(async (c) => {
      await c.query('UPDATE vector_store_file_batches SET cancelled = true WHERE id = $1 AND vector_store_id = $2', [batchId, vectorStoreId]);
      await c.query(`UPDATE vector_store_files SET status = 'cancelled', locked_by = NULL, locked_until = NULL
        WHERE vector_store_id = $1 AND batch_id = $2 AND status = 'in_progress'`, [vectorStoreId, batchId]);
    });
  }

  async claimIngestion(worker: string, leaseMs: number): Promise<IngestionJob | undefined> {
    const now = Date.now();
    const { rows } = await this.pool.query<{ vector_store_id: string; file_id: string; chunking: string; attempts: number; embedding_model: string | null }>(`
      UPDATE vector_store_files SET locked_by = $1, locked_until = $2, attempts = attempts + 1
      WHERE seq = (SELECT seq FROM vector_store_files WHERE status = 'in_progress' AND (locked_until IS NULL OR locked_until < $3)
        ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING vector_store_id, file_id, chunking, attempts,
        (SELECT embedding_model FROM vector_stores v WHERE v.id = vector_store_files.vector_store_id) AS embedding_model`, [worker, now + leaseMs, now]);
    const r = rows[0];
    return r && { vectorStoreId: r.vector_store_id, fileId: r.file_id, chunking: JSON.parse(r.chunking), attempts: r.attempts, embeddingModel: r.embedding_model };
  }

  private async holds(c: Q, job: IngestionJob, worker: string): Promise<boolean> {
    const { rows } = await c.query<{ status: string; locked_by: string | null }>(
      'SELECT status, locked_by FROM vector_store_files WHERE vector_store_id = $1 AND file_id = $2 FOR UPDATE', [job.vectorStoreId, job.fileId]);
    return rows[0]?.status === 'in_progress' && rows[0].locked_by === worker;
  }

  async completeIngestion(job: IngestionJob, worker: string, text: string, chunks: ChunkInput[]): Promise<boolean> {
    return this.tx(async (c) => {
      if (!(await this.holds(c, job, worker))) return false;
      await c.query('DELETE FROM vector_store_chunks WHERE vector_store_id = $1 AND file_id = $2', [job.vectorStoreId, job.fileId]);
      const vectors = chunks.map((k) => (k.vector ? Buffer.from(k.vector.buffer, k.vector.byteOffset, k.vector.byteLength) : null));
      if (chunks.length) {
        await c.query({
          text: `INSERT INTO vector_store_chunks (vector_store_id, file_id, idx, text, tsv, len, vector)
            SELECT $1, $2, x.i - 1, x.text, x.tsv, (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(x.tsv) u), x.v
            FROM (SELECT t.text, t.v, t.i, to_tsvector('english', t.text) AS tsv FROM unnest($3::text[], $4::bytea[]) WITH ORDINALITY AS t(text, v, i)) x`,
          values: [job.vectorStoreId, job.fileId, chunks.map((k) => k.text), vectors],
          query_timeout: 120_000,
        } as pg.QueryConfig);
      }
      const bytes = chunks.reduce((n, k) => n + Buffer.byteLength(k.text) + (k.vector?.byteLength ?? 0), 0);
      await c.query(`UPDATE vector_store_files SET status = 'completed', text = $1, usage_bytes = $2, last_error = NULL,
        locked_by = NULL, locked_until = NULL WHERE vector_store_id = $3 AND file_id = $4`, [text, bytes, job.vectorStoreId, job.fileId]);
      return true;
    });
  }

  async failIngestion(job: IngestionJob, worker: string, error: { code: string; message: string }): Promise<boolean> {
    return this.tx(async (c) => {
      if (!(await this.holds(c, job, worker))) return false;
      await c.query(`UPDATE vector_store_files SET status = 'failed', last_error = $1, locked_by = NULL, locked_until = NULL
        WHERE vector_store_id = $2 AND file_id = $3`, [JSON.stringify(error), job.vectorStoreId, job.fileId]);
      return true;
    });
  }

  async searchLexical(q: LexicalQuery): Promise<ChunkHit[]> {
    if (!q.terms.length || !q.vectorStoreIds.length || q.fileIds?.length === 0) return [];
    const { rows } = await this.pool.query<{ vector_store_id: string; file_id: string; filename: string; idx: number; text: string; score: number; attributes: string | null }>(
      BM25, [q.vectorStoreIds, q.terms.join(' | '), q.terms.join(' '), q.limit, q.fileIds ?? null]);
    return rows.map((r) => ({
      vectorStoreId: r.vector_store_id, fileId: r.file_id, filename: r.filename, chunkIndex: r.idx, text: r.text, score: Number(r.score),
      attributes: r.attributes === null ? null : JSON.parse(r.attributes),
    }));
  }

  async searchVector(q: VectorQuery): Promise<ChunkHit[]> {
    if (!q.vectorStoreIds.length || q.fileIds?.length === 0) return [];
    // No pgvector (Debian 12 has no package): vectors are bytea, ranked exactly here; then the winners' rows.
    const { rows } = await this.pool.query<{ seq: string; vector: Buffer }>(`SELECT seq, vector FROM vector_store_chunks
      WHERE vector IS NOT NULL AND vector_store_id = ANY($1) AND ($2::text[] IS NULL OR file_id = ANY($2))`, [q.vectorStoreIds, q.fileIds ?? null]);
    const top = nearest(rows, q.vector, q.limit);
    if (!top.length) return [];
    const got = await this.pool.query<{ seq: string; vector_store_id: string; file_id: string; filename: string; idx: number; text: string; attributes: string | null }>(
      `SELECT c.seq, c.vector_store_id, c.file_id, f.filename, c.idx, c.text,
        (SELECT attributes FROM vector_store_files s WHERE s.vector_store_id = c.vector_store_id AND s.file_id = c.file_id) AS attributes
      FROM vector_store_chunks c JOIN files f ON f.id = c.file_id WHERE c.seq = ANY($1::bigint[])`, [top.map((t) => String(t.seq))]);
    const bySeq = new Map(got.rows.map((r) => [String(r.seq), r]));
    return top.flatMap((t) => {
      const r = bySeq.get(String(t.seq));
      return r ? [{
        vectorStoreId: r.vector_store_id, fileId: r.file_id, filename: r.filename, chunkIndex: r.idx, text: r.text, score: t.score,
        attributes: r.attributes === null ? null : typeof r.attributes === 'string' ? JSON.parse(r.attributes) : r.attributes,
      }] : [];
    });
  }
}
