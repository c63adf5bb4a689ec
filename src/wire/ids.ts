import { randomFillSync } from 'node:crypto';

// `prefix_` + 32 lowercase hex, the shape MKA1 ids have (e.g. resp_5ab19d58984940c88a971c6829ae201c):
// 12 hex of the creation time in ms, then 80 random bits (as OpenAI's ids start with their creation
// time). Why time first: ids key the stores' indexes (responses.id, items and event chunks by response
// id). Random keys send every insert to a random leaf page of each index, so a stored response dirties
// scattered pages and, once the database outgrows SQLite's page cache, reads them back first;
// time-ordered keys land on the same few rightmost pages (figures: bench/README.md, history). 80 random
// bits keep ids unguessable enough (every read is ownership-checked anyway) and collision-free in practice.
// The random bits come from a pool refilled in bulk and hex-encoded once per refill: a crypto call or a
// hex conversion per id is measurable on the hot path, and a request takes two or three ids.
const POOL_IDS = 256;
const pool = Buffer.alloc(10 * POOL_IDS);
let hex = '';
let next = POOL_IDS;

// The time part changes at most once per millisecond: encode it only then.
let lastMs = -1;
let msHex = '';

export function newId(prefix: string): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    hex = pool.toString('hex');
    next = 0;
  }
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    msHex = ms.toString(16).padStart(12, '0');
  }
  const off = 20 * next++;
  return `${prefix}_${msHex}${hex.slice(off, off + 20)}`;
}

export const RESPONSE_ID = /^resp[-_][a-zA-Z0-9]+$/;
