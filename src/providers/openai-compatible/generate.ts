// One model turn: POST /chat/completions and turn the reply into GenerateEvents — streamed (SSE,
// parse-chat-stream.ts), or, when nobody watches the deltas (`wholeTurn`), as one chat.completion:
// a single JSON document instead of one frame per token is cheaper to produce, send and parse.
// Abort contract: when the caller's signal aborts, the upstream request is aborted (undici
// destroys the socket, so the upstream sees the disconnect and can stop generating) and this
// iterator ends quietly — it does not throw.

import { ProviderError, type GenerateEvent, type GenerateRequest } from '../types.js';
import { createCallSignal, type CallSignal } from './call-signal.js';
import { readBody, readBodyText, type UpstreamClient, type UpstreamResponse } from './client.js';
import { ChunkMapper } from './chunk-mapper.js';
import { CallerAbortError, errorFromResponse, mapTransportError } from './errors.js';
import { parseChatStream } from './parse-chat-stream.js';
import { toChatRequest } from './to-chat-request.js';

/** Largest non-streamed reply we read (a completion of ~100k tokens is a few hundred KiB). */
const MAX_WHOLE_REPLY_BYTES = 64 * 1024 * 1024;

export async function* generate(client: UpstreamClient, req: GenerateRequest): AsyncGenerator<GenerateEvent> {
  const call = createCallSignal(req.signal, client.timeouts.totalMs);
  const whole = req.wholeTurn === true;
  let res: UpstreamResponse | undefined;
  try {
    const body = JSON.stringify(toChatRequest(req, !whole));
    try {
      // Retries (429/5xx/connection) happen inside send(), i.e. before the first event.
      res = await client.send('POST', '/chat/completions', body, call, whole ? 'application/json' : 'text/event-stream', whole);
    } catch (err) {
      if (err instanceof CallerAbortError) return;
      throw err;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw errorFromResponse(res.statusCode, res.statusText, await readBodyText(res), client.apiKey);
    }
    try {
      if (whole) yield* wholeTurn(res, call);
      else yield* parseChatStream(res.body, () => call.signal.aborted);
    } catch (err) {
      const mapped = mapTransportError(err, call, 'body', client.timeouts);
      if (mapped instanceof CallerAbortError) return;
      throw mapped;
    }
    // parseChatStream returns quietly on any abort; only the caller's own abort is quiet for us.
    if (call.timedOut) throw mapTransportError(undefined, call, 'body', client.timeouts);
  } finally {
    call.dispose();
    // Early exit (abort, consumer break, error): cut the connection so the upstream stops.
    if (res && !res.body.readableEnded && !res.body.destroyed) res.body.destroy();
  }
}

async function* wholeTurn(res: UpstreamResponse, call: CallSignal): AsyncGenerator<GenerateEvent> {
  const body = await readBody(res, MAX_WHOLE_REPLY_BYTES);
  if (body.error !== undefined) throw body.error;
  if (call.signal.aborted) return;
  if (body.truncated) throw new ProviderError('upstream reply is too large', 0, false, 'upstream_bad_response');
  let json: unknown;
  try {
    json = JSON.parse(body.text);
  } catch {
    throw new ProviderError('upstream sent malformed JSON', 0, false, 'upstream_bad_response');
  }
  const mapper = new ChunkMapper();
  const out: GenerateEvent[] = [];
  mapper.pushCompletion(json, out);
  mapper.end(out);
  yield* out;
}
