// The Cranfield collection (../shared/datasets/cranfield, see its README) and trec_eval-style
// measures: nDCG@10 (linear gain, log2(rank + 1) discount, ideal from every judged document),
// recall@10 and reciprocal rank of the first relevant result. Query ids are positions in cran.qry
// (1..225), as cranqrel numbers them. Two conventions for the -1 code: A ("TCD", the published
// Lucene figures: -1 → gain 5, c → 5 − c, all judged pairs relevant) and B ("strict": -1 not relevant).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CranDoc { id: number; title: string; text: string }
export interface CranQuery { id: number; text: string }
export type Qrels = Map<number, Map<number, number>>; // query → doc → code

/** Records of a .I/.X file: each record's fields by marker letter. */
function records(raw: string): Array<{ id: number; fields: Record<string, string> }> {
  const out: Array<{ id: number; fields: Record<string, string> }> = [];
  let cur: { id: number; fields: Record<string, string> } | undefined;
  let field = '';
  for (const line of raw.replace(/\r\n/g, '\n').split('\n')) {
    const m = /^\.([ITABW])(?:\s+(\d+))?\s*$/.exec(line);
    if (m?.[1] === 'I') {
      cur = { id: Number(m[2]), fields: {} };
      out.push(cur);
      field = '';
    } else if (m && cur) {
      field = m[1]!;
      cur.fields[field] ??= '';
    } else if (cur && field) {
      cur.fields[field] += `${line}\n`;
    }
  }
  return out;
}

export function loadCranfield(dir: string): { docs: CranDoc[]; queries: CranQuery[]; qrels: Qrels } | undefined {
  if (!existsSync(join(dir, 'cran.all.1400'))) return undefined;
  const docs = records(readFileSync(join(dir, 'cran.all.1400'), 'utf8')).map((r) => ({ id: r.id, title: (r.fields.T ?? '').trim(), text: (r.fields.W ?? '').trim() }));
  // Sequential ids: the position in cran.qry, not its .I number.
  const queries = records(readFileSync(join(dir, 'cran.qry'), 'utf8')).map((r, i) => ({ id: i + 1, text: (r.fields.W ?? '').replace(/\s+/g, ' ').trim() }));
  const qrels: Qrels = new Map();
  for (const line of readFileSync(join(dir, 'cranqrel'), 'utf8').split('\n')) {
    const [q, d, c] = line.trim().split(/\s+/).map(Number);
    if (!q || !d || c === undefined || Number.isNaN(c)) continue;
    if (!qrels.has(q)) qrels.set(q, new Map());
    qrels.get(q)!.set(d, c);
  }
  return { docs, queries, qrels };
}

export type Convention = 'A' | 'B';
const gainOf = (code: number, conv: Convention) => (code === -1 ? (conv === 'A' ? 5 : 0) : 5 - code);

export interface Measures { ndcg10: number; recall10: number; mrr: number }

/** Measures of one ranked list of doc ids against one query's judgements. */
export function measure(ranked: number[], judged: Map<number, number>, conv: Convention): Measures {
  const gains = new Map<number, number>();
  for (const [d, c] of judged) {
    const g = gainOf(c, conv);
    if (g > 0) gains.set(d, g);
  }
  let dcg = 0;
  ranked.slice(0, 10).forEach((d, i) => { dcg += (gains.get(d) ?? 0) / Math.log2(i + 2); });
  const ideal = [...gains.values()].sort((a, b) => b - a).slice(0, 10).reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
  const hit10 = ranked.slice(0, 10).filter((d) => gains.has(d)).length;
  const first = ranked.findIndex((d) => gains.has(d));
  return { ndcg10: ideal ? dcg / ideal : 0, recall10: gains.size ? hit10 / gains.size : 0, mrr: first < 0 ? 0 : 1 / (first + 1) };
}

export function meanMeasures(all: Measures[]): Measures {
  const n = all.length || 1;
  return {
    ndcg10: all.reduce((s, m) => s + m.ndcg10, 0) / n,
    recall10: all.reduce((s, m) => s + m.recall10, 0) / n,
    mrr: all.reduce((s, m) => s + m.mrr, 0) / n,
  };
}
