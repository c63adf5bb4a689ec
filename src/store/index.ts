// Picks the store from DATABASE_URL: the embedded SQLite file by default, PostgreSQL for scale-out.
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { PostgresStore } from './postgres/index.js';
import { SqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

/** The SQLite file the configuration names; undefined when the store is PostgreSQL. */
export function sqlitePathOf(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string | undefined {
  const url = config.databaseUrl;
  if (!url) return join(config.dataDir, 'respd.db');
  if (url.startsWith('sqlite://')) return url.slice('sqlite://'.length);
  return undefined;
}

export async function createStore(config: Config): Promise<Store> {
  const url = config.databaseUrl;
  const sqlite = { busyTimeoutMs: config.sqliteBusyTimeoutMs, vectorExtension: config.vectorExtension };
  const file = sqlitePathOf(config);
  if (file !== undefined) return new SqliteStore(file, sqlite);
  // Scale-out: one PostgreSQL for every instance; `?schema=NAME` or DATABASE_SCHEMA picks a schema.
  if (/^postgres(ql)?:\/\//.test(url!)) return new PostgresStore(url!, { schema: config.databaseSchema, vectorExtension: config.vectorExtension });
  throw new Error(`Unsupported DATABASE_URL scheme '${url!.split(':')[0]}' (use sqlite://path or postgres://…)`);
}
