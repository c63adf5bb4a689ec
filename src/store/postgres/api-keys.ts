// API keys on PostgreSQL (see ../api-keys.ts): digests only, shared by every instance; each instance
// re-reads the active digests every KEYS_REFRESH_MS, which bounds how long a revoked key still works.
import type pg from 'pg';
import type { ApiKeyRecord, ApiKeyStore } from '../api-keys.js';

export const apiKeysMigration = {
  version: 7,
  sql: `
    CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      digest TEXT NOT NULL UNIQUE,
      created_at BIGINT NOT NULL,
      revoked_at BIGINT
    );
  `,
};

interface Row { id: string; name: string; digest: string; created_at: string; revoked_at: string | null }
const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id, name: r.name, digest: r.digest, createdAt: Number(r.created_at), revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});
const COLS = 'id, name, digest, created_at, revoked_at';

export class PgApiKeyStore implements ApiKeyStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(rec: ApiKeyRecord): Promise<void> {
    await this.pool.query('INSERT INTO api_keys (id, name, digest, created_at) VALUES ($1, $2, $3, $4)', [rec.id, rec.name, rec.digest, rec.createdAt]);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.pool.query<Row>(`SELECT ${COLS} FROM api_keys ORDER BY created_at, id`)).rows.map(toRecord);
  }

  async revoke(id: string, at: number): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING ${COLS}`, [at, id]);
    return rows[0] && toRecord(rows[0]);
  }

  async activeDigests(): Promise<string[]> {
    return (await this.pool.query<{ digest: string }>('SELECT digest FROM api_keys WHERE revoked_at IS NULL')).rows.map((r) => r.digest);
  }
}
