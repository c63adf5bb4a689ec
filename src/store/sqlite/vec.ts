// sqlite-vec (npm, prebuilt per platform through its optional `sqlite-vec-<os>-<arch>` package) ranks the
// stored float32 vectors inside SQLite, in C, instead of reading every vector into JS (vector-math.ts).
// It is loaded into the store's connection once; when it cannot be (a platform without a prebuilt binary,
// the optional package left out, or VECTOR_EXTENSION=off) the exact JS path stays, with the reason logged.
import type Database from 'better-sqlite3';
import { getLoadablePath } from 'sqlite-vec';
import type { VectorSearchPath } from '../vector-stores.js';

/** `loadablePath`: where the extension is (the platform package's; tests pass a missing one). */
export function loadSqliteVec(db: Database.Database, enabled: boolean, loadablePath: () => string = getLoadablePath): VectorSearchPath {
  if (!enabled) return { engine: 'js', detail: 'exact, in JS (VECTOR_EXTENSION=off)' };
  try {
    db.loadExtension(loadablePath());
    const { v } = db.prepare('SELECT vec_version() AS v').get() as { v: string };
    return { engine: 'sqlite-vec', detail: `exact, in SQLite by sqlite-vec ${v}` };
  } catch (e) {
    return { engine: 'js', detail: `exact, in JS (sqlite-vec did not load: ${(e as Error).message})` };
  }
}
