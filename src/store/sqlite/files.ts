// Files on the embedded store: records in the SQLite file (migration 4), bytes as one file each under
// `<data folder>/files/`. Bytes are written to a temporary name and renamed before the record is
// inserted, so a record never points at a partial file; a failed insert removes the bytes again. A
// delete removes the record first: bytes left behind by a crash in between are never reachable.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileListQuery, FileRecord, FileStore } from '../files.js';
import type { Owner } from '../types.js';

interface Row {
  id: string; tenant: string; end_user: string; created_at: number; filename: string; purpose: string;
  bytes: number; mime_type: string; expires_at: number | null;
}
const COLS = 'id, tenant, end_user, created_at, filename, purpose, bytes, mime_type, expires_at';
const toRecord = (r: Row): FileRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, createdAt: r.created_at, filename: r.filename, purpose: r.purpose,
  bytes: r.bytes, mimeType: r.mime_type, expiresAt: r.expires_at,
});

export class SqliteFileStore implements FileStore {
  constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
    /** Vector-store rows of a file, deleted in the same transaction as the file (see vector-stores). */
    private readonly onDelete: (fileId: string) => void = () => {},
  ) {}

  private path(id: string): string {
    // Ids are `file_` + hex (checked by the service), so they are safe as file names.
    return join(this.dir, id);
  }

  async createFile(rec: FileRecord, data: Buffer): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const final = this.path(rec.id);
    const tmp = `${final}.part`;
    try {
      await writeFile(tmp, data, { flag: 'wx' });
      await rename(tmp, final);
      this.db.prepare(`INSERT INTO files (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        rec.id, rec.tenant, rec.endUser, rec.createdAt, rec.filename, rec.purpose, rec.bytes, rec.mimeType, rec.expiresAt,
      );
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      await rm(final, { force: true }).catch(() => {});
      throw err;
    }
  }

  async getFile(id: string): Promise<FileRecord | undefined> {
    const row = this.db.prepare(`SELECT ${COLS} FROM files WHERE id = ?`).get(id) as Row | undefined;
    return row && toRecord(row);
  }

  async listFiles(owner: Owner, q: FileListQuery): Promise<FileRecord[]> {
    const where = ['tenant = ?', 'end_user = ?', '(expires_at IS NULL OR expires_at > ?)'];
    const args: unknown[] = [owner.tenant, owner.endUser, q.now];
    if (q.after) {
      where.push(`id ${q.order === 'desc' ? '<' : '>'} ?`);
      args.push(q.after);
    }
    if (q.purpose) {
      where.push('purpose = ?');
      args.push(q.purpose);
    }
    const sql = `SELECT ${COLS} FROM files WHERE ${where.join(' AND ')} ORDER BY id ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as Row[]).map(toRecord);
  }

  async readFileContent(id: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async deleteFile(id: string): Promise<boolean> {
    const deleted = this.db.transaction(() => {
      this.onDelete(id);
      return this.db.prepare('DELETE FROM files WHERE id = ?').run(id).changes > 0;
    })();
    if (deleted) await rm(this.path(id), { force: true });
    return deleted;
  }
}
