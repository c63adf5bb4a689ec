// API keys on SQLite (see ../api-keys.ts): digests only. Written by the CLI (`respd keys`), which opens
// the same file as the running server; the server re-reads the active digests every KEYS_REFRESH_MS.
import type Database from 'better-sqlite3';
import type { ApiKeyRecord, ApiKeyStore } from '../api-keys.js';

export const apiKeysMigration = {
  version: 8,
  sql: `
    CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      digest TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      revoked_at INTEGER
    );
  `,
};

interface Row { id: string; name: string; digest: string; created_at: number; revoked_at: number | null }
const toRecord = (r: Row): ApiKeyRecord => ({ id: r.id, name: r.name, digest: r.digest, createdAt: r.created_at, revokedAt: r.revoked_at });

export class SqliteApiKeyStore implements ApiKeyStore {
  private readonly ins: Database.Statement;
  private readonly all: Database.Statement;
  private readonly revokeStmt: Database.Statement;
  private readonly active: Database.Statement;

  constructor(db: Database.Database, private readonly write: <T>(fn: () => T) => Promise<T>) {
    this.ins = db.prepare('INSERT INTO api_keys (id, name, digest, created_at) VALUES (?, ?, ?, ?)');
    this.all = db.prepare('SELECT id, name, digest, created_at, revoked_at FROM api_keys ORDER BY created_at, id');
    this.revokeStmt = db.prepare('UPDATE api_keys SET revoked_at = IFNULL(revoked_at, ?) WHERE id = ? RETURNING id, name, digest, created_at, revoked_at');
    this.active = db.prepare('SELECT digest FROM api_keys WHERE revoked_at IS NULL').pluck();
  }

  async create(rec: ApiKeyRecord): Promise<void> {
    await this.write(() => this.ins.run(rec.id, rec.name, rec.digest, rec.createdAt));
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (this.all.all() as Row[]).map(toRecord);
  }

  async revoke(id: string, at: number): Promise<ApiKeyRecord | undefined> {
    const row = await this.write(() => this.revokeStmt.get(at, id) as Row | undefined);
    return row && toRecord(row);
  }

  async activeDigests(): Promise<string[]> {
    return this.active.all() as string[];
  }
}
