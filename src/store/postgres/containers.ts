// Containers in PostgreSQL (scale-out): records and file bytes in the database, so a code_interpreter
// run on any instance finds the container's files.
import type pg from 'pg';
import { inTransaction } from './tx.js';
import { CONTAINER_COLS as CCOLS, CONTAINER_FILE_COLS as FCOLS, containerPage as page, toContainer as toC, toContainerFile as toF, type ContainerFileRecord, type ContainerFileRow as FRow, type ContainerPage, type ContainerRecord, type ContainerRow as CRow, type ContainerStore } from '../containers.js';
import type { Owner } from '../types.js';

/** Version 7 of the PostgreSQL migrations (SQLite's 8). */
export const containersMigration = {
  version: 8,
  sql: `
    CREATE TABLE containers (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      last_active_at BIGINT NOT NULL,
      expires_minutes INTEGER NOT NULL,
      memory_limit TEXT NOT NULL
    );
    CREATE INDEX containers_owner ON containers (tenant, end_user, id);
    CREATE TABLE container_files (
      id TEXT PRIMARY KEY,
      container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      bytes BIGINT NOT NULL,
      source TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      data BYTEA NOT NULL,
      UNIQUE (container_id, path)
    );
    CREATE INDEX container_files_list ON container_files (container_id, id);
  `,
};

export class PgContainerStore implements ContainerStore {
  constructor(private readonly pool: pg.Pool) {}

  async createContainer(rec: ContainerRecord): Promise<void> {
    await this.pool.query(`INSERT INTO containers (${CCOLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      rec.id, rec.tenant, rec.endUser, rec.name, rec.createdAt, rec.lastActiveAt, rec.expiresMinutes, rec.memoryLimit]);
  }

  async getContainer(id: string): Promise<ContainerRecord | undefined> {
    const { rows } = await this.pool.query<CRow>(`SELECT ${CCOLS} FROM containers WHERE id = $1`, [id]);
    return rows[0] && toC(rows[0]);
  }

  async listContainers(owner: Owner, q: ContainerPage): Promise<ContainerRecord[]> {
    const args: unknown[] = [owner.tenant, owner.endUser, q.limit];
    const after = q.after ? `AND id ${page(q).cmp} $${args.push(q.after)}` : '';
    const name = q.name !== undefined ? `AND name = $${args.push(q.name)}` : '';
    const { rows } = await this.pool.query<CRow>(
      `SELECT ${CCOLS} FROM containers WHERE tenant = $1 AND end_user = $2 ${after} ${name} ORDER BY id ${page(q).dir} LIMIT $3`, args);
    return rows.map(toC);
  }

  async touchContainer(id: string, at: number): Promise<void> {
    await this.pool.query('UPDATE containers SET last_active_at = GREATEST(last_active_at, $1) WHERE id = $2', [at, id]);
  }

  async deleteContainer(id: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM containers WHERE id = $1', [id]); // files: ON DELETE CASCADE
    return (r.rowCount ?? 0) > 0;
  }

  async putContainerFile(rec: ContainerFileRecord, data: Buffer): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query('DELETE FROM container_files WHERE container_id = $1 AND path = $2', [rec.containerId, rec.path]);
      await c.query(`INSERT INTO container_files (${FCOLS}, data) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        rec.id, rec.containerId, rec.path, rec.bytes, rec.source, rec.createdAt, data]);
    });
  }

  async getContainerFile(containerId: string, fileId: string): Promise<ContainerFileRecord | undefined> {
    const { rows } = await this.pool.query<FRow>(`SELECT ${FCOLS} FROM container_files WHERE container_id = $1 AND id = $2`, [containerId, fileId]);
    return rows[0] && toF(rows[0]);
  }

  async listContainerFiles(containerId: string, q: ContainerPage): Promise<ContainerFileRecord[]> {
    const after = q.after ? `AND id ${page(q).cmp} $3` : '';
    const { rows } = await this.pool.query<FRow>(
      `SELECT ${FCOLS} FROM container_files WHERE container_id = $1 ${after} ORDER BY id ${page(q).dir} LIMIT $2`,
      [containerId, q.limit, ...(q.after ? [q.after] : [])]);
    return rows.map(toF);
  }

  async readContainerFile(containerId: string, fileId: string): Promise<Buffer | undefined> {
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM container_files WHERE container_id = $1 AND id = $2', [containerId, fileId]);
    return rows[0]?.data;
  }

  async deleteContainerFile(containerId: string, fileId: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM container_files WHERE container_id = $1 AND id = $2', [containerId, fileId]);
    return (r.rowCount ?? 0) > 0;
  }
}
