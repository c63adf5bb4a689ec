// How the HTTP subcommands reach a server: --url/--key, else RESPD_URL/RESPD_API_KEY, else this
// machine's server at PORT (as `npm start` serves it). Errors come back in the OpenAI error shape.
import { UsageError } from './args.js';

/** Where the API is served (http/app.ts's API_PREFIX; not imported, so the CLI does not load the server). */
const API_PREFIX = '/api/v1/llm';

export const HTTP_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
} as const;

export interface Api {
  base: string;
  key: string;
  get(path: string, init?: RequestInit): Promise<Response>;
  /** GET and parse JSON; a non-2xx answer throws an ApiCallError naming the server's message. */
  json<T>(path: string): Promise<T>;
}

export class ApiCallError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The API's base URL from what the operator typed: a bare origin gets the API prefix. */
export function apiBase(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got '${raw}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL, got '${raw}'`);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path === '' ? API_PREFIX : path}`;
}

export async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: string; code?: string } };
    if (body.error?.message) return `HTTP ${res.status}: ${body.error.message}${body.error.code ? ` (${body.error.code})` : ''}`;
  } catch { /* not JSON: the raw text below */ }
  return `HTTP ${res.status}: ${text.slice(0, 300) || res.statusText}`;
}

export function connect(values: { url?: string; key?: string }, env: NodeJS.ProcessEnv = process.env): Api {
  const base = apiBase(values.url ?? env.RESPD_URL ?? `http://127.0.0.1:${env.PORT || 8080}`);
  const key = values.key ?? env.RESPD_API_KEY;
  if (!key) throw new UsageError('an API key is needed: --key or RESPD_API_KEY');
  const get = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${key}`);
    return fetch(`${base}${path}`, { ...init, headers });
  };
  return {
    base, key, get,
    async json<T>(path: string): Promise<T> {
      const res = await get(path, { headers: { accept: 'application/json' } });
      if (!res.ok) throw new ApiCallError(res.status, await errorMessage(res));
      return (await res.json()) as T;
    },
  };
}
