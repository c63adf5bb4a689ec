// Byte-level pass-through of /chat/completions for clients that speak Chat Completions already:
// the upstream's body (SSE or JSON) is streamed back untouched — no parsing, no re-serialising —
// which keeps the proxy's overhead to a buffer copy per chunk. Upstream errors are passed
// through too (status + body) once retries are exhausted; only transport failures throw.

import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyResult } from '../types.js';
import { createCallSignal, type CallSignal } from './call-signal.js';
import type { UpstreamClient, UpstreamResponse } from './client.js';
import { CallerAbortError, mapTransportError } from './errors.js';
import type { CancelSignal } from '../../util/cancel.js';

/**
 * Response headers worth forwarding; hop-by-hop headers are the server's business. `content-length`
 * is forwarded because the bytes are passed through unchanged (undici does not decode them): a sized
 * answer then goes out unchunked, which saves the write (one syscall) of the terminating chunk on
 * every non-streamed reply, and a body cut short by the upstream shows up to the client as a short
 * read instead of a well-terminated chunked reply.
 */
const FORWARDED = new Set(['content-type', 'content-length', 'cache-control', 'retry-after', 'x-request-id']);

function forwardHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined) continue;
    if (FORWARDED.has(name) || name.startsWith('x-ratelimit-')) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (!out['content-type']) out['content-type'] = 'application/json';
  return out;
}

async function* passThrough(res: UpstreamResponse, call: CallSignal, timeouts: UpstreamClient['timeouts']): AsyncGenerator<Uint8Array> {
  const body = res.body;
  try {
    for await (const chunk of body) yield chunk as Uint8Array;
    if (call.timedOut) throw mapTransportError(undefined, call, 'body', timeouts);
  } catch (err) {
    const mapped = mapTransportError(err, call, 'body', timeouts);
    // The caller went away: nobody is reading, end quietly.
    if (mapped instanceof CallerAbortError) return;
    throw mapped;
  } finally {
    call.dispose();
    // Consumer stopped early: destroying the body aborts the upstream request (socket closed).
    if (!body.readableEnded && !body.destroyed) body.destroy();
  }
}

/**
 * Throws ProviderError for transport failures/timeouts, and an error named 'AbortError' if
 * `signal` aborted before the upstream answered. Once returned, the body stream ends quietly on
 * abort and throws ProviderError if the upstream drops or the total deadline passes.
 */
export async function proxyChatCompletions(client: UpstreamClient, body: Record<string, unknown>, signal: CancelSignal): Promise<ProxyResult> {
  const call = createCallSignal(signal, client.timeouts.totalMs);
  let res: UpstreamResponse;
  try {
    const stream = body.stream === true;
    res = await client.send('POST', '/chat/completions', JSON.stringify(body), call, stream ? 'text/event-stream' : 'application/json', !stream);
  } catch (err) {
    call.dispose();
    throw err;
  }
  return { status: res.statusCode, headers: forwardHeaders(res.headers), body: passThrough(res, call, client.timeouts) };
}
