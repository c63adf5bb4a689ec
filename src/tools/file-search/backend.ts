// What the file_search tool needs from vector stores, as an interface: tools/ never imports the
// vector-stores domain; the composition root hands an implementation in (vector-stores/file-search.ts).
import type { Item } from '../../wire/types.js';

export interface FileSearchResult {
  file_id: string;
  filename: string;
  score: number;
  attributes: Record<string, string | number | boolean>;
  text: string;
}

export interface FileSearchBackend {
  /** At create: every store is the owner's and the filters are valid; a 4xx naming `param` otherwise. */
  check(owner: { tenant: string; endUser: string }, tool: Item, param: string): Promise<void>;
  /** At run time (the stores were checked at create): the tool's stores searched for the queries. */
  search(tool: Item, queries: string[]): Promise<FileSearchResult[]>;
}
