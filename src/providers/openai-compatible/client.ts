// The HTTP side of the provider: one keep-alive undici Pool per upstream origin (connections are
// reused across requests instead of a TCP/TLS handshake per model turn) plus the retry policy.
// Retries happen only here, i.e. before any response body is handed to a caller — so nothing a
// client has already seen can be produced twice.

import { Pool, type Dispatcher } from 'undici';
import { ProviderError } from '../types.js';
import { retryDelayMs, sleep } from './backoff.js';
import type { CallSignal } from './call-signal.js';
import { isRetryableStatus, mapTransportError } from './errors.js';

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  totalTimeoutMs: number;
  /** Connect and response-headers timeout. */
  firstByteTimeoutMs: number;
  maxRetries: number;
}

export type UpstreamResponse = Dispatcher.ResponseData;

export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly search: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: ClientOptions) {
    const url = new URL(opts.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    // Keep a query string from the base URL (e.g. Azure's ?api-version=) on every request.
    this.search = url.search;
    this.pool = new Pool(url.origin, {
      connect: { timeout: opts.firstByteTimeoutMs },
      headersTimeout: opts.firstByteTimeoutMs,
      // Token gaps can be long (reasoning, big prefill); the total deadline covers stalls instead.
      bodyTimeout: 0,
      keepAliveTimeout: 10_000,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
    this.headers = headers;
  }

  get timeouts(): { totalMs: number; firstByteMs: number } {
    return { totalMs: this.opts.totalTimeoutMs, firstByteMs: this.opts.firstByteTimeoutMs };
  }

  get apiKey(): string | undefined {
    return this.opts.apiKey;
  }

  /**
   * Send a request, retrying 429/5xx responses and connection failures with backoff. Returns the
   * final response whatever its status (the caller decides whether a non-2xx is an error or is
   * passed through). Throws ProviderError, or CallerAbortError when `call` was aborted by the caller.
   * `whole`: the upstream answers only once it has generated everything (a non-streamed completion),
   * so its headers may take as long as the whole turn: only the total deadline applies, not the
   * first-byte timeout.
   */
  async send(method: 'GET' | 'POST', path: string, body: string | undefined, call: CallSignal, accept: string, whole = false): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { accept, ...this.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    for (let attempt = 0; ; attempt++) {
      let res: UpstreamResponse;
      try {
        res = await this.pool.request({
          path: this.basePath + path + this.search,
          method,
          headers,
          body,
          signal: call.signal,
          ...(whole ? { headersTimeout: 0 } : {}),
        });
      } catch (err) {
        const mapped = mapTransportError(err, call, 'request', this.timeouts);
        if (!(mapped instanceof ProviderError && mapped.retryable) || attempt >= this.opts.maxRetries) throw mapped;
        await this.backoff(attempt, undefined, call);
        continue;
      }
      if (!isRetryableStatus(res.statusCode) || attempt >= this.opts.maxRetries) return res;
      // Drain (bounded) so the keep-alive connection can be reused for the retry.
      await res.body.dump().catch(() => undefined);
      await this.backoff(attempt, res.headers['retry-after'], call);
    }
  }

  private async backoff(attempt: number, retryAfter: string | string[] | undefined, call: CallSignal): Promise<void> {
    await sleep(retryDelayMs(attempt, retryAfter), call.signal);
    if (call.signal.aborted) throw mapTransportError(call.signal.reason, call, 'request', this.timeouts);
  }

  /** Graceful close; in-flight requests that do not finish promptly are cut. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.pool.close().then(() => true);
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 2_000);
      timer.unref();
    });
    const closed = await Promise.race([graceful, timeout]);
    if (timer) clearTimeout(timer);
    if (!closed) await this.pool.destroy();
  }
}

export interface BodyText {
  /** At most `limit` bytes, decoded as UTF-8. */
  text: string;
  /** The body was longer than `limit`; the rest was discarded. */
  truncated: boolean;
  /** The body broke off before its end; `text` is what arrived. */
  error?: unknown;
}

/**
 * Reads a body as text, at most `limit` bytes (beyond that it stops and discards the rest). Never
 * rejects: a broken body yields what arrived, with the error. Uses 'data' events: an async iterator
 * over the stream costs more per reply, and this runs once per non-streamed turn.
 */
export function readBody(res: UpstreamResponse, limit: number): Promise<BodyText> {
  const body = res.body;
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (truncated: boolean, error?: unknown) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      if (!body.destroyed && (truncated || error !== undefined)) body.destroy();
      const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      resolve({ text: all.subarray(0, limit).toString('utf8'), truncated, ...(error !== undefined ? { error } : {}) });
    };
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size > limit) done(true);
    };
    body.on('data', onData);
    body.once('end', () => done(false));
    body.once('error', (err) => done(false, err));
  });
}

/** Read at most `limit` bytes of an (error) body as text; the rest is discarded. */
export async function readBodyText(res: UpstreamResponse, limit = 64 * 1024): Promise<string> {
  // A broken error body still leaves us the status to report.
  return (await readBody(res, limit)).text;
}
