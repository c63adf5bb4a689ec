// Wire shapes of vector stores, their files and batches (OpenAI's, plus `embedding_model` and
// `search_mode`, which say whether the store is searched lexically only or hybrid).
import type { BatchRecord, FileCounts, StoreFileRecord, StoreStats, VectorStoreRecord } from '../store/vector-stores.js';

const DAY = 86_400;

export function expiresAt(rec: VectorStoreRecord): number | null {
  return rec.expiresAfterDays === null ? null : rec.lastActiveAt + rec.expiresAfterDays * DAY;
}

export function presentVectorStore(rec: VectorStoreRecord, stats: StoreStats, now = Math.floor(Date.now() / 1000)) {
  const exp = expiresAt(rec);
  const status = exp !== null && exp <= now ? 'expired' : stats.counts.in_progress > 0 ? 'in_progress' : 'completed';
  return {
    id: rec.id,
    object: 'vector_store' as const,
    created_at: rec.createdAt,
    name: rec.name,
    description: rec.description,
    usage_bytes: stats.usageBytes,
    file_counts: stats.counts,
    status,
    ...(rec.expiresAfterDays !== null ? { expires_after: { anchor: 'last_active_at' as const, days: rec.expiresAfterDays } } : {}),
    expires_at: exp,
    last_active_at: rec.lastActiveAt,
    metadata: rec.metadata ?? {},
    embedding_model: rec.embeddingModel,
    search_mode: rec.embeddingModel ? 'hybrid' as const : 'lexical' as const,
  };
}

export function presentStoreFile(f: StoreFileRecord) {
  return {
    id: f.fileId,
    object: 'vector_store.file' as const,
    created_at: f.createdAt,
    vector_store_id: f.vectorStoreId,
    status: f.status,
    last_error: f.lastError,
    usage_bytes: f.usageBytes,
    attributes: f.attributes ?? {},
    chunking_strategy: { type: 'static' as const, static: f.chunking },
  };
}

export function presentBatch(b: BatchRecord, counts: FileCounts) {
  const status = b.cancelled ? 'cancelled' : counts.in_progress > 0 ? 'in_progress' : counts.total > 0 && counts.failed === counts.total ? 'failed' : 'completed';
  return { id: b.id, object: 'vector_store.files_batch' as const, created_at: b.createdAt, vector_store_id: b.vectorStoreId, status, file_counts: counts };
}
