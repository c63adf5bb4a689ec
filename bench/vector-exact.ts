// How far the exact vector path goes (issue 20): search latency of `searchVector` over one vector store of
// N chunks on SQLite, with sqlite-vec (scored in C inside SQLite) and without (every vector read and scored
// in JS, src/store/vector-math.ts) on the same file, and on PostgreSQL (the exact JS path; no pgvector). Chunks are ingested through the store's own ingestion path with random
// unit vectors (the search cost does not depend on the values). Not part of `npm run bench`:
//   npx tsc -p tsconfig.json && node dist/bench/vector-exact.js [sizes=10000,100000] [dims=384] [queries=15]
// PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a schema of its own,
// dropped at the end; skipped with the reason when it does not answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { PostgresStore } from '../src/store/postgres/index.js';
import type { Store } from '../src/store/types.js';
import type { ChunkInput } from '../src/store/vector-stores.js';

const sizes = (process.argv[2] ?? '10000,100000').split(',').map(Number);
const dims = Number(process.argv[3] ?? 384);
const queries = Number(process.argv[4] ?? 15);
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Chunks per file: ingestion commits one file at a time. */
const PER_FILE = 5000;

function unitVector(): Float32Array {
  const v = new Float32Array(dims);
  let n = 0;
  for (let i = 0; i < dims; i++) {
    v[i] = Math.random() - 0.5;
    n += v[i] * v[i];
  }
  n = Math.sqrt(n);
  for (let i = 0; i < dims; i++) v[i] /= n;
  return v;
}

async function fill(store: Store, size: number): Promise<string> {
  const vs = store.vectorStores!;
  const now = Math.floor(Date.now() / 1000);
  const storeId = `vs_bench${size}_${Math.random().toString(16).slice(2, 10)}`;
  const files = Math.ceil(size / PER_FILE);
  const chunking = { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 };
  const recs = [];
  for (let f = 0; f < files; f++) {
    const id = `file_bench${f}_${storeId}`;
    await store.files!.createFile({ id, tenant: 't', endUser: '', createdAt: now, filename: `f${f}.txt`, purpose: 'assistants', bytes: 1, mimeType: 'text/plain', expiresAt: null }, Buffer.from('x'));
    recs.push({ vectorStoreId: storeId, fileId: id, createdAt: now, status: 'in_progress' as const, lastError: null, attributes: null, chunking, usageBytes: 0, batchId: null });
  }
  await vs.createVectorStore({
    id: storeId, tenant: 't', endUser: '', createdAt: now, name: 'bench', description: null, metadata: null,
    expiresAfterDays: null, lastActiveAt: now, embeddingModel: `bench-${dims}`,
  } as never, recs);
  for (let f = 0; f < files; f++) {
    const job = await vs.claimIngestion('bench', 600_000);
    if (!job) throw new Error('no ingestion job to claim');
    const n = Math.min(PER_FILE, size - f * PER_FILE);
    const chunks: ChunkInput[] = Array.from({ length: n }, (_, i) => ({ text: `chunk ${i} of ${job.fileId}`, vector: unitVector() }));
    if (!(await vs.completeIngestion(job, 'bench', 'x', chunks))) throw new Error('ingestion refused');
  }
  return storeId;
}

/** Fills through the first store; every store (the same data, another search path) is then timed on it. */
async function measure(paths: Array<[string, Store]>): Promise<void> {
  for (const size of sizes) {
    const t0 = performance.now();
    const id = await fill(paths[0][1], size);
    const fillMs = performance.now() - t0;
    for (const [name, store] of paths) {
    const times: number[] = [];
    const cpu: number[] = [];
    for (let q = 0; q < queries + 2; q++) {
      const c0 = process.cpuUsage();
      const s = performance.now();
      const hits = await store.vectorStores!.searchVector({ vectorStoreIds: [id], vector: unitVector(), limit: 50 });
      const ms = performance.now() - s;
      const c = process.cpuUsage(c0);
      if (hits.length !== Math.min(50, size)) throw new Error(`expected ${Math.min(50, size)} hits, got ${hits.length}`);
      if (q >= 2) { times.push(ms); cpu.push((c.user + c.system) / 1000); } // the first two warm caches and the JIT
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const pct = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
    console.log(`${name.padEnd(22)} ${String(size).padStart(7)} chunks × ${dims} dims: search p50 ${pct(times, 0.5).toFixed(1)} ms, p90 ${pct(times, 0.9).toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms; respd-side CPU p50 ${pct(cpu, 0.5).toFixed(1)} ms (filled in ${(fillMs / 1000).toFixed(1)} s)`);
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'respd-vec-'));
const sqlite = new SqliteStore(join(dir, 'respd.db'));
// The same file through a second connection without sqlite-vec: the exact JS path, on the same chunks.
const sqliteJs = new SqliteStore(join(dir, 'respd.db'), { vectorExtension: false });
try {
  await sqlite.init();
  await sqliteJs.init();
  await measure([[`SQLite ${sqlite.vectorStores.searchPath.engine}`, sqlite], ['SQLite js', sqliteJs]]);
} finally {
  await sqliteJs.close();
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}

const schema = `respd_bench_vec_${Math.random().toString(16).slice(2, 10)}`;
const probe = new pg.Client({ connectionString: PG_URL });
let pgUp = true;
try {
  await probe.connect();
} catch (err) {
  pgUp = false;
  console.log(`PostgreSQL skipped: ${PG_URL} does not answer (${(err as Error).message})`);
}
if (pgUp) {
  const store = new PostgresStore(PG_URL, { schema });
  try {
    await store.init();
    await measure([[`PostgreSQL ${store.vectorStores.searchPath.engine}`, store]]);
  } finally {
    await store.close();
    await probe.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await probe.end();
  }
}
