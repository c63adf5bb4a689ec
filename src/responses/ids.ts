import { randomFillSync } from 'node:crypto';

// `prefix_` + 32 lowercase hex, the shape MKA1 ids have (e.g. resp_5ab19d58984940c88a971c6829ae201c).
// 128 random bits from a pool refilled in bulk: a crypto call per id showed up in request profiles.
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;

export function newId(prefix: string): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const off = 16 * next++;
  return `${prefix}_${pool.toString('hex', off, off + 16)}`;
}

export const RESPONSE_ID = /^resp[-_][a-zA-Z0-9]+$/;
