// The Vector Stores resource: stores, the files in them, file batches and search. Owned like responses
// (key × end user); a file can join a store only if the same owner can read it. Attaching queues the
// file for the Ingestor and answers at once with `in_progress`.
import { ApiError, errors } from '../wire/errors.js';
import { newId } from '../wire/ids.js';
import type { FilesService } from '../files/service.js';
import type { Owner, Store } from '../store/types.js';
import type { Attributes, BatchRecord, StaticChunking, StoreFileListQuery, StoreFileRecord, VectorStoreRecord, VectorStoreStore } from '../store/vector-stores.js';
import { toListPage } from '../store/paging.js';
import { resolveChunking } from './chunking.js';
import { kindOf, SUPPORTED } from './extract.js';
import { checkAttributes, checkFilter } from './filters.js';
import { expiresAt, presentBatch, presentStoreFile, presentVectorStore } from './present.js';
import type { Embedder } from './embedder.js';
import { searchStores, type SearchResult } from './search.js';

export const VECTOR_STORE_ID = /^vs[-_][a-zA-Z0-9]{1,64}$/;
export const BATCH_ID = /^vsfb[-_][a-zA-Z0-9]{1,64}$/;
const now = () => Math.floor(Date.now() / 1000);
const owns = (r: VectorStoreRecord, o: Owner) => r.tenant === o.tenant && r.endUser === o.endUser;

export function vectorStoreStoreOf(store: Store): VectorStoreStore {
  if (!store.vectorStores) throw new ApiError('not_implemented', `Vector stores are not available with the '${store.kind}' store.`);
  return store.vectorStores;
}

function expiresAfterDays(v: unknown, param: string): number | null {
  if (v === undefined || v === null) return null;
  const e = v as { anchor?: unknown; days?: unknown };
  if (e.anchor !== 'last_active_at') throw errors.invalid(`'${param}.anchor' must be 'last_active_at'.`, `${param}.anchor`);
  if (!Number.isInteger(e.days) || (e.days as number) < 1 || (e.days as number) > 365) throw errors.invalid(`'${param}.days' must be an integer from 1 to 365.`, `${param}.days`);
  return e.days as number;
}

export interface SearchBody {
  query: string | string[];
  filters?: unknown;
  max_num_results?: number;
  ranking_options?: { ranker?: string; score_threshold?: number; hybrid_search?: { embedding_weight: number; text_weight: number } };
  rewrite_query?: boolean;
}

export class VectorStoresService {
  constructor(
    readonly store: VectorStoreStore,
    private readonly files: FilesService,
    /** Tells the ingestion workers that files were queued. */
    private readonly queued: () => void = () => {},
    /** The server's embedding model; stores created while it is set are searched hybrid. */
    private readonly embedder?: Embedder,
  ) {}

  async load(owner: Owner, id: string, param = 'vector_store_id'): Promise<VectorStoreRecord> {
    if (!VECTOR_STORE_ID.test(id)) throw errors.invalid(`Invalid vector store id '${id.slice(0, 100)}': expected 'vs_' followed by letters and digits.`, param);
    const rec = await this.store.getVectorStore(id);
    if (!rec || !owns(rec, owner)) throw errors.notFound('Vector store', id, param);
    return rec;
  }

  private async present(rec: VectorStoreRecord) {
    return presentVectorStore(rec, await this.store.stats(rec.id));
  }

  /** Checks that each file is the owner's and searchable; the rows to insert, all in_progress. */
  private async storeFiles(owner: Owner, vectorStoreId: string, specs: Array<{ fileId: string; attributes: Attributes | null; chunking: StaticChunking; param: string }>, batchId: string | null): Promise<StoreFileRecord[]> {
    const at = now();
    const seen = new Set<string>();
    const out: StoreFileRecord[] = [];
    for (const s of specs) {
      if (seen.has(s.fileId)) continue;
      seen.add(s.fileId);
      const f = await this.files.load(owner, s.fileId, s.param);
      if (!kindOf(f.filename, f.mimeType)) {
        throw errors.invalid(`File '${f.id}' (${f.filename.slice(0, 100)}) cannot be searched: supported are ${SUPPORTED}.`, s.param, 'unsupported_file');
      }
      out.push({ vectorStoreId, fileId: f.id, createdAt: at, status: 'in_progress', lastError: null, attributes: s.attributes, chunking: s.chunking, usageBytes: 0, batchId });
    }
    return out;
  }

  async create(owner: Owner, body: Record<string, any>) {
    const at = now();
    const chunking = resolveChunking(body.chunking_strategy, 'chunking_strategy');
    const rec: VectorStoreRecord = {
      id: newId('vs'), tenant: owner.tenant, endUser: owner.endUser, createdAt: at, name: body.name ?? '', description: body.description ?? null,
      metadata: body.metadata ?? null, expiresAfterDays: expiresAfterDays(body.expires_after, 'expires_after'), lastActiveAt: at, embeddingModel: this.embedder?.model ?? null,
    };
    const ids: string[] = body.file_ids ?? [];
    const files = await this.storeFiles(owner, rec.id, ids.map((fileId, i) => ({ fileId, attributes: null, chunking, param: `file_ids[${i}]` })), null);
    await this.store.createVectorStore(rec, files);
    if (files.length) this.queued();
    return this.present(rec);
  }

  async list(owner: Owner, q: { after?: string; before?: string; limit: number; order: 'asc' | 'desc' }) {
    const recs = await this.store.listVectorStores(owner, { ...q, limit: q.limit + 1 });
    const page = toListPage(recs, q.limit, (r) => r);
    return { ...page, data: await Promise.all(page.data.map((r) => this.present(r))) };
  }

  async get(owner: Owner, id: string) {
    return this.present(await this.load(owner, id));
  }

  async update(owner: Owner, id: string, body: Record<string, any>) {
    const rec = await this.load(owner, id);
    if (body.name !== undefined) rec.name = body.name ?? '';
    if (body.metadata !== undefined) rec.metadata = body.metadata;
    if (body.expires_after !== undefined) rec.expiresAfterDays = expiresAfterDays(body.expires_after, 'expires_after');
    if (!(await this.store.updateVectorStore(rec))) throw errors.notFound('Vector store', id, 'vector_store_id');
    return this.present(rec);
  }

  async delete(owner: Owner, id: string) {
    await this.load(owner, id);
    await this.store.deleteVectorStore(id);
    return { id, object: 'vector_store.deleted' as const, deleted: true };
  }

  async addFile(owner: Owner, vsId: string, body: { file_id: string; attributes?: unknown; chunking_strategy?: unknown }) {
    await this.load(owner, vsId);
    const [f] = await this.storeFiles(owner, vsId, [{
      fileId: body.file_id, attributes: checkAttributes(body.attributes, 'attributes'), chunking: resolveChunking(body.chunking_strategy, 'chunking_strategy'), param: 'file_id',
    }], null);
    await this.store.addFiles([f!]);
    this.queued();
    return presentStoreFile(f!);
  }

  async listFiles(owner: Owner, vsId: string, q: StoreFileListQuery) {
    await this.load(owner, vsId);
    const rows = await this.store.listStoreFiles(vsId, { ...q, limit: q.limit + 1 });
    return toListPage(rows.map((r) => ({ ...r, id: r.fileId })), q.limit, presentStoreFile);
  }

  private async loadFile(owner: Owner, vsId: string, fileId: string): Promise<StoreFileRecord> {
    await this.load(owner, vsId);
    const f = await this.store.getStoreFile(vsId, fileId);
    if (!f) throw errors.notFound('Vector store file', fileId, 'file_id');
    return f;
  }

  async getFile(owner: Owner, vsId: string, fileId: string) {
    return presentStoreFile(await this.loadFile(owner, vsId, fileId));
  }

  async updateFile(owner: Owner, vsId: string, fileId: string, attributes: unknown) {
    const f = await this.loadFile(owner, vsId, fileId);
    f.attributes = checkAttributes(attributes, 'attributes');
    if (!(await this.store.updateStoreFileAttributes(vsId, fileId, f.attributes))) throw errors.notFound('Vector store file', fileId, 'file_id');
    return presentStoreFile(f);
  }

  async deleteFile(owner: Owner, vsId: string, fileId: string) {
    await this.loadFile(owner, vsId, fileId);
    await this.store.deleteStoreFile(vsId, fileId);
    return { id: fileId, object: 'vector_store.file.deleted' as const, deleted: true };
  }

  async fileContent(owner: Owner, vsId: string, fileId: string) {
    const f = await this.loadFile(owner, vsId, fileId);
    const text = f.status === 'completed' ? await this.store.storeFileText(vsId, fileId) : undefined;
    const data = text === undefined ? [] : [{ type: 'text', text }];
    return { object: 'vector_store.file_content.page', data, has_more: false, next_page: null };
  }

  async createBatch(owner: Owner, vsId: string, body: Record<string, any>) {
    await this.load(owner, vsId);
    if (body.file_ids && body.files) throw errors.invalid(`Send either 'file_ids' or 'files', not both.`, 'files');
    if (!body.file_ids && !body.files) throw errors.missing('file_ids');
    const attributes = checkAttributes(body.attributes, 'attributes');
    const chunking = resolveChunking(body.chunking_strategy, 'chunking_strategy');
    const specs = body.file_ids
      ? (body.file_ids as string[]).map((fileId, i) => ({ fileId, attributes, chunking, param: `file_ids[${i}]` }))
      : (body.files as Array<Record<string, any>>).map((f, i) => ({
        fileId: f.file_id, param: `files[${i}].file_id`,
        attributes: f.attributes !== undefined ? checkAttributes(f.attributes, `files[${i}].attributes`) : attributes,
        chunking: f.chunking_strategy !== undefined ? resolveChunking(f.chunking_strategy, `files[${i}].chunking_strategy`) : chunking,
      }));
    const batch: BatchRecord = { id: newId('vsfb'), vectorStoreId: vsId, createdAt: now(), cancelled: false };
    const files = await this.storeFiles(owner, vsId, specs, batch.id);
    await this.store.addFiles(files, batch);
    this.queued();
    return presentBatch(batch, (await this.store.stats(vsId, batch.id)).counts);
  }

  private async loadBatch(owner: Owner, vsId: string, batchId: string): Promise<BatchRecord> {
    await this.load(owner, vsId);
    const b = BATCH_ID.test(batchId) ? await this.store.getBatch(vsId, batchId) : undefined;
    if (!b) throw errors.notFound('File batch', batchId, 'batch_id');
    return b;
  }

  async getBatch(owner: Owner, vsId: string, batchId: string) {
    const b = await this.loadBatch(owner, vsId, batchId);
    return presentBatch(b, (await this.store.stats(vsId, b.id)).counts);
  }

  async cancelBatch(owner: Owner, vsId: string, batchId: string) {
    const b = await this.loadBatch(owner, vsId, batchId);
    await this.store.cancelBatch(vsId, b.id);
    return presentBatch({ ...b, cancelled: true }, (await this.store.stats(vsId, b.id)).counts);
  }

  async listBatchFiles(owner: Owner, vsId: string, batchId: string, q: StoreFileListQuery) {
    await this.loadBatch(owner, vsId, batchId);
    return this.listFiles(owner, vsId, { ...q, batchId });
  }

  /** Search of stores already loaded for the owner: POST …/search and the file_search tool. */
  async searchLoaded(recs: VectorStoreRecord[], body: SearchBody, param = ''): Promise<{ searchQuery: string[]; results: SearchResult[] }> {
    const at = now();
    for (const rec of recs) {
      const exp = expiresAt(rec);
      if (exp !== null && exp <= at) throw errors.invalid(`Vector store '${rec.id}' has expired.`, null, 'vector_store_expired');
    }
    const queries = typeof body.query === 'string' ? [body.query] : body.query;
    const filter = body.filters === undefined || body.filters === null ? undefined : checkFilter(body.filters, `${param}filters`);
    const found = await searchStores(this.store, recs.map((r) => r.id), {
      queries, filter, maxResults: body.max_num_results ?? 10, scoreThreshold: body.ranking_options?.score_threshold ?? 0, rewrite: body.rewrite_query === true,
      hybrid: await this.hybrid(recs, queries, body, param),
    });
    // Activity keeps a store from expiring; recorded at most once a minute per store.
    for (const rec of recs) if (at - rec.lastActiveAt >= 60) await this.store.updateVectorStore({ ...rec, lastActiveAt: at });
    return found;
  }

  /**
   * Hybrid when every store was embedded, by the model configured now: vectors of two models are not
   * comparable, so a store embedded by another model is refused rather than ranked by noise.
   */
  private async hybrid(recs: VectorStoreRecord[], queries: string[], body: SearchBody, param: string) {
    const models = new Set(recs.map((r) => r.embeddingModel));
    if (models.size === 1 && models.has(null)) {
      if (body.ranking_options?.hybrid_search) {
        throw errors.invalid('ranking_options.hybrid_search needs a vector store with embeddings (this one is searched lexically: set EMBEDDING_MODEL before creating it).', `${param}ranking_options.hybrid_search`);
      }
      return undefined;
    }
    for (const r of recs) {
      if (r.embeddingModel !== (this.embedder?.model ?? null)) {
        throw errors.invalid(`Vector store '${r.id}' was embedded with ${r.embeddingModel ? `'${r.embeddingModel}'` : 'no model'}, but the server's embedding model is ${this.embedder ? `'${this.embedder.model}'` : 'not set'}; its vectors cannot be searched with another model's.`, null, 'embedding_model_mismatch');
      }
    }
    const [vector] = await this.embedder!.embed([queries.join('\n')]);
    const w = body.ranking_options?.hybrid_search;
    return { vector, embeddingWeight: w?.embedding_weight ?? 1, textWeight: w?.text_weight ?? 1 };
  }

  async search(owner: Owner, vsId: string, body: SearchBody) {
    const rec = await this.load(owner, vsId);
    const { searchQuery, results } = await this.searchLoaded([rec], body);
    return { object: 'vector_store.search_results.page', search_query: searchQuery, data: results, has_more: false, next_page: null };
  }
}
