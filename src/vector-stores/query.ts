// The words of a search query as lexical search uses them: letters and digits, lower-cased, without
// the common English words that carry no meaning (Lucene's English stop set), once each.
const STOP = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not', 'of', 'on',
  'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was', 'will', 'with',
]);

/** At most 64 words: a query longer than that is a document, and its tail adds little. */
export function queryTerms(queries: string[]): string[] {
  const out = new Set<string>();
  for (const q of queries) {
    for (const w of q.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      if (!STOP.has(w) && w.length <= 64) out.add(w);
    }
  }
  return [...out].slice(0, 64);
}
