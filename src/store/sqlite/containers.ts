// Containers on the embedded store (migration 9): records and file bytes in the SQLite file. Writes go
// through the store's `write` (BEGIN IMMEDIATE with retries while another process holds the lock).
import type Database from 'better-sqlite3';
import type { ContainerFileRecord, ContainerPage, ContainerRecord, ContainerStore } from '../containers.js';
import type { Owner } from '../types.js';

export const containersMigration = {
  version: 9,
  sql: `
    CREATE TABLE containers (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_active_at INTEGER NOT NULL,
      expires_minutes INTEGER NOT NULL,
      memory_limit TEXT NOT NULL
    );
    CREATE INDEX containers_owner ON containers (tenant, end_user, id);
    CREATE TABLE container_files (
      id TEXT PRIMARY KEY,
      container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      source TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      data BLOB NOT NULL,
      UNIQUE (container_id, path)
    );
    CREATE INDEX container_files_list ON container_files (container_id, id);
  `,
};

interface CRow { id: string; tenant: string; end_user: string; name: string; created_at: number; last_active_at: number; expires_minutes: number; memory_limit: string }
interface FRow { id: string; container_id: string; path: string; bytes: number; source: 'user' | 'assistant'; created_at: number }
const CCOLS = 'id, tenant, end_user, name, created_at, last_active_at, expires_minutes, memory_limit';
const FCOLS = 'id, container_id, path, bytes, source, created_at';
const toC = (r: CRow): ContainerRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, name: r.name, createdAt: r.created_at, lastActiveAt: r.last_active_at,
  expiresMinutes: r.expires_minutes, memoryLimit: r.memory_limit,
});
const toF = (r: FRow): ContainerFileRecord => ({ id: r.id, containerId: r.container_id, path: r.path, bytes: r.bytes, source: r.source, createdAt: r.created_at });
const page = (q: ContainerPage) => ({ cmp: q.order === 'desc' ? '<' : '>', dir: q.order === 'desc' ? 'DESC' : 'ASC' });

export class SqliteContainerStore implements ContainerStore {
  constructor(private readonly db: Database.Database, private readonly write: <T>(fn: () => T) => Promise<T>) {}

  createContainer(rec: ContainerRecord): Promise<void> {
    return this.write(() => {
      this.db.prepare(`INSERT INTO containers (${CCOLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
        rec.id, rec.tenant, rec.endUser, rec.name, rec.createdAt, rec.lastActiveAt, rec.expiresMinutes, rec.memoryLimit);
    });
  }

  async getContainer(id: string): Promise<ContainerRecord | undefined> {
    const r = this.db.prepare(`SELECT ${CCOLS} FROM containers WHERE id = ?`).get(id) as CRow | undefined;
    return r && toC(r);
  }

  async listContainers(owner: Owner, q: ContainerPage): Promise<ContainerRecord[]> {
    const { cmp, dir } = page(q);
    const after = q.after ? `AND id ${cmp} ?` : '';
    const name = q.name !== undefined ? 'AND name = ?' : '';
    const rows = this.db.prepare(`SELECT ${CCOLS} FROM containers WHERE tenant = ? AND end_user = ? ${after} ${name} ORDER BY id ${dir} LIMIT ?`)
      .all(...[owner.tenant, owner.endUser, ...(q.after ? [q.after] : []), ...(q.name !== undefined ? [q.name] : []), q.limit]) as CRow[];
    return rows.map(toC);
  }

  touchContainer(id: string, at: number): Promise<void> {
    return this.write(() => {
      this.db.prepare('UPDATE containers SET last_active_at = MAX(last_active_at, ?) WHERE id = ?').run(at, id);
    });
  }

  deleteContainer(id: string): Promise<boolean> {
    return this.write(() => {
      this.db.prepare('DELETE FROM container_files WHERE container_id = ?').run(id);
      return this.db.prepare('DELETE FROM containers WHERE id = ?').run(id).changes > 0;
    });
  }

  putContainerFile(rec: ContainerFileRecord, data: Buffer): Promise<void> {
    return this.write(() => {
      this.db.prepare('DELETE FROM container_files WHERE container_id = ? AND path = ?').run(rec.containerId, rec.path);
      this.db.prepare(`INSERT INTO container_files (${FCOLS}, data) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
        rec.id, rec.containerId, rec.path, rec.bytes, rec.source, rec.createdAt, data);
    });
  }

  async getContainerFile(containerId: string, fileId: string): Promise<ContainerFileRecord | undefined> {
    const r = this.db.prepare(`SELECT ${FCOLS} FROM container_files WHERE container_id = ? AND id = ?`).get(containerId, fileId) as FRow | undefined;
    return r && toF(r);
  }

  async listContainerFiles(containerId: string, q: ContainerPage): Promise<ContainerFileRecord[]> {
    const { cmp, dir } = page(q);
    const after = q.after ? `AND id ${cmp} ?` : '';
    const rows = this.db.prepare(`SELECT ${FCOLS} FROM container_files WHERE container_id = ? ${after} ORDER BY id ${dir} LIMIT ?`)
      .all(...[containerId, ...(q.after ? [q.after] : []), q.limit]) as FRow[];
    return rows.map(toF);
  }

  async readContainerFile(containerId: string, fileId: string): Promise<Buffer | undefined> {
    const r = this.db.prepare('SELECT data FROM container_files WHERE container_id = ? AND id = ?').get(containerId, fileId) as { data: Buffer } | undefined;
    return r?.data;
  }

  deleteContainerFile(containerId: string, fileId: string): Promise<boolean> {
    return this.write(() => this.db.prepare('DELETE FROM container_files WHERE container_id = ? AND id = ?').run(containerId, fileId).changes > 0);
  }
}
