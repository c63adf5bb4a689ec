// The file_search tool's backend (tools/file-search/backend.ts) over vector stores: ownership and
// filters checked when the response is created, the search itself when the model calls the tool.
import { errors } from '../wire/errors.js';
import type { Item } from '../wire/types.js';
import type { FileSearchBackend, FileSearchResult } from '../tools/file-search/backend.js';
import type { Owner } from '../store/types.js';
import type { VectorStoreRecord } from '../store/vector-stores.js';
import { checkFilter } from './filters.js';
import type { VectorStoresService } from './service.js';

export class VectorStoreFileSearch implements FileSearchBackend {
  constructor(private readonly service: VectorStoresService) {}

  async check(owner: Owner, tool: Item, param: string): Promise<void> {
    const ids = tool.vector_store_ids as string[];
    for (let i = 0; i < ids.length; i++) await this.service.load(owner, ids[i]!, `${param}.vector_store_ids[${i}]`);
    if (tool.filters !== null && tool.filters !== undefined) checkFilter(tool.filters, `${param}.filters`);
  }

  async search(tool: Item, queries: string[]): Promise<FileSearchResult[]> {
    const recs: VectorStoreRecord[] = [];
    for (const id of tool.vector_store_ids as string[]) {
      const rec = await this.service.store.getVectorStore(id);
      if (!rec) throw errors.notFound('Vector store', id);
      recs.push(rec);
    }
    const { results } = await this.service.searchLoaded(recs, {
      query: queries, filters: tool.filters ?? undefined, max_num_results: tool.max_num_results ?? 10,
      ranking_options: tool.ranking_options ?? undefined,
    });
    return results.map((r) => ({ file_id: r.file_id, filename: r.filename, score: r.score, attributes: r.attributes, text: r.content.map((c) => c.text).join('\n') }));
  }
}
