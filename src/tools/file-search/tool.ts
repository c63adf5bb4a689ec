// The `file_search` tool, run by the server. Declared as OpenAI's `{type: "file_search",
// vector_store_ids, max_num_results?, filters?, ranking_options?}`; the model sees a function
// `file_search` taking `{queries}`; each call becomes a `file_search_call` output item:
//   { type: "file_search_call", id: "fs_…", status: "in_progress" | "searching" | "completed" | "failed",
//     queries, results: null | [{file_id, filename, score, attributes, text}] }
// with events output_item.added, response.file_search_call.in_progress / .searching / .completed,
// output_item.done. `results` are stored, and shown only to readers that include
// `file_search_call.results` (wire/include.ts). The model reads the results as numbered passages.
import type { FunctionToolDef } from '../../providers/types.js';
import { newId } from '../../wire/ids.js';
import type { EventSink } from '../../wire/events.js';
import type { Item } from '../../wire/types.js';
import { closeItem, itemEvent, openItem } from '../emit.js';
import type { FileSearchBackend, FileSearchResult } from './backend.js';

export const FILE_SEARCH_FUNCTION = 'file_search';

export const fileSearchFunctionDef: FunctionToolDef = {
  name: FILE_SEARCH_FUNCTION,
  description: 'Search the files the user provided for passages relevant to the request. ' +
    'Give one or more short keyword queries; the result lists the best passages with their file names.',
  parameters: {
    type: 'object',
    properties: { queries: { type: 'array', items: { type: 'string' }, description: 'Search queries (1 to 5).' } },
    required: ['queries'],
    additionalProperties: false,
  },
  strict: true,
};

/** Files a message may cite after a search. */
export interface Citable {
  file_id: string;
  filename: string;
}

/** What the model reads back: the passages, numbered, with their file. */
export function fileSearchResultText(results: FileSearchResult[] | null | undefined): string {
  if (!results?.length) return 'No results found.';
  return results.map((r, i) => `[${i + 1}] ${r.filename} (file ${r.file_id}, score ${r.score.toFixed(3)})\n${r.text}`).join('\n\n');
}

export async function runFileSearch(log: EventSink, backend: FileSearchBackend, tool: Item, args: Record<string, unknown>): Promise<{ item: Item; citable: Citable[] }> {
  const raw = Array.isArray(args.queries) ? args.queries : typeof args.query === 'string' ? [args.query] : [];
  const queries = raw.filter((q): q is string => typeof q === 'string' && q.trim() !== '').slice(0, 5);
  const item: Item = { id: newId('fs'), type: 'file_search_call', status: 'in_progress', queries, results: null };
  const index = openItem(log, item);
  itemEvent(log, 'response.file_search_call.in_progress', index, item.id!);
  itemEvent(log, 'response.file_search_call.searching', index, item.id!);
  let done: Item;
  try {
    const results = queries.length ? await backend.search(tool, queries) : [];
    done = { ...item, status: 'completed', results };
    itemEvent(log, 'response.file_search_call.completed', index, item.id!);
  } catch {
    done = { ...item, status: 'failed', results: null };
    itemEvent(log, 'response.file_search_call.failed', index, item.id!);
  }
  closeItem(log, index, done);
  const seen = new Map<string, Citable>();
  for (const r of (done.results ?? []) as FileSearchResult[]) if (!seen.has(r.file_id)) seen.set(r.file_id, { file_id: r.file_id, filename: r.filename });
  return { item: done, citable: [...seen.values()] };
}

/**
 * The file_citation annotations of a message written after a search. A model rarely cites in a fixed
 * syntax, so: a file whose name the text mentions is cited right after the mention; if the text
 * mentions none, every file the search returned is cited at the end of the text (OpenAI's placement
 * for citations that refer to the whole answer).
 */
export function citationsFor(text: string, citable: Citable[]): Array<{ type: 'file_citation'; file_id: string; filename: string; index: number }> {
  const mentioned = citable
    .map((c) => ({ c, at: c.filename ? text.indexOf(c.filename) : -1 }))
    .filter((m) => m.at >= 0)
    .sort((a, b) => a.at - b.at);
  if (mentioned.length) return mentioned.map(({ c, at }) => ({ type: 'file_citation', file_id: c.file_id, filename: c.filename, index: at + c.filename.length }));
  return citable.map((c) => ({ type: 'file_citation', file_id: c.file_id, filename: c.filename, index: text.length }));
}
