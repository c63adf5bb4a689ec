// One model turn: POST /chat/completions and turn the reply into GenerateEvents — streamed (SSE,
// parse-chat-stream.ts, `generate`), or, when nobody watches the deltas, as one chat.completion
// (`complete`): a single JSON document instead of one frame per token is cheaper to produce, send
// and parse, and its events come back as one array instead of one async iteration each.
// Abort contract: when the caller's signal aborts, the upstream request is aborted (undici
// destroys the socket, so the upstream sees the disconnect and can stop generating) and the turn
// ends quietly — it does not throw.

import { ProviderError, type GenerateEvent, type GenerateRequest } from '../types.js';
import { createCallSignal, type CallSignal } from './call-signal.js';
import { readBody, readBodyText, type UpstreamClient, type UpstreamResponse } from './client.js';
import { ChunkMapper } from './chunk-mapper.js';
import { CallerAbortError, errorFromResponse, mapTransportError } from './errors.js';
import { parseChatStream, parseChatStreamBatches } from './parse-chat-stream.js';
import { toChatRequest, type ContinuationStyle } from './to-chat-request.js';

/** Largest non-streamed reply we read (a completion of ~100k tokens is a few hundred KiB). */
const MAX_WHOLE_REPLY_BYTES = 64 * 1024 * 1024;

/**
 * Sends the turn; undefined when the caller aborted first. Retries (429/5xx/connection) happen inside
 * send(), i.e. before the first event. A final non-2xx is thrown as a ProviderError.
 */
async function open(client: UpstreamClient, req: GenerateRequest, call: CallSignal, stream: boolean, continuation?: ContinuationStyle): Promise<UpstreamResponse | undefined> {
  const body = JSON.stringify(toChatRequest(req, stream, continuation));
  let res: UpstreamResponse;
  try {
    res = await client.send('POST', '/chat/completions', body, call, stream ? 'text/event-stream' : 'application/json', !stream);
  } catch (err) {
    if (err instanceof CallerAbortError) return undefined;
    throw err;
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw errorFromResponse(res.statusCode, res.statusText, await readBodyText(res), client.apiKey);
  }
  return res;
}

/** Early exit (abort, consumer break, error): cut the connection so the upstream stops. */
function release(call: CallSignal, res: UpstreamResponse | undefined): void {
  call.dispose();
  if (res && !res.body.readableEnded && !res.body.destroyed) res.body.destroy();
}

export function generate(client: UpstreamClient, req: GenerateRequest, continuation?: ContinuationStyle): AsyncGenerator<GenerateEvent> {
  return streamTurn(client, req, parseChatStream, continuation);
}

/** The same events grouped as they arrive (see Provider.generateBatches). */
export function generateBatches(client: UpstreamClient, req: GenerateRequest, continuation?: ContinuationStyle): AsyncGenerator<GenerateEvent[]> {
  return streamTurn(client, req, parseChatStreamBatches, continuation);
}

async function* streamTurn<T>(client: UpstreamClient, req: GenerateRequest, parse: (body: UpstreamResponse['body'], isAborted: () => boolean) => AsyncGenerator<T>, continuation?: ContinuationStyle): AsyncGenerator<T> {
  const call = createCallSignal(req.signal, client.timeouts.totalMs);
  let res: UpstreamResponse | undefined;
  try {
    res = await open(client, req, call, true, continuation);
    if (!res) return;
    try {
      yield* parse(res.body, () => call.signal.aborted);
    } catch (err) {
      const mapped = mapTransportError(err, call, 'body', client.timeouts);
      if (mapped instanceof CallerAbortError) return;
      throw mapped;
    }
    // parseChatStream returns quietly on any abort; only the caller's own abort is quiet for us.
    if (call.timedOut) throw mapTransportError(undefined, call, 'body', client.timeouts);
  } finally {
    release(call, res);
  }
}

export async function complete(client: UpstreamClient, req: GenerateRequest, continuation?: ContinuationStyle): Promise<GenerateEvent[]> {
  const call = createCallSignal(req.signal, client.timeouts.totalMs);
  let res: UpstreamResponse | undefined;
  try {
    res = await open(client, req, call, false, continuation);
    if (!res) return [];
    const body = await readBody(res, MAX_WHOLE_REPLY_BYTES);
    if (body.error !== undefined || call.signal.aborted) {
      const mapped = mapTransportError(body.error, call, 'body', client.timeouts);
      if (mapped instanceof CallerAbortError) return [];
      throw mapped;
    }
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
    return out;
  } finally {
    release(call, res);
  }
}
