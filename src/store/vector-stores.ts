// Persistence of vector stores: the stores, the files attached to them (each with its ingestion
// status, attributes and parsed text), file batches, and the chunks that search reads. sqlite/ and
// postgres/ implement it; the main Store exposes one as `store.vectorStores`.
//
// Ingestion is a job queue kept in these tables: a file attached is `in_progress` until a worker (any
// instance) claims it under a lease, parses and chunks it, and completes or fails it. Claims are
// leased, and every completion checks the claim, so a worker that died is replaced once its lease
// runs out, and a stale worker can never overwrite its successor's result (graphile-worker style).
import type { Owner } from './types.js';

export type Attributes = Record<string, string | number | boolean>;
export type StoreFileStatus = 'in_progress' | 'completed' | 'failed' | 'cancelled';

export interface StaticChunking {
  max_chunk_size_tokens: number;
  chunk_overlap_tokens: number;
}

export interface VectorStoreRecord {
  id: string;
  tenant: string;
  endUser: string;
  createdAt: number;
  name: string;
  description: string | null;
  metadata: Record<string, string> | null;
  /** Days after last activity; null = never expires. */
  expiresAfterDays: number | null;
  lastActiveAt: number;
  /** The model that embedded the store's chunks; null = lexical search only. */
  embeddingModel: string | null;
}

export interface StoreFileRecord {
  vectorStoreId: string;
  fileId: string;
  createdAt: number;
  status: StoreFileStatus;
  lastError: { code: string; message: string } | null;
  attributes: Attributes | null;
  chunking: StaticChunking;
  usageBytes: number;
  batchId: string | null;
}

export interface BatchRecord {
  id: string;
  vectorStoreId: string;
  createdAt: number;
  cancelled: boolean;
}

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface StoreStats {
  counts: FileCounts;
  usageBytes: number;
}

export interface VectorStoreListQuery {
  after?: string;
  before?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export interface StoreFileListQuery extends VectorStoreListQuery {
  status?: StoreFileStatus;
  batchId?: string;
}

/** A claimed ingestion: what the worker needs to parse and chunk one file of one store. */
export interface IngestionJob {
  vectorStoreId: string;
  fileId: string;
  chunking: StaticChunking;
  /** How many times it was claimed (a file that keeps killing its worker is failed). */
  attempts: number;
  embeddingModel: string | null;
}

export interface ChunkInput {
  text: string;
  /** Embedding (unit length), when the store has an embedding model. */
  vector?: Float32Array;
}

export interface LexicalQuery {
  vectorStoreIds: string[];
  /** The query's words (letters and digits only): each adapter stems and weighs them its own way. */
  terms: string[];
  /** Only chunks of these files (an attribute filter's survivors); undefined = all. */
  fileIds?: string[];
  limit: number;
}

export interface VectorQuery {
  vectorStoreIds: string[];
  /** Unit-length query embedding. */
  vector: Float32Array;
  fileIds?: string[];
  limit: number;
}

/** How `searchVector` ranks vectors on this store, for the startup log line (README "Hybrid search"). */
export interface VectorSearchPath {
  engine: 'js' | 'sqlite-vec' | 'pgvector' | 'sql';
  detail: string;
}

export interface ChunkHit {
  vectorStoreId: string;
  fileId: string;
  filename: string;
  chunkIndex: number;
  text: string;
  /** Engine score, larger is better (BM25 for lexical search). */
  score: number;
  /** The file's attributes in its store. */
  attributes: Attributes | null;
}

export interface VectorStoreStore {
  /** The store and its first files, one transaction. */
  createVectorStore(rec: VectorStoreRecord, files: StoreFileRecord[]): Promise<void>;
  getVectorStore(id: string): Promise<VectorStoreRecord | undefined>;
  listVectorStores(owner: Owner, q: VectorStoreListQuery): Promise<VectorStoreRecord[]>;
  updateVectorStore(rec: VectorStoreRecord): Promise<boolean>;
  /** Deletes the store with its files' rows, chunks and batches (the Files API's files stay). */
  deleteVectorStore(id: string): Promise<boolean>;
  stats(vectorStoreId: string, batchId?: string): Promise<StoreStats>;

  /** Attaches files (re-attaching one starts its ingestion over), with their batch if any; one transaction. */
  addFiles(files: StoreFileRecord[], batch?: BatchRecord): Promise<void>;
  getStoreFile(vectorStoreId: string, fileId: string): Promise<StoreFileRecord | undefined>;
  listStoreFiles(vectorStoreId: string, q: StoreFileListQuery): Promise<StoreFileRecord[]>;
  updateStoreFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes | null): Promise<boolean>;
  deleteStoreFile(vectorStoreId: string, fileId: string): Promise<boolean>;
  /** The parsed text of a completed file. */
  storeFileText(vectorStoreId: string, fileId: string): Promise<string | undefined>;
  /** Attributes of every completed file of these stores (for attribute filters). */
  fileAttributes(vectorStoreIds: string[]): Promise<Array<{ fileId: string; attributes: Attributes | null }>>;

  getBatch(vectorStoreId: string, batchId: string): Promise<BatchRecord | undefined>;
  /** Marks the batch cancelled and its files not yet ingested `cancelled`. */
  cancelBatch(vectorStoreId: string, batchId: string): Promise<void>;

  /** Claims the oldest unclaimed (or lease-expired) in_progress file for `worker`. */
  claimIngestion(worker: string, leaseMs: number): Promise<IngestionJob | undefined>;
  /** Stores the chunks and text and marks the file completed, if `worker` still holds it. */
  completeIngestion(job: IngestionJob, worker: string, text: string, chunks: ChunkInput[]): Promise<boolean>;
  failIngestion(job: IngestionJob, worker: string, error: { code: string; message: string }): Promise<boolean>;

  /** Single-process stores: claims left by a previous process are void (called once at start). */
  releaseClaims?(): Promise<void>;

  searchLexical(q: LexicalQuery): Promise<ChunkHit[]>;
  /** Nearest chunks by cosine (exact); score = cosine similarity. */
  searchVector(q: VectorQuery): Promise<ChunkHit[]>;
  /** Which path `searchVector` takes (known after the store's init). */
  readonly searchPath: VectorSearchPath;
}
