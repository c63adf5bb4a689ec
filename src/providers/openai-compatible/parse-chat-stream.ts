// SSE bytes from /chat/completions -> GenerateEvents. eventsource-parser handles the framing
// (partial lines, CRLF, multi-line data); each `data:` payload is JSON-parsed here and handed to
// the ChunkMapper. A payload that is not JSON means the stream is corrupt, so it is an error;
// a JSON chunk we do not understand is merely skipped (see chunk-mapper.ts).

import { createParser } from 'eventsource-parser';
import { ProviderError, type GenerateEvent } from '../types.js';
import { ChunkMapper } from './chunk-mapper.js';

/** After [DONE], how long we wait for the response to end so the connection can be reused. */
const DRAIN_AFTER_DONE_MS = 1_000;

export interface SseBody extends AsyncIterable<Uint8Array | Buffer | string> {
  destroy(): unknown;
}

/** The turn's events one by one (see parseChatStreamBatches). */
export async function* parseChatStream(body: SseBody, isAborted: () => boolean): AsyncGenerator<GenerateEvent> {
  for await (const batch of parseChatStreamBatches(body, isAborted)) {
    for (const ev of batch) {
      if (isAborted()) return;
      yield ev;
    }
  }
}

/**
 * Yield the turn's events, those of one read of the body together (a reader that takes them one
 * async step each pays that step per token). Returns quietly as soon as `isAborted()` turns true (the
 * caller decides whether that was a client abort or a deadline). Transport errors propagate untouched;
 * a stream that ends with neither [DONE] nor a finish_reason throws ProviderError.
 */
export async function* parseChatStreamBatches(body: SseBody, isAborted: () => boolean): AsyncGenerator<GenerateEvent[]> {
  const mapper = new ChunkMapper();
  const decoder = new TextDecoder();
  let queue: GenerateEvent[] = [];
  let done = false;
  let failure: Error | undefined;

  const parser = createParser({
    onEvent(ev) {
      if (done || failure) return;
      const data = ev.data;
      if (data === '[DONE]') {
        done = true;
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        failure = new ProviderError('upstream sent malformed JSON in its event stream', 0, false, 'upstream_bad_response');
        return;
      }
      if (ev.event === 'error' && json && typeof json === 'object' && !('error' in json)) json = { error: json };
      try {
        mapper.push(json, queue);
      } catch (err) {
        failure = err as Error;
      }
    },
  });

  let drainTimer: NodeJS.Timeout | undefined;
  try {
    for await (const chunk of body) {
      if (done) continue; // draining: the rest is ignored
      parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      if (isAborted()) return;
      if (queue.length) {
        const batch = queue;
        queue = [];
        yield batch;
      }
      if (failure) throw failure;
      if (isAborted()) return;
      if (done) {
        // Let the response finish so undici can keep the socket alive — but do not trust a
        // server that keeps the response open after [DONE].
        drainTimer = setTimeout(() => body.destroy(), DRAIN_AFTER_DONE_MS);
      }
    }
  } catch (err) {
    if (!done) throw err; // after [DONE], a failing drain is irrelevant
  } finally {
    if (drainTimer) clearTimeout(drainTimer);
  }
  if (isAborted()) return;

  if (!done) {
    // Flush a last event that lacked its terminating blank line.
    parser.feed(decoder.decode());
    parser.reset({ consume: true });
    if (failure) throw failure;
  }
  if (!done && !mapper.finished) {
    throw new ProviderError('upstream stream ended unexpectedly', 0, false);
  }
  mapper.end(queue);
  if (queue.length) yield queue;
}
