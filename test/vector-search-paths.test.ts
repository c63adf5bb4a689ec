// The vector search paths agree (issue 20): sqlite-vec (scored in C inside SQLite) and the exact JS path
// (vector-math.ts) rank the same chunks with the same cosine scores, leave out other models' vectors and
// honour file_ids; sqlite-vec failing to load falls back to the JS path with the reason; on PostgreSQL
// (TEST_DATABASE_URL) pgvector is detected and, where absent, the exact path answers the same.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { PostgresStore } from '../src/store/postgres/index.js';
import { loadSqliteVec } from '../src/store/sqlite/vec.js';
import type { Store } from '../src/store/types.js';
import type { ChunkHit } from '../src/store/vector-stores.js';
import { dropSchema, randomName } from './support/backends.js';

const DIMS = 16;
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
function unit(n = DIMS): Float32Array {
  const v = Float32Array.from({ length: n }, rand);
  const len = Math.hypot(...v);
  return v.map((x) => x / len);
}
// Fixed data: two files of 16-dim vectors, a third of another model's 8-dim ones, and a zero vector.
const FILES: Record<string, Array<Float32Array | undefined>> = {
  file_a: Array.from({ length: 40 }, () => unit()),
  file_b: [...Array.from({ length: 30 }, () => unit()), new Float32Array(DIMS), undefined],
  file_c: Array.from({ length: 10 }, () => unit(8)),
};
const QUERIES = Array.from({ length: 5 }, () => unit());

async function fill(store: Store): Promise<string> {
  const vs = store.vectorStores!;
  const now = Math.floor(Date.now() / 1000);
  const id = 'vs_paths';
  for (const f of Object.keys(FILES)) {
    await store.files!.createFile({ id: f, tenant: 't', endUser: '', createdAt: now, filename: `${f}.txt`, purpose: 'assistants', bytes: 1, mimeType: 'text/plain', expiresAt: null }, Buffer.from('x'));
  }
  const chunking = { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 };
  await vs.createVectorStore({
    id, tenant: 't', endUser: '', createdAt: now, name: 'paths', description: null, metadata: null, expiresAfterDays: null, lastActiveAt: now, embeddingModel: 'm',
  } as never, Object.keys(FILES).map((fileId) => ({ vectorStoreId: id, fileId, createdAt: now, status: 'in_progress' as const, lastError: null, attributes: null, chunking, usageBytes: 0, batchId: null })));
  for (let job = await vs.claimIngestion('w', 60_000); job; job = await vs.claimIngestion('w', 60_000)) {
    const chunks = FILES[job.fileId].map((vector, i) => ({ text: `${job!.fileId} ${i}`, vector }));
    assert.ok(await vs.completeIngestion(job, 'w', 'x', chunks));
  }
  return id;
}

const key = (h: ChunkHit) => `${h.fileId}#${h.chunkIndex}`;

/** The expected ranking, computed here: dot products of unit vectors, other lengths left out. */
function expected(q: Float32Array, files: string[], limit: number): Array<{ key: string; score: number }> {
  const all = files.flatMap((f) => FILES[f].flatMap((v, i) => (v && v.length === q.length ? [{ key: `${f}#${i}`, score: v.reduce((s, x, j) => s + x * q[j], 0) }] : [])));
  return all.sort((a, b) => b.score - a.score).slice(0, limit);
}

async function assertRanks(store: Store, id: string): Promise<void> {
  for (const q of QUERIES) {
    for (const [fileIds, files] of [[undefined, ['file_a', 'file_b', 'file_c']], [['file_b'], ['file_b']]] as const) {
      const hits = await store.vectorStores!.searchVector({ vectorStoreIds: [id], vector: q, limit: 12, fileIds: fileIds && [...fileIds] });
      const want = expected(q, [...files], 12);
      assert.deepEqual(hits.map(key), want.map((w) => w.key));
      hits.forEach((h, i) => assert.ok(Math.abs(h.score - want[i].score) < 1e-5, `${h.score} vs ${want[i].score}`));
    }
    // Everything: the zero vector scores 0 on both paths, the 8-dim vectors and the missing one never appear.
    const all = await store.vectorStores!.searchVector({ vectorStoreIds: [id], vector: q, limit: 1000 });
    assert.equal(all.length, 71);
    assert.equal(all.find((h) => key(h) === 'file_b#30')?.score, 0);
  }
  assert.deepEqual(await store.vectorStores!.searchVector({ vectorStoreIds: [id], vector: QUERIES[0], limit: 5, fileIds: [] }), []);
}

describe('vector search paths on SQLite', () => {
  let dir: string;
  let vec: SqliteStore;
  let js: SqliteStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'respd-vecpaths-'));
    vec = new SqliteStore(join(dir, 'respd.db'));
    js = new SqliteStore(join(dir, 'respd.db'), { vectorExtension: false });
    await vec.init();
    await js.init();
  });
  after(async () => {
    await js?.close();
    await vec?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sqlite-vec loads on this platform, VECTOR_EXTENSION=off keeps the JS path', () => {
    assert.equal(vec.vectorStores.searchPath.engine, 'sqlite-vec');
    assert.match(vec.vectorStores.searchPath.detail, /sqlite-vec v0\.1\.9/);
    assert.deepEqual(js.vectorStores.searchPath, { engine: 'js', detail: 'exact, in JS (VECTOR_EXTENSION=off)' });
  });

  it('both paths rank the same chunks with the same scores', async () => {
    const id = await fill(vec);
    await assertRanks(vec, id);
    await assertRanks(js, id);
  });

  it('an extension that does not load leaves the JS path, with the reason', () => {
    const db = new Database(':memory:');
    try {
      const path = loadSqliteVec(db, true, () => join(dir, 'no-such-vec0.so'));
      assert.equal(path.engine, 'js');
      assert.match(path.detail, /^exact, in JS \(sqlite-vec did not load: .*no-such-vec0/);
    } finally {
      db.close();
    }
  });
});

const PG = process.env.TEST_DATABASE_URL;
describe('vector search paths on PostgreSQL', { skip: PG?.startsWith('postgres') ? false : 'TEST_DATABASE_URL is not set' }, () => {
  const schema = randomName('respd_t_vecpaths');
  let store: PostgresStore;
  after(async () => {
    await store?.close();
    await dropSchema(PG!, schema);
  });

  it('detects pgvector and, without it, searches exactly with the same results', async () => {
    store = new PostgresStore(PG!, { schema });
    await store.init();
    assert.equal(store.vectorStores.searchPath.engine, 'js');
    assert.match(store.vectorStores.searchPath.detail, /^exact, in JS over bytea \(pgvector (is not available on this server|\S+ is (installed|available) but not used)/);
    await assertRanks(store, await fill(store));
  });

  it('VECTOR_EXTENSION=off does not look', async () => {
    const off = new PostgresStore(PG!, { schema, vectorExtension: false });
    try {
      await off.init();
      assert.equal(off.vectorStores.searchPath.detail, 'exact, in JS over bytea (VECTOR_EXTENSION=off)');
    } finally {
      await off.close();
    }
  });
});
