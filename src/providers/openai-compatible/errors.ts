// Turning upstream failures into ProviderErrors. Kept in one place so every path (generate,
// listModels, proxy) reports the same messages, statuses and retryability — and so the API key
// can never leak through an error message (upstreams sometimes echo the key they rejected).

import { STATUS_CODES } from 'node:http';
import { ProviderError } from '../types.js';
import type { CallSignal } from './call-signal.js';

/** Thrown internally when the caller aborted; `generate` swallows it, other paths rethrow it. */
export class CallerAbortError extends Error {
  constructor() {
    super('request aborted by caller');
    this.name = 'AbortError';
  }
}

/** Socket-level failures worth another attempt: the request most likely never reached a model. */
const RETRYABLE_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}

/** Pull `{error:{message}}` (OpenAI shape) or `{message}`/`{detail}` (vLLM/FastAPI) out of a body. */
function upstreamMessage(bodyText: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (!parsed || typeof parsed !== 'object') return undefined;
    const o = parsed as Record<string, unknown>;
    const err = o.error;
    if (err && typeof err === 'object' && typeof (err as Record<string, unknown>).message === 'string') {
      return (err as Record<string, unknown>).message as string;
    }
    if (typeof err === 'string') return err;
    if (typeof o.message === 'string') return o.message;
    if (typeof o.detail === 'string') return o.detail;
  } catch {
    // Not JSON: fall back to the status text.
  }
  return undefined;
}

export function errorFromResponse(status: number, statusText: string | undefined, bodyText: string, apiKey?: string): ProviderError {
  const message = upstreamMessage(bodyText) ?? (statusText || STATUS_CODES[status] || `upstream returned HTTP ${status}`);
  return new ProviderError(redact(message, apiKey), status, isRetryableStatus(status));
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  // undici wraps some socket errors; the errno code sits on `cause`.
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/** True if a transport error (thrown before response headers) should be retried. */
export function isRetryableTransportError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && RETRYABLE_CONNECTION_CODES.has(code);
}

/**
 * Map anything thrown while talking to the upstream. `phase` distinguishes a failure before the
 * response arrived (connection problem) from one while reading the body (stream dropped).
 */
export function mapTransportError(err: unknown, call: CallSignal, phase: 'request' | 'body', timeouts: { totalMs: number; firstByteMs: number }): Error {
  if (err instanceof ProviderError) return err;
  if (call.callerAborted) return new CallerAbortError();
  if (call.timedOut) {
    return new ProviderError(`upstream did not complete within ${timeouts.totalMs} ms`, 0, false, 'upstream_timeout');
  }
  const code = codeOf(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new ProviderError(`could not connect to upstream within ${timeouts.firstByteMs} ms`, 0, true, 'upstream_timeout');
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new ProviderError(`upstream did not respond within ${timeouts.firstByteMs} ms`, 0, false, 'upstream_timeout');
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new ProviderError('upstream stream stalled', 0, false, 'upstream_timeout');
  }
  if (phase === 'body') return new ProviderError('upstream stream ended unexpectedly', 0, false);
  return new ProviderError(`upstream connection failed${code ? ` (${code})` : ''}`, 0, isRetryableTransportError(err));
}
