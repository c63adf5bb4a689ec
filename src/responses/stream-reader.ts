// One reader for every way of watching a response: create-with-stream, retrieve-with-stream and resume
// all read "every line with sequence number > afterSeq until the terminal one" from here. Stored lines
// come from the store, live ones from the LiveLog in memory; a response running elsewhere (another
// instance) is followed through the hub's remote tail, or by polling the store.
import type { EventHub } from '../bus/types.js';
import type { Store } from '../store/types.js';
import { isTerminalStatus } from '../wire/status.js';
import { isTerminalLine, type SeqLine } from '../wire/event-line.js';

export type { SeqLine };
import { PAGE_CHUNKS } from '../store/chunks.js';
import type { LiveLog } from './live-log.js';
import type { CancelSignal } from '../util/cancel.js';
import { patiently } from '../store/patience.js';


const POLL_MS = 50;
/** A stream under way waits this long for an unreachable store before it ends with an error. */
export const STORE_PATIENCE_MS = 30_000;

// Pages through the stored log: the next page is read only once the consumer (pipeSse, which waits for
// the socket to drain) asks for more, so a reader that never reads holds one page, not the whole log.
async function* fromStore(store: Store, id: string, afterSeq: number, untilSeq = Infinity): AsyncGenerator<SeqLine[]> {
  let last = afterSeq;
  while (last < untilSeq) {
    const before = last;
    const chunks = await patiently(() => store.readEvents(id, last, PAGE_CHUNKS), STORE_PATIENCE_MS);
    for (const c of chunks) {
      const lines = c.data.split('\n');
      const batch: SeqLine[] = [];
      for (let i = 0; i < lines.length; i++) {
        const seq = c.firstSeq + i;
        if (seq > last && seq <= untilSeq) batch.push([seq, lines[i]]);
      }
      if (batch.length) {
        last = batch[batch.length - 1][0];
        yield batch;
      }
    }
    if (chunks.length < PAGE_CHUNKS || last === before) return;
  }
}

async function* fromLive(live: LiveLog, afterSeq: number, signal: CancelSignal): AsyncGenerator<SeqLine[]> {
  let buf: SeqLine[] = [];
  let ended = false;
  // Set when the response ended but the store did not take it in time (LiveLog.stall): the stream
  // ends with an error event instead of a terminal event that is not stored.
  let failure: Error | undefined;
  let wake: (() => void) | null = null;
  // The reader is woken once per burst, not per line: lines appended in one tick (one upstream read
  // gives several) then make one batch, which each layer above (SSE frames, the writer, a socket) handles
  // once. process.nextTick runs before any I/O, so no line waits longer than before.
  const wakeSoon = () => {
    const w = wake;
    wake = null;
    if (w) process.nextTick(w);
  };
  const unsubscribe = live.subscribe(afterSeq, (seq, line) => {
    buf.push([seq, line]);
    wakeSoon();
  }, (err) => {
    ended = true;
    failure = err;
    if (wake) wake();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    while (!signal.aborted) {
      if (buf.length) {
        const out = buf;
        buf = [];
        yield out;
        continue;
      }
      if (ended) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((r) => { wake = r; });
      wake = null;
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}

/** Yields batches of [seq, line] with seq > afterSeq, ending after the terminal line (or on abort). */
export async function* readResponseLines(
  deps: { store: Store; hub: EventHub<LiveLog> },
  id: string,
  afterSeq: number,
  signal: CancelSignal,
): AsyncGenerator<SeqLine[]> {
  let last = afterSeq;
  while (!signal.aborted) {
    const live = deps.hub.local(id);
    if (live && !live.refused) {
      // Lines before the in-memory window (a response resumed after restart) are already stored.
      if (live.baseSeq > last + 1) {
        for await (const b of fromStore(deps.store, id, last, live.baseSeq - 1)) {
          yield b;
          last = b[b.length - 1][0];
        }
      }
      for await (const b of fromLive(live, last, signal)) {
        yield b;
        last = b[b.length - 1][0];
      }
      // The store refused this instance's lines (another instance took the response over): the log
      // goes on there, so follow it from the store instead of ending without a terminal event.
      if (!live.refused) return;
      continue;
    }
    let sawTerminal = false;
    for await (const b of fromStore(deps.store, id, last)) {
      yield b;
      last = b[b.length - 1][0];
      if (isTerminalLine(b[b.length - 1][1])) sawTerminal = true;
    }
    if (sawTerminal) return;
    const rec = await patiently(() => deps.store.getResponse(id), STORE_PATIENCE_MS, () => signal.aborted);
    if (!rec) return; // deleted meanwhile
    if (rec.lastSeq <= last && isTerminalStatus(rec.status)) return;
    // Not live here and not finished: it runs on another instance (or is queued). Follow it.
    const remote = deps.hub.remoteTail?.(id, last, signal);
    if (remote) {
      for await (const b of remote) {
        yield b;
        last = b[b.length - 1][0];
        if (isTerminalLine(b[b.length - 1][1])) return;
      }
      continue;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
