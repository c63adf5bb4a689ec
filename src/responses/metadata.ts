// Metadata updated after creation (POST /responses/{id}) is not an event of the response: the log
// stays what the run produced. Every read instead lays the current metadata over what it presents —
// the snapshot, and each event that carries the whole Response — so JSON, streams and lists agree on
// every instance, during the run and after it.
import { lineJson, lineType, toLine, type SeqLine } from '../wire/event-line.js';
import { isLifecycleEvent } from '../wire/events.js';
import type { ResponseObject } from '../wire/types.js';

export type Metadata = Record<string, string>;

export function withMetadata(r: ResponseObject, metadata: Metadata | undefined): ResponseObject {
  return metadata ? { ...r, metadata } : r;
}

/** Event lines with `metadata()` laid over the Response of each lifecycle event (few per stream). */
export async function* overlayMetadata(batches: AsyncIterable<SeqLine[]>, metadata: () => Metadata | undefined): AsyncGenerator<SeqLine[]> {
  for await (const batch of batches) {
    const m = metadata();
    if (!m) {
      yield batch;
      continue;
    }
    yield batch.map(([seq, line]): SeqLine => {
      const type = lineType(line);
      if (!isLifecycleEvent(type)) return [seq, line];
      const ev = JSON.parse(lineJson(line));
      ev.response.metadata = m;
      return [seq, toLine(type, JSON.stringify(ev))];
    });
  }
}
