// WEB_SEARCH_*: the search engine the web_search tool uses (README "Tools"), and how the pages the model
// opens are fetched. Unset WEB_SEARCH_BACKEND = the tool is not offered.
import { bool, ConfigError, int, matching, oneOf } from './env.js';

/** Where web_search searches, and how pages the model opens are fetched. */
export interface WebSearchConfig {
  /** searxng: a SearxNG instance's JSON API (self-hosted, no key); brave: Brave Search's web search API. */
  backend: 'searxng' | 'brave';
  /** SearxNG: the instance's base URL; brave: the API endpoint (default Brave's own). */
  url: string;
  /** WEB_SEARCH_API_KEY (Brave's subscription token); never logged. */
  apiKey?: string;
  /** WEB_FETCH_ALLOW_PRIVATE: pages on loopback/private addresses may be opened (default no). */
  allowPrivate: boolean;
  /** Per search or page fetch (ms). */
  timeoutMs: number;
}

export function loadWebSearch(env: NodeJS.ProcessEnv): WebSearchConfig | undefined {
  const webBackend = oneOf(env, 'WEB_SEARCH_BACKEND', ['', 'searxng', 'brave'], '');
  const webUrl = matching(env, 'WEB_SEARCH_URL', /^https?:\/\/\S+$/, 'an http(s) URL');
  if (webBackend === 'searxng' && !webUrl) throw new ConfigError('WEB_SEARCH_BACKEND=searxng needs WEB_SEARCH_URL (the SearxNG instance, e.g. http://127.0.0.1:8888)');
  if (webBackend === 'brave' && !env.WEB_SEARCH_API_KEY) throw new ConfigError('WEB_SEARCH_BACKEND=brave needs WEB_SEARCH_API_KEY (a Brave Search API subscription token)');
  if (!webBackend && webUrl) throw new ConfigError('WEB_SEARCH_URL is set without WEB_SEARCH_BACKEND (searxng or brave)');
  if (!webBackend) return undefined;
  return {
    backend: webBackend as 'searxng' | 'brave',
    url: (webUrl ?? 'https://api.search.brave.com/res/v1/web/search').replace(/\/+$/, ''),
    apiKey: env.WEB_SEARCH_API_KEY || undefined,
    allowPrivate: bool(env, 'WEB_FETCH_ALLOW_PRIVATE'),
    timeoutMs: int(env, 'WEB_SEARCH_TIMEOUT_MS', 10_000, 1),
  };
}
