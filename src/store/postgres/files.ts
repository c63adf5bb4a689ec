// Files in PostgreSQL (scale-out): the record and its bytes in the database, so every instance can
// read every file. Bytes live in a table of their own so lists and lookups never touch them.
import type pg from 'pg';
import { inTransaction } from './tx.js';
import type { FileListQuery, FileRecord, FileStore } from '../files.js';
import type { Owner } from '../types.js';

/** Version 4 of the PostgreSQL migrations (SQLite's version 4 keeps the bytes on disk instead). */
export const filesMigration = {
  version: 4,
  sql: `
    CREATE TABLE files (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      filename TEXT NOT NULL,
      purpose TEXT NOT NULL,
      bytes BIGINT NOT NULL,
      mime_type TEXT NOT NULL,
      expires_at BIGINT
    );
    CREATE INDEX files_owner ON files (tenant, end_user, id);
    CREATE TABLE file_contents (
      file_id TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
      data BYTEA NOT NULL
    );
  `,
};

interface Row {
  id: string; tenant: string; end_user: string; created_at: string; filename: string; purpose: string;
  bytes: string; mime_type: string; expires_at: string | null;
}
const COLS = 'id, tenant, end_user, created_at, filename, purpose, bytes, mime_type, expires_at';
const toRecord = (r: Row): FileRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: Number(r.created_at), filename: r.filename, purpose: r.purpose,
  bytes: Number(r.bytes), mimeType: r.mime_type, expiresAt: r.expires_at === null ? null : Number(r.expires_at),
});

type Q = Pick<pg.PoolClient, 'query'>;

export class PgFileStore implements FileStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Vector-store rows of a file, deleted in the same transaction as the file (see vector-stores). */
    private readonly onDelete: (c: Q, fileId: string) => Promise<void> = async () => {},
  ) {}

  async createFile(rec: FileRecord, data: Buffer): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(`INSERT INTO files (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        rec.id, rec.tenant, rec.endUser, rec.createdAt, rec.filename, rec.purpose, rec.bytes, rec.mimeType, rec.expiresAt,
      ]);
      await c.query('INSERT INTO file_contents (file_id, data) VALUES ($1, $2)', [rec.id, data]);
    });
  }

  async getFile(id: string): Promise<FileRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLS} FROM files WHERE id = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  async listFiles(owner: Owner, q: FileListQuery): Promise<FileRecord[]> {
    const where = ['tenant = $1', 'end_user = $2', '(expires_at IS NULL OR expires_at > $3)'];
    const args: unknown[] = [owner.tenant, owner.endUser, q.now];
    if (q.after) {
      args.push(q.after);
      where.push(`id ${q.order === 'desc' ? '<' : '>'} $${args.length}`);
    }
    if (q.purpose) {
      args.push(q.purpose);
      where.push(`purpose = $${args.length}`);
    }
    args.push(q.limit);
    const sql = `SELECT ${COLS} FROM files WHERE ${where.join(' AND ')} ORDER BY id ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`;
    return (await this.pool.query<Row>(sql, args)).rows.map(toRecord);
  }

  async readFileContent(id: string): Promise<Buffer | undefined> {
    const { rows } = await this.pool.query<{ data: Buffer }>({
      text: 'SELECT data FROM file_contents WHERE file_id = $1', values: [id], query_timeout: 60_000,
    } as pg.QueryConfig);
    return rows[0]?.data;
  }

  async deleteFile(id: string): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      await this.onDelete(c, id);
      return ((await c.query('DELETE FROM files WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }
}
