// Search over one or more vector stores: the query's words, the attribute filter applied per file
// before ranking, lexical (BM25) ranking by the store, scores mapped into [0, 1), the threshold, and
// OpenAI's result shape. Used by POST /vector_stores/{id}/search and by the file_search tool.
import type { Attributes, ChunkHit, VectorStoreStore } from '../store/vector-stores.js';
import { matches, type Filter } from './filters.js';
import { queryTerms } from './query.js';

export interface SearchRequest {
  queries: string[];
  filter?: Filter;
  maxResults: number;
  scoreThreshold: number;
  /** Search with the query's keywords (stop words removed) and report them as `search_query`. */
  rewrite: boolean;
  /** Hybrid search: the query's embedding and the weights of the two rankings in the fusion. */
  hybrid?: { vector: Float32Array; embeddingWeight: number; textWeight: number };
}

export interface SearchResult {
  file_id: string;
  filename: string;
  score: number;
  attributes: Attributes;
  content: Array<{ type: 'text'; text: string }>;
}

/**
 * BM25 is unbounded; OpenAI's scores (and so clients' score_threshold values) lie in [0, 1]. This
 * monotonic map keeps the order and puts a typical single strong term match (BM25 ≈ 10) at 0.5.
 */
export const normalizeScore = (bm25: number) => (bm25 > 0 ? bm25 / (bm25 + 10) : 0);

export async function searchStores(store: VectorStoreStore, vectorStoreIds: string[], req: SearchRequest): Promise<{ searchQuery: string[]; results: SearchResult[] }> {
  const terms = queryTerms(req.queries);
  const searchQuery = req.rewrite ? [terms.join(' ')] : req.queries;
  // A filter is applied per file before ranking (so the top results are the top matching ones); the
  // hits carry their own attributes, so a search without one reads no other file's.
  const fileIds = req.filter
    ? (await store.fileAttributes(vectorStoreIds)).filter((f) => matches(req.filter!, f.attributes)).map((f) => f.fileId)
    : undefined;
  let hits: ChunkHit[];
  if (req.hybrid) {
    // Each ranking offers more candidates than asked for, so a chunk ranked well by one only still gets in.
    const limit = Math.max(req.maxResults * 4, 50);
    const [lexical, vector] = await Promise.all([
      store.searchLexical({ vectorStoreIds, terms, fileIds, limit }),
      store.searchVector({ vectorStoreIds, vector: req.hybrid.vector, fileIds, limit }),
    ]);
    hits = fuse([[lexical, req.hybrid.textWeight], [vector, req.hybrid.embeddingWeight]]).slice(0, req.maxResults);
  } else {
    hits = (await store.searchLexical({ vectorStoreIds, terms, fileIds, limit: req.maxResults })).map((h) => ({ ...h, score: normalizeScore(h.score) }));
  }
  const results = hits
    .map((h) => ({
      file_id: h.fileId, filename: h.filename, score: h.score, attributes: h.attributes ?? {},
      content: [{ type: 'text' as const, text: h.text }],
    }))
    .filter((r) => r.score >= req.scoreThreshold);
  return { searchQuery, results };
}

/** Reciprocal rank fusion constant (Cormack et al.): damps the lead of the very first ranks. */
export const RRF_K = 60;

/**
 * Weighted reciprocal rank fusion: a chunk scores sum(w / (k + rank)) over the rankings it is in. The
 * score is divided by its maximum (a chunk first in every ranking), so it lies in (0, 1] and
 * score_threshold means the same whatever the weights.
 */
export function fuse(rankings: Array<[ChunkHit[], number]>): ChunkHit[] {
  const total = rankings.reduce((n, [, w]) => n + w, 0) || 1;
  const best = total / (RRF_K + 1);
  const by = new Map<string, ChunkHit>();
  for (const [hits, weight] of rankings) {
    if (weight <= 0) continue; // a ranking weighted 0 contributes no candidates either
    hits.forEach((h, i) => {
      const key = `${h.vectorStoreId}\u0000${h.fileId}\u0000${h.chunkIndex}`;
      const add = weight / (RRF_K + i + 1) / best;
      const seen = by.get(key);
      if (seen) seen.score += add;
      else by.set(key, { ...h, score: add });
    });
  }
  return [...by.values()].sort((a, b) => b.score - a.score);
}
