// Retrieval quality and cost of POST /vector_stores/{id}/search (lexical) on the Cranfield collection
// (../shared/datasets/cranfield; its README explains the conventions): the 1,400 documents (title and
// abstract) uploaded as files and attached as one batch, then the 225 queries, each asking for 50
// results. Quality is measured once (search is deterministic); cost per query (wall ms, respd CPU µs)
// over CONFIG.rounds passes. Run on the embedded store (SQLite) and, where it answers, PostgreSQL.
import { join } from 'node:path';
import pg from 'pg';
import { cpuSecondsOf, ROOT, startRespd, type Proc } from '../lib/procs.js';
import { loadCranfield, meanMeasures, measure, type Measures } from '../lib/cranfield.js';
import { round, summarize } from '../lib/stats.js';
import { CONFIG, log, RESPD_HEADERS, type Stack } from '../lib/context.js';
import { dropSchema, randomName } from '../../test/support/backends.js';

const PG_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const AUTH = { authorization: RESPD_HEADERS.authorization };
const MAX_RESULTS = 50;

async function api(base: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: RESPD_HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  const out = await res.json();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
  return out;
}

/** Uploads the documents, attaches them as one batch, waits for ingestion; returns the store and doc ids by file id. */
async function index(respd: Proc & { base: string }, docs: Array<{ id: number; title: string; text: string }>) {
  const docOf = new Map<string, number>();
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < docs.length) {
      const d = docs[next++]!;
      const form = new FormData();
      form.set('purpose', 'assistants');
      form.set('file', new Blob([`${d.title}\n\n${d.text}`]), `cran-${d.id}.txt`);
      const res = await fetch(`${respd.base}/files`, { method: 'POST', headers: AUTH, body: form });
      const f = await res.json() as { id: string };
      if (!res.ok) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(f)}`);
      docOf.set(f.id, d.id);
    }
  }));
  const uploadSeconds = (Date.now() - t0) / 1000;
  const vs = await api(respd.base, '/vector_stores', { name: 'cranfield' });
  const cpu0 = cpuSecondsOf(respd.pid);
  const t1 = Date.now();
  await api(respd.base, `/vector_stores/${vs.id}/file_batches`, { file_ids: [...docOf.keys()] });
  let st = await api(respd.base, `/vector_stores/${vs.id}`);
  while (st.file_counts.in_progress > 0) {
    await new Promise((r) => setTimeout(r, 200));
    st = await api(respd.base, `/vector_stores/${vs.id}`);
  }
  const ingestSeconds = (Date.now() - t1) / 1000;
  return {
    vsId: vs.id as string, docOf, uploadSeconds, ingestSeconds, ingestCpuSeconds: cpuSecondsOf(respd.pid) - cpu0,
    fileCounts: st.file_counts, usageBytes: st.usage_bytes as number, searchMode: st.search_mode as string,
  };
}

async function measureStore(label: string, respd: Proc & { base: string }, data: NonNullable<ReturnType<typeof loadCranfield>>) {
  log(`retrieval ${label}: indexing ${data.docs.length} documents`);
  const idx = await index(respd, data.docs);
  log(`retrieval ${label}: ingested in ${idx.ingestSeconds.toFixed(1)} s (${JSON.stringify(idx.fileCounts)})`);
  const perA: Measures[] = [];
  const perB: Measures[] = [];
  const msPerQuery: number[] = [];
  const cpuUsPerQuery: number[] = [];
  for (let r = 0; r < CONFIG.rounds; r++) {
    const lat: number[] = [];
    const cpu0 = cpuSecondsOf(respd.pid);
    for (const q of data.queries) {
      const t = performance.now();
      const page = await api(respd.base, `/vector_stores/${idx.vsId}/search`, { query: q.text, max_num_results: MAX_RESULTS });
      lat.push(performance.now() - t);
      if (r > 0) continue;
      const ranked = (page.data as Array<{ file_id: string }>).map((h) => idx.docOf.get(h.file_id)!);
      const judged = data.qrels.get(q.id) ?? new Map();
      perA.push(measure(ranked, judged, 'A'));
      perB.push(measure(ranked, judged, 'B'));
    }
    cpuUsPerQuery.push(((cpuSecondsOf(respd.pid) - cpu0) / data.queries.length) * 1e6);
    msPerQuery.push(summarize(lat).median);
    log(`retrieval ${label} round ${r + 1}: median ${summarize(lat).median.toFixed(2)} ms/query, ${cpuUsPerQuery.at(-1)!.toFixed(0)} µs CPU/query`);
  }
  const a = meanMeasures(perA);
  const b = meanMeasures(perB);
  const r3 = (m: Measures) => ({ ndcg10: round(m.ndcg10, 4), recall10: round(m.recall10, 4), mrr: round(m.mrr, 4) });
  log(`retrieval ${label}: A nDCG@10 ${a.ndcg10.toFixed(4)} recall@10 ${a.recall10.toFixed(4)} MRR ${a.mrr.toFixed(4)}; B nDCG@10 ${b.ndcg10.toFixed(4)}`);
  return {
    searchMode: idx.searchMode, fileCounts: idx.fileCounts, usageBytes: idx.usageBytes,
    uploadSeconds: round(idx.uploadSeconds, 2), ingestSeconds: round(idx.ingestSeconds, 2), ingestCpuSeconds: round(idx.ingestCpuSeconds, 2),
    conventionA: r3(a), conventionB: r3(b), msPerQuery: summarize(msPerQuery), cpuUsPerQuery: summarize(cpuUsPerQuery),
  };
}

async function postgresAnswers(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL (${PG_URL}): ${(err as Error).message}`;
  } finally {
    await c.end().catch(() => {});
  }
}

export async function retrievalSection(s: Stack, _load: unknown, results: any) {
  const dir = join(ROOT, '..', 'shared', 'datasets', 'cranfield');
  const data = loadCranfield(dir);
  if (!data) {
    results.figures.retrieval = { skipped: true, reason: `no Cranfield collection at ${dir}` };
    return;
  }
  const out: Record<string, unknown> = {
    collection: { docs: data.docs.length, queries: data.queries.length, judgedPairs: [...data.qrels.values()].reduce((n, m) => n + m.size, 0) },
    maxNumResults: MAX_RESULTS, publishedBm25: { source: 'Lucene BM25, convention A (cranfield/README.md)', ndcg10: 0.5198, recall10: 0.449, mrr: 0.8158 },
  };
  // A respd of its own, so the other sections' stores do not weigh on the collection statistics.
  const sqlite = await startRespd(s.upstream.url);
  try {
    out.sqlite = await measureStore('sqlite', sqlite, data);
  } finally {
    await sqlite.stop();
  }
  const pgDown = await postgresAnswers();
  if (pgDown) out.postgres = { skipped: true, reason: pgDown };
  else {
    const schema = randomName('respd_bench_retrieval');
    const onPg = await startRespd(s.upstream.url, { env: { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema } });
    try {
      out.postgres = await measureStore('postgres', onPg, data);
    } finally {
      await onPg.stop();
      await dropSchema(PG_URL, schema).catch(() => {});
    }
  }
  results.figures.retrieval = out;
}
