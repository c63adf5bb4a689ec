// Byte-level pass-through of /chat/completions for clients that speak Chat Completions already:
// the upstream's body (SSE or JSON) is streamed back untouched — no parsing, no re-serialising —
// which keeps the proxy's overhead to a buffer copy per chunk. Upstream errors are passed
// through too (status + body) once retries are exhausted; only transport failures throw.
//
// A non-streamed answer of known, bounded size (content-length ≤ BUFFER_LIMIT) is read whole before
// returning, and returned with its content-length: the route can then send headers and body in one
// write, instead of a chunked body whose terminating chunk costs a write (a syscall) of its own —
// measured at ~6 % of respd's CPU per proxied request. A body that fails mid-read then becomes an
// error status for the client rather than a truncated 200.

import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyResult } from '../types.js';
import { createCallSignal, type CallSignal } from './call-signal.js';
import type { UpstreamClient, UpstreamResponse } from './client.js';
import { CallerAbortError, mapTransportError } from './errors.js';

/** Largest non-streamed body read whole (bigger or unsized ones are streamed through). */
const BUFFER_LIMIT = 4 * 1024 * 1024;

/** Response headers worth forwarding; hop-by-hop and framing headers are the server's business. */
const FORWARDED = new Set(['content-type', 'cache-control', 'retry-after', 'x-request-id']);

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
 * `signal` aborted before the upstream answered (for a buffered answer: before it was read whole).
 * Once returned, the body stream ends quietly on abort and throws ProviderError if the upstream
 * drops or the total deadline passes. A buffered answer carries `content-length`.
 */
export async function proxyChatCompletions(client: UpstreamClient, body: Record<string, unknown>, signal: AbortSignal): Promise<ProxyResult> {
  const call = createCallSignal(signal, client.timeouts.totalMs);
  let res: UpstreamResponse;
  try {
    res = await client.send('POST', '/chat/completions', JSON.stringify(body), call, body.stream === true ? 'text/event-stream' : 'application/json');
  } catch (err) {
    call.dispose();
    throw err;
  }
  const headers = forwardHeaders(res.headers);
  const length = Number(res.headers['content-length']);
  if (body.stream !== true && Number.isInteger(length) && length >= 0 && length <= BUFFER_LIMIT && !headers['content-type'].startsWith('text/event-stream')) {
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await res.body.arrayBuffer());
      if (call.timedOut) throw mapTransportError(undefined, call, 'body', client.timeouts);
    } catch (err) {
      if (!res.body.destroyed) res.body.destroy();
      throw mapTransportError(err, call, 'body', client.timeouts);
    } finally {
      call.dispose();
    }
    headers['content-length'] = String(bytes.length);
    return { status: res.statusCode, headers, body: once(bytes) };
  }
  return { status: res.statusCode, headers, body: passThrough(res, call, client.timeouts) };
}

/** A body that is already in memory, as the one-chunk stream ProxyResult expects. */
function once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      let done = false;
      return {
        next: async () => {
          if (done) return { value: undefined, done: true };
          done = true;
          return { value: bytes, done: false };
        },
      };
    },
  };
}
