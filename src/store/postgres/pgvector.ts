// Whether the PostgreSQL server offers pgvector (issue 20). Debian 12 does not package it, so respd never
// requires it: vectors stay float32 bytea and are ranked exactly (vector-math.ts). Detection is reported in
// the startup log so an operator knows which path a deployment takes. respd does not CREATE EXTENSION: it
// needs a superuser (or a trusted-extension grant) and respd has no search path over pgvector's `vector`
// type yet, so creating it would change the database for nothing.
import type pg from 'pg';
import type { VectorSearchPath } from '../vector-stores.js';

type Q = Pick<pg.PoolClient, 'query'>;

export async function detectPgvector(c: Q, enabled: boolean): Promise<VectorSearchPath> {
  const exact = 'exact, in JS over bytea';
  if (!enabled) return { engine: 'js', detail: `${exact} (VECTOR_EXTENSION=off)` };
  try {
    const { rows } = await c.query<{ available: string | null; installed: string | null }>(
      `SELECT default_version AS available, installed_version AS installed FROM pg_available_extensions WHERE name = 'vector'`);
    if (!rows.length) return { engine: 'js', detail: `${exact} (pgvector is not available on this server)` };
    const r = rows[0];
    return { engine: 'js', detail: `${exact} (pgvector ${r.installed ?? r.available} is ${r.installed ? 'installed' : 'available'} but not used by this version of respd)` };
  } catch (e) {
    return { engine: 'js', detail: `${exact} (pgvector detection failed: ${(e as Error).message})` };
  }
}
