// Containers on the embedded store (migration 9): records and file bytes in the SQLite file. Writes go
// through the store's `write` (BEGIN IMMEDIATE with retries while another process holds the lock).
import type Database from 'better-sqlite3';
import { CONTAINER_COLS as CCOLS, CONTAINER_FILE_COLS as FCOLS, containerPage as page, toContainer as toC, toContainerFile as toF, type ContainerFileRecord, type ContainerFileRow as FRow, type ContainerPage, type ContainerRecord, type ContainerRow as CRow, type ContainerStore } from '../containers.js';
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
