// One model turn: POST /chat/completions (streaming) and turn the SSE into GenerateEvents.
// Abort contract: when the caller's signal aborts, the upstream request is aborted (undici
// destroys the socket, so the upstream sees the disconnect and can stop generating) and this
// iterator ends quietly — it does not throw.

import type { GenerateEvent, GenerateRequest } from '../types.js';
import { createCallSignal } from './call-signal.js';
import { readBodyText, type UpstreamClient, type UpstreamResponse } from './client.js';
import { CallerAbortError, errorFromResponse, mapTransportError } from './errors.js';
import { parseChatStream } from './parse-chat-stream.js';
import { toChatRequest } from './to-chat-request.js';

export async function* generate(client: UpstreamClient, req: GenerateRequest): AsyncGenerator<GenerateEvent> {
  const call = createCallSignal(req.signal, client.timeouts.totalMs);
  let res: UpstreamResponse | undefined;
  try {
    const body = JSON.stringify(toChatRequest(req));
    try {
      // Retries (429/5xx/connection) happen inside send(), i.e. before the first event.
      res = await client.send('POST', '/chat/completions', body, call, 'text/event-stream');
    } catch (err) {
      if (err instanceof CallerAbortError) return;
      throw err;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw errorFromResponse(res.statusCode, res.statusText, await readBodyText(res), client.apiKey);
    }
    try {
      yield* parseChatStream(res.body, () => call.signal.aborted);
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
