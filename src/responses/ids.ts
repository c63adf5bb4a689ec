import { randomUUID } from 'node:crypto';

// `prefix_` + 32 lowercase hex, the shape MKA1 ids have (e.g. resp_5ab19d58984940c88a971c6829ae201c).
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`;
}

export const RESPONSE_ID = /^resp[-_][a-zA-Z0-9]+$/;
