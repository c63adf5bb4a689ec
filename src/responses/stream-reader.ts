// One reader for every way of watching a response: create-with-stream, retrieve-with-stream and resume
// all read "every line with sequence number > afterSeq until the terminal one" from here. Stored lines
// come from the store, live ones from the LiveLog in memory; a response running elsewhere (another
// instance) is followed through the hub's remote tail, or by polling the store.
import type { EventHub } from '../bus/types.js';
import type { EventChunk, Store } from '../store/types.js';
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

// Pages through the stored log. Each stored chunk goes out as one batch (one socket write of ~8 KB:
// whole pages as one write cost more CPU, measured); pipeSse asks for the next batch only once the socket
// has drained. The next page is read while the current page's last chunk is written, so a PostgreSQL
// round trip overlaps the client's reading; chunks already written are let go, so a reader that never
// reads holds one page and one chunk beyond its socket buffers, not the whole log.
async function* fromStore(store: Store, id: string, afterSeq: number, untilSeq = Infinity): AsyncGenerator<SeqLine[]> {
  const read = (after: number) => {
    const p = patiently(() => store.readEvents(id, after, PAGE_CHUNKS), STORE_PATIENCE_MS);
    p.catch(() => {}); // a reader that leaves may never await its read-ahead page
    return p;
  };
  let page: Promise<EventChunk[]> | undefined = read(afterSeq);
  let last = afterSeq;
  while (page) {
    const chunks: EventChunk[] = await page;
    page = undefined;
    const full = chunks.length >= PAGE_CHUNKS;
    const before = last;
    while (chunks.length) {
      const c = chunks.shift()!;
      const batch = linesOf(c, last, untilSeq);
      if (batch.length) last = batch[batch.length - 1][0];
      // The page's last chunk: read the next page while this one is written.
      if (!chunks.length && full && last > before && last < untilSeq) page = read(last);
      if (batch.length) yield batch;
    }
  }
}

/** A chunk's lines with afterSeq < seq <= untilSeq, as slices of the stored text. */
function linesOf(c: EventChunk, afterSeq: number, untilSeq: number): SeqLine[] {
  const batch: SeqLine[] = [];
  const data = c.data;
  let seq = c.firstSeq;
  let from = 0;
  for (;;) {
    const nl = data.indexOf('\n', from);
    if (seq > afterSeq && seq <= untilSeq) batch.push([seq, nl < 0 ? data.slice(from) : data.slice(from, nl)]);
    if (nl < 0) break;
    from = nl + 1;
    seq++;
  }
  return batch;
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
