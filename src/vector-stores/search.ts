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
  const hits: ChunkHit[] = await store.searchLexical({ vectorStoreIds, terms, fileIds, limit: req.maxResults });
  const results = hits
    .map((h) => ({
      file_id: h.fileId, filename: h.filename, score: normalizeScore(h.score), attributes: h.attributes ?? {},
      content: [{ type: 'text' as const, text: h.text }],
    }))
    .filter((r) => r.score >= req.scoreThreshold);
  return { searchQuery, results };
}
