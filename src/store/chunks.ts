// Bounded event chunks. A group commit's lines are stored as rows of at most CHUNK_BYTES (a line longer
// than that gets a row of its own), and replay reads a page of at most PAGE_CHUNKS rows at a time, so a
// reader that stops reading holds about one page beyond its socket buffers, not the whole log (a fast
// upstream can put thousands of events into one 100 ms commit).
import type { EventChunk } from './types.js';

/** Target size of one stored chunk (characters of joined lines). */
export const CHUNK_BYTES = 8 * 1024;
/** Chunks per replay page: with CHUNK_BYTES, ~64 KB held per stalled reader (the read-ahead page; see stream-reader.ts). */
export const PAGE_CHUNKS = 8;

/** Splits a batch of lines starting at `firstSeq` into chunks of at most CHUNK_BYTES (or one line). */
export function toChunks(firstSeq: number, lines: string[], maxBytes = CHUNK_BYTES): EventChunk[] {
  const out: EventChunk[] = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < lines.length; i++) {
    const len = lines[i].length + 1;
    if (i > start && size + len > maxBytes) {
      out.push({ firstSeq: firstSeq + start, data: lines.slice(start, i).join('\n') });
      start = i;
      size = 0;
    }
    size += len;
  }
  if (lines.length > start) out.push({ firstSeq: firstSeq + start, data: lines.slice(start).join('\n') });
  return out;
}
