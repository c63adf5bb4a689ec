// Vector stores in the embedded SQLite file (tables of migration 5), on the SqliteStore's connection.
// Lexical search is FTS5's bm25() over the chunks' index (Porter-stemmed); its collection statistics
// (document count, average length, document frequencies) are those of every chunk in the file.
import { nearest } from '../vector-math.js';
import type Database from 'better-sqlite3';
import type {
  Attributes, BatchRecord, VectorQuery, ChunkHit, ChunkInput, IngestionJob, LexicalQuery, StoreFileListQuery, StoreFileRecord,
  StoreStats, VectorSearchPath, VectorStoreListQuery, VectorStoreRecord, VectorStoreStore,
} from '../vector-stores.js';
import type { Owner } from '../types.js';

interface VsRow {
  id: string; tenant: string; end_user: string; created_at: number; name: string; description: string | null;
  metadata: string | null; expires_after_days: number | null; last_active_at: number; embedding_model: string | null;
}
interface FileRow {
  vector_store_id: string; file_id: string; created_at: number; status: string; last_error: string | null;
  attributes: string | null; chunking: string; usage_bytes: number; batch_id: string | null;
}

const VS_COLS = 'id, tenant, end_user, created_at, name, description, metadata, expires_after_days, last_active_at, embedding_model';
const FILE_COLS = 'vector_store_id, file_id, created_at, status, last_error, attributes, chunking, usage_bytes, batch_id';
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const toVs = (r: VsRow): VectorStoreRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: r.created_at, name: r.name, description: r.description,
  metadata: r.metadata === null ? null : JSON.parse(r.metadata), expiresAfterDays: r.expires_after_days,
  lastActiveAt: r.last_active_at, embeddingModel: r.embedding_model,
});
const toFile = (r: FileRow): StoreFileRecord => ({
  vectorStoreId: r.vector_store_id, fileId: r.file_id, createdAt: r.created_at, status: r.status as StoreFileRecord['status'],
  lastError: r.last_error === null ? null : JSON.parse(r.last_error), attributes: r.attributes === null ? null : JSON.parse(r.attributes),
  chunking: JSON.parse(r.chunking), usageBytes: r.usage_bytes, batchId: r.batch_id,
});

/** FTS5 query: any of the words (each quoted, so user text is never FTS syntax). */
const anyOf = (terms: string[]) => terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ');

export class SqliteVectorStoreStore implements VectorStoreStore {
  constructor(private readonly db: Database.Database, readonly searchPath: VectorSearchPath) {}

  private insertFiles(files: StoreFileRecord[]): void {
    const del = this.db.prepare('DELETE FROM vector_store_chunks WHERE vector_store_id = ? AND file_id = ?');
    const upsert = this.db.prepare(`INSERT INTO vector_store_files (${FILE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (vector_store_id, file_id) DO UPDATE SET status = excluded.status, last_error = NULL,
        attributes = excluded.attributes, chunking = excluded.chunking, usage_bytes = 0, batch_id = excluded.batch_id,
        text = NULL, locked_by = NULL, locked_until = NULL, attempts = 0`);
    for (const f of files) {
      del.run(f.vectorStoreId, f.fileId);
      upsert.run(f.vectorStoreId, f.fileId, f.createdAt, f.status, json(f.lastError), json(f.attributes), json(f.chunking), f.usageBytes, f.batchId);
    }
  }

  async createVectorStore(rec: VectorStoreRecord, files: StoreFileRecord[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO vector_stores (${VS_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        rec.id, rec.tenant, rec.endUser, rec.createdAt, rec.name, rec.description, json(rec.metadata), rec.expiresAfterDays,
        rec.lastActiveAt, rec.embeddingModel,
      );
      this.insertFiles(files);
    })();
  }

  async getVectorStore(id: string): Promise<VectorStoreRecord | undefined> {
    const row = this.db.prepare(`SELECT ${VS_COLS} FROM vector_stores WHERE id = ?`).get(id) as VsRow | undefined;
    return row && toVs(row);
  }

  async listVectorStores(owner: Owner, q: VectorStoreListQuery): Promise<VectorStoreRecord[]> {
    const where = ['tenant = ?', 'end_user = ?'];
    const args: unknown[] = [owner.tenant, owner.endUser];
    if (q.after) (where.push(`id ${q.order === 'desc' ? '<' : '>'} ?`), args.push(q.after));
    if (q.before) (where.push(`id ${q.order === 'desc' ? '>' : '<'} ?`), args.push(q.before));
    const sql = `SELECT ${VS_COLS} FROM vector_stores WHERE ${where.join(' AND ')} ORDER BY id ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as VsRow[]).map(toVs);
  }

  async updateVectorStore(rec: VectorStoreRecord): Promise<boolean> {
    return this.db.prepare(`UPDATE vector_stores SET name = ?, metadata = ?, expires_after_days = ?, last_active_at = ?,
      embedding_model = ? WHERE id = ?`).run(rec.name, json(rec.metadata), rec.expiresAfterDays, rec.lastActiveAt, rec.embeddingModel, rec.id).changes > 0;
  }

  async deleteVectorStore(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM vector_store_chunks WHERE vector_store_id = ?').run(id);
      return this.db.prepare('DELETE FROM vector_stores WHERE id = ?').run(id).changes > 0;
    })();
  }

  async stats(vectorStoreId: string, batchId?: string): Promise<StoreStats> {
    const rows = this.db.prepare(`SELECT status, COUNT(*) AS n, SUM(usage_bytes) AS bytes FROM vector_store_files
      WHERE vector_store_id = ? ${batchId ? 'AND batch_id = ?' : ''} GROUP BY status`).all(...[vectorStoreId, ...(batchId ? [batchId] : [])]) as Array<{ status: string; n: number; bytes: number }>;
    const counts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
    let usageBytes = 0;
    for (const r of rows) {
      counts[r.status as keyof typeof counts] = r.n;
      counts.total += r.n;
      usageBytes += r.bytes ?? 0;
    }
    return { counts, usageBytes };
  }

  async addFiles(files: StoreFileRecord[], batch?: BatchRecord): Promise<void> {
    this.db.transaction(() => {
      if (batch) {
        this.db.prepare('INSERT INTO vector_store_file_batches (id, vector_store_id, created_at, cancelled) VALUES (?, ?, ?, 0)')
          .run(batch.id, batch.vectorStoreId, batch.createdAt);
      }
      this.insertFiles(files);
    })();
  }

  async getStoreFile(vectorStoreId: string, fileId: string): Promise<StoreFileRecord | undefined> {
    const row = this.db.prepare(`SELECT ${FILE_COLS} FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?`).get(vectorStoreId, fileId) as FileRow | undefined;
    return row && toFile(row);
  }

  async listStoreFiles(vectorStoreId: string, q: StoreFileListQuery): Promise<StoreFileRecord[]> {
    const where = ['vector_store_id = ?'];
    const args: unknown[] = [vectorStoreId];
    const seqOf = this.db.prepare('SELECT seq FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?');
    for (const [cursor, op] of [[q.after, q.order === 'desc' ? '<' : '>'], [q.before, q.order === 'desc' ? '>' : '<']] as const) {
      if (!cursor) continue;
      const row = seqOf.get(vectorStoreId, cursor) as { seq: number } | undefined;
      if (!row) return [];
      where.push(`seq ${op} ?`);
      args.push(row.seq);
    }
    if (q.status) (where.push('status = ?'), args.push(q.status));
    if (q.batchId) (where.push('batch_id = ?'), args.push(q.batchId));
    const sql = `SELECT ${FILE_COLS} FROM vector_store_files WHERE ${where.join(' AND ')} ORDER BY seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as FileRow[]).map(toFile);
  }

  async updateStoreFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes | null): Promise<boolean> {
    return this.db.prepare('UPDATE vector_store_files SET attributes = ? WHERE vector_store_id = ? AND file_id = ?')
      .run(json(attributes), vectorStoreId, fileId).changes > 0;
  }

  async deleteStoreFile(vectorStoreId: string, fileId: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM vector_store_chunks WHERE vector_store_id = ? AND file_id = ?').run(vectorStoreId, fileId);
      return this.db.prepare('DELETE FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?').run(vectorStoreId, fileId).changes > 0;
    })();
  }

  /** Every store's copy of a file (called inside the Files API's delete transaction). */
  removeFile(fileId: string): void {
    this.db.prepare('DELETE FROM vector_store_chunks WHERE file_id = ?').run(fileId);
    this.db.prepare('DELETE FROM vector_store_files WHERE file_id = ?').run(fileId);
  }

  async storeFileText(vectorStoreId: string, fileId: string): Promise<string | undefined> {
    const row = this.db.prepare(`SELECT text FROM vector_store_files WHERE vector_store_id = ? AND file_id = ? AND status = 'completed'`)
      .get(vectorStoreId, fileId) as { text: string | null } | undefined;
    return row?.text ?? undefined;
  }

  async fileAttributes(vectorStoreIds: string[]): Promise<Array<{ fileId: string; attributes: Attributes | null }>> {
    const rows = this.db.prepare(`SELECT file_id, attributes FROM vector_store_files
      WHERE vector_store_id IN (SELECT value FROM json_each(?)) AND status = 'completed'`).all(JSON.stringify(vectorStoreIds)) as Array<{ file_id: string; attributes: string | null }>;
    return rows.map((r) => ({ fileId: r.file_id, attributes: r.attributes === null ? null : JSON.parse(r.attributes) }));
  }

  async getBatch(vectorStoreId: string, batchId: string): Promise<BatchRecord | undefined> {
    const row = this.db.prepare('SELECT id, vector_store_id, created_at, cancelled FROM vector_store_file_batches WHERE id = ? AND vector_store_id = ?')
      .get(batchId, vectorStoreId) as { id: string; vector_store_id: string; created_at: number; cancelled: number } | undefined;
    return row && { id: row.id, vectorStoreId: row.vector_store_id, createdAt: row.created_at, cancelled: row.cancelled === 1 };
  }

  async cancelBatch(vectorStoreId: string, batchId: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('UPDATE vector_store_file_batches SET cancelled = 1 WHERE id = ? AND vector_store_id = ?').run(batchId, vectorStoreId);
      this.db.prepare(`UPDATE vector_store_files SET status = 'cancelled', locked_by = NULL, locked_until = NULL
        WHERE vector_store_id = ? AND batch_id = ? AND status = 'in_progress'`).run(vectorStoreId, batchId);
    })();
  }

  async claimIngestion(worker: string, leaseMs: number): Promise<IngestionJob | undefined> {
    const now = Date.now();
    return this.db.transaction(() => {
      const row = this.db.prepare(`SELECT f.seq, f.vector_store_id, f.file_id, f.chunking, f.attempts, v.embedding_model
        FROM vector_store_files f JOIN vector_stores v ON v.id = f.vector_store_id
        WHERE f.status = 'in_progress' AND (f.locked_until IS NULL OR f.locked_until < ?) ORDER BY f.seq LIMIT 1`).get(now) as
        { seq: number; vector_store_id: string; file_id: string; chunking: string; attempts: number; embedding_model: string | null } | undefined;
      if (!row) return undefined;
      this.db.prepare('UPDATE vector_store_files SET locked_by = ?, locked_until = ?, attempts = attempts + 1 WHERE seq = ?').run(worker, now + leaseMs, row.seq);
      return {
        vectorStoreId: row.vector_store_id, fileId: row.file_id, chunking: JSON.parse(row.chunking), attempts: row.attempts + 1,
        embeddingModel: row.embedding_model,
      };
    }).immediate();
  }

  private holds(job: IngestionJob, worker: string): boolean {
    const row = this.db.prepare('SELECT status, locked_by FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?')
      .get(job.vectorStoreId, job.fileId) as { status: string; locked_by: string | null } | undefined;
    return row?.status === 'in_progress' && row.locked_by === worker;
  }

  async completeIngestion(job: IngestionJob, worker: string, text: string, chunks: ChunkInput[]): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.holds(job, worker)) return false;
      this.db.prepare('DELETE FROM vector_store_chunks WHERE vector_store_id = ? AND file_id = ?').run(job.vectorStoreId, job.fileId);
      const insert = this.db.prepare('INSERT INTO vector_store_chunks (vector_store_id, file_id, idx, text, vector) VALUES (?, ?, ?, ?, ?)');
      let bytes = 0;
      chunks.forEach((c, i) => {
        insert.run(job.vectorStoreId, job.fileId, i, c.text, c.vector ? Buffer.from(c.vector.buffer, c.vector.byteOffset, c.vector.byteLength) : null);
        bytes += Buffer.byteLength(c.text) + (c.vector?.byteLength ?? 0);
      });
      this.db.prepare(`UPDATE vector_store_files SET status = 'completed', text = ?, usage_bytes = ?, last_error = NULL,
        locked_by = NULL, locked_until = NULL WHERE vector_store_id = ? AND file_id = ?`).run(text, bytes, job.vectorStoreId, job.fileId);
      return true;
    }).immediate();
  }

  async failIngestion(job: IngestionJob, worker: string, error: { code: string; message: string }): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.holds(job, worker)) return false;
      this.db.prepare(`UPDATE vector_store_files SET status = 'failed', last_error = ?, locked_by = NULL, locked_until = NULL
        WHERE vector_store_id = ? AND file_id = ?`).run(JSON.stringify(error), job.vectorStoreId, job.fileId);
      return true;
    }).immediate();
  }

  async releaseClaims(): Promise<void> {
    this.db.prepare(`UPDATE vector_store_files SET locked_by = NULL, locked_until = NULL WHERE status = 'in_progress'`).run();
  }

  async searchLexical(q: LexicalQuery): Promise<ChunkHit[]> {
    if (!q.terms.length || !q.vectorStoreIds.length || q.fileIds?.length === 0) return [];
    const rows = this.db.prepare(`SELECT c.vector_store_id, c.file_id, f.filename, c.idx, c.text, -bm25(vector_store_chunks_fts) AS score,
        (SELECT attributes FROM vector_store_files s WHERE s.vector_store_id = c.vector_store_id AND s.file_id = c.file_id) AS attributes
      FROM vector_store_chunks_fts JOIN vector_store_chunks c ON c.seq = vector_store_chunks_fts.rowid JOIN files f ON f.id = c.file_id
      WHERE vector_store_chunks_fts MATCH ? AND c.vector_store_id IN (SELECT value FROM json_each(?))
        ${q.fileIds ? 'AND c.file_id IN (SELECT value FROM json_each(?))' : ''}
      ORDER BY score DESC LIMIT ?`).all(...[anyOf(q.terms), JSON.stringify(q.vectorStoreIds), ...(q.fileIds ? [JSON.stringify(q.fileIds)] : []), q.limit]) as
      Array<{ vector_store_id: string; file_id: string; filename: string; idx: number; text: string; score: number; attributes: string | null }>;
    return rows.map((r) => ({
      vectorStoreId: r.vector_store_id, fileId: r.file_id, filename: r.filename, chunkIndex: r.idx, text: r.text, score: r.score,
      attributes: r.attributes === null ? null : JSON.parse(r.attributes),
    }));
  }

  async searchVector(q: VectorQuery): Promise<ChunkHit[]> {
    if (!q.vectorStoreIds.length || q.fileIds?.length === 0) return [];
    // Two reads: the winners' seqs and scores, then text and file data for the winners only.
    const where = `vector IS NOT NULL AND vector_store_id IN (SELECT value FROM json_each(?))
      ${q.fileIds ? 'AND file_id IN (SELECT value FROM json_each(?))' : ''}`;
    const args: unknown[] = [JSON.stringify(q.vectorStoreIds), ...(q.fileIds ? [JSON.stringify(q.fileIds)] : [])];
    let top: Array<{ seq: number | string; score: number }>;
    if (this.searchPath.engine === 'sqlite-vec') {
      // Scored in C over the BLOB column; another model's vectors (other length) are left out as in nearest().
      // A zero vector has no cosine (NULL): scored 0, like the dot product the JS path takes.
      const query = Buffer.from(q.vector.buffer, q.vector.byteOffset, q.vector.byteLength);
      top = this.db.prepare(`SELECT seq, coalesce(1 - vec_distance_cosine(vector, ?), 0) AS score FROM vector_store_chunks
        WHERE ${where} AND length(vector) = ? ORDER BY score DESC LIMIT ?`).all(query, ...args, query.byteLength, q.limit) as Array<{ seq: number; score: number }>;
    } else {
      const rows = this.db.prepare(`SELECT seq, vector FROM vector_store_chunks WHERE ${where}`).all(...args) as Array<{ seq: number; vector: Buffer }>;
      top = nearest(rows, q.vector, q.limit);
    }
    if (!top.length) return [];
    const get = this.db.prepare(`SELECT c.vector_store_id, c.file_id, f.filename, c.idx, c.text,
        (SELECT attributes FROM vector_store_files s WHERE s.vector_store_id = c.vector_store_id AND s.file_id = c.file_id) AS attributes
      FROM vector_store_chunks c JOIN files f ON f.id = c.file_id WHERE c.seq = ?`);
    return top.flatMap((t) => {
      const r = get.get(t.seq) as { vector_store_id: string; file_id: string; filename: string; idx: number; text: string; attributes: string | null } | undefined;
      return r ? [{
        vectorStoreId: r.vector_store_id, fileId: r.file_id, filename: r.filename, chunkIndex: r.idx, text: r.text, score: t.score,
        attributes: r.attributes === null ? null : JSON.parse(r.attributes),
      }] : [];
    });
  }
}
