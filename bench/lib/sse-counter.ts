// Counts SSE frames as they arrive, without a client library or JSON parsing, so the counting client
// is never the bottleneck. Two flavours:
//   chat      — `data: {...}` frames, ended by `data: [DONE]`;
//   responses — `id: N` / `event: <type>` / `data: {...}` frames; sequence numbers must be gap-free
//               and the stream must end with a terminal event.
import { StringDecoder } from 'node:string_decoder';

const TERMINAL = ['response.completed', 'response.failed', 'response.incomplete', 'response.cancelled'];

export class SseCounter {
  events = 0;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  gaps = 0;
  /** chat: saw [DONE]; responses: saw a terminal event. */
  finished = false;
  terminalType: string | undefined;
  bytes = 0;
  /** Time (hrtime ns) the marker string was first seen, if a marker was given. */
  markerAt: bigint | undefined;
  /** The `data:` payload of the last frame, when `keepLast` is set. */
  lastData: string | undefined;
  private buf = '';
  private decoder = new StringDecoder('utf8');

  constructor(readonly kind: 'chat' | 'responses', private readonly marker?: string, private readonly keepLast = false) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    const text = this.decoder.write(chunk);
    if (this.marker && this.markerAt === undefined) {
      // The marker may straddle two chunks: search the unparsed rest plus the new text.
      if ((this.buf.slice(-this.marker.length) + text).includes(this.marker)) this.markerAt = process.hrtime.bigint();
    }
    const b = this.buf ? this.buf + text : text;
    let start = 0;
    let i: number;
    while ((i = b.indexOf('\n\n', start)) >= 0) {
      this.frame(b, start, i);
      start = i + 2;
    }
    this.buf = start === 0 ? b : b.slice(start);
  }

  private frame(b: string, s: number, e: number): void {
    if (e === s) return;
    if (this.keepLast) {
      const d = b.indexOf('data: ', s);
      if (d >= 0 && d < e) this.lastData = b.slice(d + 6, e);
    }
    if (this.kind === 'chat') {
      if (b.startsWith('data: [DONE]', s)) this.finished = true;
      else this.events++;
      return;
    }
    this.events++;
    if (!b.startsWith('id: ', s)) return;
    const nl = b.indexOf('\n', s);
    const seq = Number(b.slice(s + 4, nl));
    if (this.lastSeq !== undefined && seq !== this.lastSeq + 1) this.gaps++;
    if (this.firstSeq === undefined) this.firstSeq = seq;
    this.lastSeq = seq;
    if (b.startsWith('event: response.', nl + 1)) {
      const typeEnd = b.indexOf('\n', nl + 1);
      const type = b.slice(nl + 8, typeEnd);
      if (TERMINAL.includes(type)) {
        this.finished = true;
        this.terminalType = type;
      }
    }
  }
}
