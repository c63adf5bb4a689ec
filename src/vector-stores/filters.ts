// Attribute filters of vector store search and file_search (OpenAI's ComparisonFilter and
// CompoundFilter): checked once with param paths, then evaluated per file over its attributes.
import { errors } from '../wire/errors.js';
import type { Attributes } from '../store/vector-stores.js';

type Scalar = string | number | boolean;
export type Filter =
  | { type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; key: string; value: Scalar }
  | { type: 'in' | 'nin'; key: string; value: Scalar[] }
  | { type: 'and' | 'or'; filters: Filter[] };

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']);
const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const MAX_DEPTH = 8;
const MAX_NODES = 256;

/** Throws a 400 naming the bad part; returns the filter typed. */
export function checkFilter(f: unknown, param: string, depth = 0, count = { n: 0 }): Filter {
  if (++count.n > MAX_NODES) throw errors.invalid(`'${param}' has too many conditions (at most ${MAX_NODES}).`, param);
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw errors.invalid(`'${param}' must be a comparison or compound filter object.`, param);
  const o = f as Record<string, unknown>;
  if (o.type === 'and' || o.type === 'or') {
    if (depth >= MAX_DEPTH) throw errors.invalid(`'${param}' is nested too deeply (at most ${MAX_DEPTH} levels).`, param);
    if (!Array.isArray(o.filters)) throw errors.invalid(`'${param}.filters' must be an array of filters.`, `${param}.filters`);
    return { type: o.type, filters: o.filters.map((x, i) => checkFilter(x, `${param}.filters[${i}]`, depth + 1, count)) };
  }
  if (typeof o.type !== 'string' || !COMPARISONS.has(o.type)) {
    throw errors.invalid(`'${param}.type' must be one of eq, ne, gt, gte, lt, lte, in, nin, and, or.`, `${param}.type`);
  }
  if (typeof o.key !== 'string' || !o.key || o.key.length > 64) throw errors.invalid(`'${param}.key' must be an attribute name (1-64 characters).`, `${param}.key`);
  if (o.type === 'in' || o.type === 'nin') {
    if (!Array.isArray(o.value) || !o.value.every(isScalar)) throw errors.invalid(`'${param}.value' must be an array of strings, numbers or booleans.`, `${param}.value`);
    return { type: o.type, key: o.key, value: o.value };
  }
  if (!isScalar(o.value)) throw errors.invalid(`'${param}.value' must be a string, number or boolean.`, `${param}.value`);
  return { type: o.type as 'eq', key: o.key, value: o.value };
}

function compare(a: Scalar, b: Scalar): number | undefined {
  if (typeof a !== typeof b) return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a file's attributes pass the filter. A missing attribute passes only `ne` and `nin`. */
export function matches(f: Filter, attrs: Attributes | null): boolean {
  if ('filters' in f) return f.type === 'and' ? f.filters.every((x) => matches(x, attrs)) : f.filters.some((x) => matches(x, attrs));
  const v = attrs?.[f.key];
  if (f.type === 'in' || f.type === 'nin') {
    const found = v !== undefined && f.value.some((x) => x === v);
    return f.type === 'in' ? found : !found;
  }
  if (v === undefined) return f.type === 'ne';
  const c = compare(v, f.value as Scalar);
  switch (f.type) {
    case 'eq': return c === 0;
    case 'ne': return c !== 0;
    case 'gt': return c !== undefined && c > 0;
    case 'gte': return c !== undefined && c >= 0;
    case 'lt': return c !== undefined && c < 0;
    case 'lte': return c !== undefined && c <= 0;
  }
}

/** Attributes of a file: at most 16, keys ≤ 64 characters, strings ≤ 512, numbers, booleans. */
export function checkAttributes(a: unknown, param: string): Attributes | null {
  if (a === undefined || a === null) return null;
  if (typeof a !== 'object' || Array.isArray(a)) throw errors.invalid(`'${param}' must be an object of strings, numbers and booleans.`, param);
  const entries = Object.entries(a);
  if (entries.length > 16) throw errors.invalid(`'${param}' can have at most 16 keys.`, param);
  for (const [k, v] of entries) {
    if (k.length > 64) throw errors.invalid(`'${param}' keys can be at most 64 characters.`, param);
    if (!isScalar(v) || (typeof v === 'string' && v.length > 512)) {
      throw errors.invalid(`'${param}.${k.slice(0, 64)}' must be a string of at most 512 characters, a number or a boolean.`, `${param}.${k.slice(0, 64)}`);
    }
  }
  return a as Attributes;
}
