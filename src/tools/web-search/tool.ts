// The `web_search` tool (also `web_search_preview` and the dated names), run by the server through a
// configured engine (backend.ts). The model sees one function `web_search`: `{query}` searches,
// `{url}` opens a page, `{url, pattern}` finds a pattern in a page. Each call is a `web_search_call`
// item whose `action` says which (search with `sources` — shown only with
// `include=web_search_call.action.sources` —, open_page, find_in_page), with events
// response.web_search_call.in_progress / .searching / .completed. The tool's `filters.allowed_domains`
// limits results and pages; `search_context_size` how much the model reads; `user_location.country`
// is passed to the engine; `external_web_access: false` answers from what this server already fetched.
import type { FunctionToolDef } from '../../providers/types.js';
import type { EventSink } from '../../wire/events.js';
import { newId } from '../../wire/ids.js';
import type { Item } from '../../wire/types.js';
import { closeItem, itemEvent, openItem } from '../emit.js';
import type { WebResult, WebSearchBackend } from './backend.js';
import type { Page } from './page.js';

export const WEB_SEARCH_FUNCTION = 'web_search';
export const WEB_SEARCH_TYPES = new Set(['web_search', 'web_search_2025_08_26', 'web_search_preview', 'web_search_preview_2025_03_11']);

export const webSearchFunctionDef: FunctionToolDef = {
  name: WEB_SEARCH_FUNCTION,
  description: 'Search the web. Give `query` to search; give `url` (a result\'s address) to read that page; ' +
    'give `url` and `pattern` to find a phrase in that page. Results list titles, addresses and snippets.',
  parameters: {
    type: 'object',
    properties: {
      query: { type: 'string', description: 'What to search for.' },
      url: { type: 'string', description: 'A page to open (from the results).' },
      pattern: { type: 'string', description: 'Text to find in the page at `url`.' },
    },
    additionalProperties: false,
  },
  strict: false,
};

/** A source a later message may cite (url_citation). */
export interface UrlCitable {
  url: string;
  title: string;
}

// How much the model reads, per search_context_size: results per search, characters of a page.
const CONTEXT = {
  low: { results: 3, pageChars: 4000 },
  medium: { results: 5, pageChars: 12_000 },
  high: { results: 10, pageChars: 32_000 },
} as const;

/**
 * What this process already fetched, for `external_web_access: false` (answers only from it). Bounded:
 * the oldest entries go first.
 */
const seen = new Map<string, WebResult[] | Page>();
const SEEN_MAX = 1000;
function remember(key: string, value: WebResult[] | Page): void {
  seen.delete(key);
  seen.set(key, value);
  if (seen.size > SEEN_MAX) seen.delete(seen.keys().next().value!);
}
const queryKey = (q: string) => `q:${q.trim().toLowerCase().replace(/\s+/g, ' ')}`;
const urlKey = (u: string) => `u:${u}`;

function allowedBy(domains: string[] | null, url: string): boolean {
  if (!domains?.length) return true;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return domains.some((d) => {
    const dom = d.toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    return host === dom || host.endsWith(`.${dom}`);
  });
}

export interface WebSearchRun {
  item: Item;
  /** What the model reads back. */
  resultText: string;
  citable: UrlCitable[];
}

function findInPage(page: Page, pattern: string): string {
  const lines = page.text.split('\n').filter((l) => l.toLowerCase().includes(pattern.toLowerCase()));
  if (!lines.length) return `'${pattern}' was not found in ${page.url}.`;
  return `Found '${pattern}' in ${page.title} (${page.url}):\n${lines.slice(0, 10).map((l) => `- ${l.trim()}`).join('\n')}`;
}

export async function runWebSearch(log: EventSink, backend: WebSearchBackend, tool: Item, args: Record<string, unknown>): Promise<WebSearchRun> {
  const query = typeof args.query === 'string' ? args.query.trim() : '';
  const url = typeof args.url === 'string' ? args.url.trim() : '';
  const pattern = typeof args.pattern === 'string' ? args.pattern : '';
  const ctx = CONTEXT[(tool.search_context_size as keyof typeof CONTEXT) ?? 'medium'] ?? CONTEXT.medium;
  const domains: string[] | null = tool.filters?.allowed_domains ?? null;
  const live = tool.external_web_access !== false;
  const action = url && pattern ? { type: 'find_in_page', url, pattern }
    : url ? { type: 'open_page', url }
    : { type: 'search', query };
  const item: Item = { id: newId('ws'), type: 'web_search_call', status: 'in_progress', action };
  const index = openItem(log, item);
  itemEvent(log, 'response.web_search_call.in_progress', index, item.id!);
  itemEvent(log, 'response.web_search_call.searching', index, item.id!);
  let done: Item;
  let resultText: string;
  let citable: UrlCitable[] = [];
  try {
    if (action.type === 'search') {
      if (!query) throw new Error('give a query to search for, or a url to open');
      let results = seen.get(queryKey(query)) as WebResult[] | undefined;
      if (!results && live) {
        // More than needed when filtering by domain: the filter runs on what the engine returns.
        results = await backend.search(query, { count: domains?.length ? ctx.results * 4 : ctx.results, country: tool.user_location?.country ?? undefined });
        remember(queryKey(query), results);
      }
      const kept = (results ?? []).filter((r) => allowedBy(domains, r.url)).slice(0, ctx.results);
      done = { ...item, status: 'completed', action: { ...action, sources: kept.map((r) => ({ type: 'url', url: r.url })) } };
      resultText = !results ? 'Live web access is off for this request, and nothing for this query was fetched before.'
        : kept.length ? kept.map((r, i) => `[${i + 1}] ${r.title}\n${r.url}\n${r.snippet}`).join('\n\n') : 'No results found.';
      citable = kept.map((r) => ({ url: r.url, title: r.title || r.url }));
    } else {
      if (!allowedBy(domains, url)) throw new Error(`${url} is outside the allowed domains (${domains!.join(', ')})`);
      let page = seen.get(urlKey(url)) as Page | undefined;
      if (!page && live) {
        page = await backend.open(url);
        remember(urlKey(url), page);
      }
      done = { ...item, status: 'completed' };
      if (!page) resultText = `Live web access is off for this request, and ${url} was not fetched before.`;
      else {
        resultText = action.type === 'find_in_page' ? findInPage(page, pattern) : `${page.title} (${page.url})\n\n${page.text.slice(0, ctx.pageChars)}`;
        citable = [{ url: page.url, title: page.title }];
      }
    }
  } catch (err) {
    done = { ...item, status: 'failed' };
    resultText = `The web search failed: ${(err as Error).message}`;
  }
  if (done.status === 'completed') itemEvent(log, 'response.web_search_call.completed', index, item.id!);
  closeItem(log, index, done);
  return { item: done, resultText, citable };
}

/**
 * url_citation annotations for a message written after web searches: a source whose address or title
 * the text mentions is cited over that mention; when the text mentions none, every source spans the
 * whole text (what it was written from).
 */
export function urlCitationsFor(text: string, sources: UrlCitable[]): Array<{ type: 'url_citation'; url: string; title: string; start_index: number; end_index: number }> {
  const found = sources.flatMap((s) => {
    for (const needle of [s.url, s.title]) {
      const at = needle ? text.indexOf(needle) : -1;
      if (at >= 0) return [{ s, start: at, end: at + needle.length }];
    }
    return [];
  }).sort((a, b) => a.start - b.start);
  if (found.length) return found.map(({ s, start, end }) => ({ type: 'url_citation', url: s.url, title: s.title, start_index: start, end_index: end }));
  return sources.map((s) => ({ type: 'url_citation', url: s.url, title: s.title, start_index: 0, end_index: text.length }));
}
