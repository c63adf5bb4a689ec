// Exact nearest chunks by cosine, in JS: PostgreSQL's path, and SQLite's when sqlite-vec is not loaded
// (sqlite/vec.ts). Vectors are float32 BLOB/bytea. Cost is linear in the chunks of the searched stores;
// see README's hybrid section.

/** The `limit` seqs whose vectors are nearest to `query` (both unit length: cosine = dot product). */
export function nearest(rows: Array<{ seq: number | string; vector: Buffer }>, query: Float32Array, limit: number): Array<{ seq: number | string; score: number }> {
  const top: Array<{ seq: number | string; score: number }> = [];
  for (const r of rows) {
    const n = r.vector.byteLength >> 2;
    if (n !== query.length) continue; // another model's vector; the service refuses mixed models first
    const v = new Float32Array(r.vector.buffer, r.vector.byteOffset, n);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += v[i] * query[i];
    if (top.length < limit || dot > top[top.length - 1].score) {
      top.push({ seq: r.seq, score: dot });
      top.sort((a, b) => b.score - a.score);
      if (top.length > limit) top.pop();
    }
  }
  return top;
}
