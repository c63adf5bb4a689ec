// Continuation instead of failure: a response whose instance died (kill -9, or a drain past DRAIN_MS)
// is taken over by another instance and generated onward from what was committed, when its provider
// can continue an assistant prefix (ModelCapabilities.continuation). What a client saw is exactly the
// committed events, so the state to continue from is folded from those events (the stored snapshot may
// be ahead of them when a commit was split), and the continuation appends to the same open message.
import type { Store } from '../store/types.js';
import type { ResponseEvent } from '../wire/events.js';
import { lineJson } from '../wire/event-line.js';
import type { ResponseObject } from '../wire/types.js';
import { apply } from './projection.js';

/** Where a continued run picks up. */
export interface Resume {
  /** The message the model was writing when its instance died: continued in place. */
  message?: { outputIndex: number; id: string; text: string };
}

const PAGE = 1000;

/** The response as its committed events (seq <= lastSeq) make it. */
export async function committedState(store: Store, id: string, snapshot: ResponseObject, lastSeq: number): Promise<ResponseObject> {
  let state = snapshot;
  let folded = false;
  let after = -1;
  for (;;) {
    const chunks = await store.readEvents(id, after, PAGE);
    if (!chunks.length) break;
    const before = after;
    for (const c of chunks) {
      let seq = c.firstSeq;
      for (const line of c.data.split('\n')) {
        if (seq > after && seq <= lastSeq) {
          const ev = JSON.parse(lineJson(line)) as ResponseEvent;
          // The first event (response.created/queued) carries the whole object: fold from there.
          state = folded ? apply(state, ev) : apply(structuredClone(snapshot), ev);
          folded = true;
          after = seq;
        }
        seq++;
      }
    }
    if (after === before || after >= lastSeq || chunks.length < PAGE) break;
  }
  return state;
}

/**
 * What of a cut-off response can be continued, or undefined when it cannot (it then fails as before):
 * completed reasoning items, then at most one open message with its one output_text part. Anything else
 * (a tool call, whose effects or arguments a continuation could repeat or change) is not continued.
 */
export function resumePlan(state: ResponseObject): Resume | undefined {
  const out = state.output;
  for (let i = 0; i < out.length; i++) {
    const it = out[i];
    if (it.type === 'reasoning' && it.status === 'completed') continue;
    const part = it.content?.[0];
    if (i === out.length - 1 && it.type === 'message' && it.id && it.status === 'in_progress' && it.content.length === 1 && part?.type === 'output_text') {
      return { message: { outputIndex: i, id: it.id, text: part.text as string } };
    }
    return undefined;
  }
  return {};
}
