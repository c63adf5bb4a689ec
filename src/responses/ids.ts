import { randomFillSync } from 'node:crypto';

// `prefix_` + 32 lowercase hex, the shape MKA1 ids have (e.g. resp_5ab19d58984940c88a971c6829ae201c).
// 128 random bits each, from a pool refilled in bulk and hex-encoded once per refill: a crypto call per
// id showed up in request profiles, and a hex conversion per id costs ~70 ns more than a substring of
// the encoded pool (measured; a request takes two or three ids).
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let hex = '';
let next = POOL_IDS;

export function newId(prefix: string): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    hex = pool.toString('hex');
    next = 0;
  }
  const off = 32 * next++;
  return `${prefix}_${hex.slice(off, off + 32)}`;
}

export const RESPONSE_ID = /^resp[-_][a-zA-Z0-9]+$/;
