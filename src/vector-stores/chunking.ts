// Chunking: OpenAI's strategies, `auto` (800-token chunks overlapping by 400) and `static` (bounds as
// OpenAI's). There is no tokenizer for every model here, so tokens are counted the way OpenAI's
// rule of thumb does: about 4 characters of a word each, at least one per word or punctuation mark.
// Chunks end on word boundaries and overlap by whole words.
import { errors } from '../wire/errors.js';
import type { StaticChunking } from '../store/vector-stores.js';

export const AUTO_CHUNKING: StaticChunking = { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 };

/** A `chunking_strategy` parameter, checked, as the static strategy it means. */
export function resolveChunking(p: unknown, param: string): StaticChunking {
  if (p === undefined || p === null) return AUTO_CHUNKING;
  const c = p as { type?: unknown; static?: { max_chunk_size_tokens?: unknown; chunk_overlap_tokens?: unknown } };
  if (c.type === 'auto') return AUTO_CHUNKING;
  if (c.type !== 'static') throw errors.invalid(`'${param}.type' must be 'auto' or 'static'.`, `${param}.type`);
  const max = c.static?.max_chunk_size_tokens;
  const overlap = c.static?.chunk_overlap_tokens;
  if (!Number.isInteger(max) || (max as number) < 100 || (max as number) > 4096) {
    throw errors.invalid(`'${param}.static.max_chunk_size_tokens' must be an integer from 100 to 4096.`, `${param}.static.max_chunk_size_tokens`);
  }
  if (!Number.isInteger(overlap) || (overlap as number) < 0 || (overlap as number) > (max as number) / 2) {
    throw errors.invalid(`'${param}.static.chunk_overlap_tokens' must be an integer from 0 to half of max_chunk_size_tokens.`, `${param}.static.chunk_overlap_tokens`);
  }
  return { max_chunk_size_tokens: max as number, chunk_overlap_tokens: overlap as number };
}

const tokensOf = (word: string) => Math.max(1, Math.ceil(word.trim().length / 4));

/** Splits text into overlapping chunks of at most `max_chunk_size_tokens` estimated tokens. */
export function chunkText(text: string, c: StaticChunking): string[] {
  // Words with the whitespace that follows them, so chunks rejoin into the original text.
  const words = text.match(/\s*\S+\s*/g) ?? [];
  const out: string[] = [];
  let start = 0;
  while (start < words.length) {
    let end = start;
    let size = 0;
    while (end < words.length && (end === start || size + tokensOf(words[end]!) <= c.max_chunk_size_tokens)) size += tokensOf(words[end++]!);
    const chunk = words.slice(start, end).join('').trim();
    if (chunk) out.push(chunk);
    if (end >= words.length) break;
    // Step back over the overlap, but always move forward.
    let back = end;
    let overlap = 0;
    while (back > start + 1 && overlap + tokensOf(words[back - 1]!) <= c.chunk_overlap_tokens) overlap += tokensOf(words[--back]!);
    start = back;
  }
  return out;
}
