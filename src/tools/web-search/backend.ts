// What the web_search tool needs from the web: a search engine and a page fetcher, behind one interface
// (tools/ never knows which engine answers). Two engines speak their real protocols over HTTP: SearxNG's
// JSON API (self-hosted, no key) and Brave Search's web search API (a subscription token).
import type { WebSearchConfig } from '../../config/web-search.js';
import { fetchPage, WebSearchError, type Page } from './page.js';

export { WebSearchError };

export interface WebResult {
  url: string;
  title: string;
  snippet: string;
}

export interface SearchOptions {
  count: number;
  /** ISO 3166 two-letter country of the user (user_location.country). */
  country?: string;
}

export interface WebSearchBackend {
  search(query: string, opts: SearchOptions): Promise<WebResult[]>;
  /** A page's title and text (html as text); refuses private addresses unless configured. */
  open(url: string): Promise<Page>;
}

async function getJson(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<any> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new WebSearchError(`the search engine answered HTTP ${res.status}`);
  return res.json();
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

function searxng(cfg: WebSearchConfig): WebSearchBackend['search'] {
  return async (query, opts) => {
    const u = new URL(`${cfg.url}/search`);
    u.searchParams.set('q', query);
    u.searchParams.set('format', 'json');
    if (opts.country) u.searchParams.set('language', `all-${opts.country.toUpperCase()}`);
    const body = await getJson(u, {}, cfg.timeoutMs);
    const results = Array.isArray(body?.results) ? body.results : [];
    return results.slice(0, opts.count).map((r: any) => ({ url: text(r.url), title: text(r.title), snippet: text(r.content) })).filter((r: WebResult) => r.url);
  };
}

function brave(cfg: WebSearchConfig): WebSearchBackend['search'] {
  return async (query, opts) => {
    const u = new URL(cfg.url);
    u.searchParams.set('q', query);
    u.searchParams.set('count', String(Math.min(20, opts.count)));
    if (opts.country) u.searchParams.set('country', opts.country.toLowerCase());
    const body = await getJson(u, { 'x-subscription-token': cfg.apiKey ?? '' }, cfg.timeoutMs);
    const results = Array.isArray(body?.web?.results) ? body.web.results : [];
    return results.slice(0, opts.count).map((r: any) => ({ url: text(r.url), title: text(r.title), snippet: text(r.description) })).filter((r: WebResult) => r.url);
  };
}

export function webSearchBackend(cfg: WebSearchConfig): WebSearchBackend {
  return {
    search: cfg.backend === 'brave' ? brave(cfg) : searxng(cfg),
    open: (url) => fetchPage(url, { allowPrivate: cfg.allowPrivate, timeoutMs: cfg.timeoutMs }),
  };
}
