// A search engine for tests, on loopback, speaking two real protocols: SearxNG's JSON API
// (`GET /search?q=…&format=json` → {query, results:[{url, title, content}]}) and Brave Search's web
// search API (`GET /res/v1/web/search?q=…&count=…`, `X-Subscription-Token` → {web:{results:[{url,
// title, description}]}}). Its results point at pages it serves itself (`/pages/<name>`), and one
// on another host name (`docs.example.org`) that no test can fetch, for domain filters.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockSearch {
  url: string;
  /** Queries received, by protocol. */
  queries: Array<{ protocol: 'searxng' | 'brave'; q: string; params: URLSearchParams; token?: string }>;
  pagesServed: string[];
  close(): Promise<void>;
}

export const BRAVE_TOKEN = 'brave-test-token';

const PAGES: Record<string, { title: string; body: string }> = {
  durable: { title: 'Durable event logs', body: '<p>An append-only log makes every stream resumable.</p><p>The sequence number is gap-free.</p>' },
  replay: { title: 'Replay at speed', body: '<p>Replay pages through the log under backpressure.</p>' },
};

export async function startMockSearch(): Promise<MockSearch> {
  const queries: MockSearch['queries'] = [];
  const pagesServed: string[] = [];
  let base = '';
  const results = () => [
    { url: `${base}/pages/durable`, title: PAGES.durable.title, snippet: 'An append-only log makes every stream resumable.' },
    { url: 'https://docs.example.org/replay', title: 'Replay elsewhere', snippet: 'A page on another domain.' },
    { url: `${base}/pages/replay`, title: PAGES.replay.title, snippet: 'Replay pages through the log.' },
  ];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', base);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/search') {
      if (u.searchParams.get('format') !== 'json') return json(403, { error: 'format not allowed' }); // SearxNG's default
      const q = u.searchParams.get('q') ?? '';
      queries.push({ protocol: 'searxng', q, params: u.searchParams });
      if (q.includes('engine down')) return json(502, { error: 'upstream engines failed' });
      return json(200, { query: q, number_of_results: 3, results: results().map((r) => ({ url: r.url, title: r.title, content: r.snippet, engine: 'mock' })) });
    }
    if (u.pathname === '/res/v1/web/search') {
      const token = req.headers['x-subscription-token'] as string | undefined;
      const q = u.searchParams.get('q') ?? '';
      queries.push({ protocol: 'brave', q, params: u.searchParams, token });
      if (token !== BRAVE_TOKEN) return json(401, { type: 'ErrorResponse', error: { code: 'SUBSCRIPTION_TOKEN_INVALID', status: 401 } });
      return json(200, { type: 'search', query: { original: q }, web: { type: 'search', results: results().map((r) => ({ url: r.url, title: r.title, description: r.snippet })) } });
    }
    const page = /^\/pages\/(\w+)$/.exec(u.pathname)?.[1];
    if (page && PAGES[page]) {
      pagesServed.push(page);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><html><head><title>${PAGES[page].title}</title></head><body><h1>${PAGES[page].title}</h1>${PAGES[page].body}</body></html>`);
    }
    if (u.pathname === '/redirect-to-metadata') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      return res.end();
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base, queries, pagesServed,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
