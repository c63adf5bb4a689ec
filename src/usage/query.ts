// The query every MKA1 usage endpoint takes (start_time, end_time, bucket_width, limit, page, user_ids,
// group_by, and per endpoint models / background), and the paging over buckets it implies. Each endpoint
// names its own group_by values and extra filters (UsageSpec); the parsing and the cursors are shared.
import { errors } from '../wire/errors.js';

const WIDTHS = { '1m': 60, '1h': 3600, '1d': 86_400 } as const;
type Width = keyof typeof WIDTHS;
// OpenAI's usage API: default and largest number of buckets a page holds, per width.
const LIMITS: Record<Width, { dflt: number; max: number }> = { '1m': { dflt: 60, max: 1440 }, '1h': { dflt: 24, max: 168 }, '1d': { dflt: 7, max: 31 } };
const COMMON = ['start_time', 'end_time', 'bucket_width', 'limit', 'page', 'user_ids', 'group_by'];

/** What one endpoint accepts beyond the common parameters. */
export interface UsageSpec {
  groups: readonly string[];
  /** `models` filter (endpoints with a model per row). */
  models?: boolean;
  /** `background` filter (responses). */
  background?: boolean;
}

export interface UsageParams {
  start: number;
  end: number;
  width: number;
  limit: number;
  /** Start of this page's first bucket. */
  pageStart: number;
  userIds?: Set<string>;
  models?: Set<string>;
  groupBy: Set<string>;
  background?: boolean;
}

export type RawQuery = Record<string, string | string[] | undefined>;

function one(q: RawQuery, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) {
    if (v.length > 1) throw errors.invalid(`'${name}' may be given once.`, name);
    return v[0];
  }
  return v;
}

function list(q: RawQuery, name: string): string[] | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  // Repeated (`models=a&models=b`) or comma separated (`models=a,b`).
  const out = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (!out.length) throw errors.invalid(`'${name}' must name at least one value.`, name);
  return out;
}

function unixTime(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,12}$/.test(raw)) throw errors.invalid(`'${name}' must be a unix time in seconds, got '${raw}'.`, name);
  return Number(raw);
}

/** Page cursors name the start of the next page's first bucket. */
const encodePage = (start: number) => `page_${start.toString(36)}`;

export function parseUsageQuery(input: RawQuery, spec: UsageSpec, now = Math.floor(Date.now() / 1000)): UsageParams {
  const params = new Set([...COMMON, ...(spec.models ? ['models'] : []), ...(spec.background ? ['background'] : [])]);
  // `user_ids[]=a` (the form some clients send for arrays) is the same as `user_ids=a`.
  const q: RawQuery = {};
  for (const [k, v] of Object.entries(input)) {
    const key = k.endsWith('[]') ? k.slice(0, -2) : k;
    if (!params.has(key)) throw errors.invalid(`Unknown parameter: '${k}'.`, k, 'unknown_parameter');
    const prev = q[key];
    q[key] = prev === undefined ? v : ([] as string[]).concat(prev, v ?? []);
  }
  const start = unixTime(one(q, 'start_time'), 'start_time');
  if (start === undefined) throw errors.missing('start_time');
  const end = unixTime(one(q, 'end_time'), 'end_time') ?? Math.max(now, start + 1);
  if (end <= start) throw errors.invalid(`'end_time' must be after 'start_time'.`, 'end_time');

  const widthName = (one(q, 'bucket_width') ?? '1d') as Width;
  if (!Object.hasOwn(WIDTHS, widthName)) throw errors.invalid(`'bucket_width' must be one of 1m, 1h, 1d, got '${widthName}'.`, 'bucket_width');
  const width = WIDTHS[widthName];
  const { dflt, max } = LIMITS[widthName];
  const rawLimit = one(q, 'limit');
  const limit = rawLimit === undefined ? dflt : /^\d{1,5}$/.test(rawLimit) ? Number(rawLimit) : NaN;
  if (!(limit >= 1 && limit <= max)) throw errors.invalid(`'limit' must be an integer from 1 to ${max} for bucket_width ${widthName}, got '${rawLimit}'.`, 'limit');

  let pageStart = start;
  const page = one(q, 'page');
  if (page !== undefined) {
    const m = /^page_([0-9a-z]{1,10})$/.exec(page);
    pageStart = m ? parseInt(m[1], 36) : NaN;
    // A cursor only ever names a bucket boundary inside the window it was made for.
    if (!(pageStart >= start && pageStart < end && (pageStart - start) % width === 0)) throw errors.invalid(`'page' is not a cursor of this query.`, 'page');
  }

  const groupBy = new Set<string>();
  for (const g of list(q, 'group_by') ?? []) {
    if (!spec.groups.includes(g)) throw errors.invalid(`'group_by' values must be among ${spec.groups.join(', ')}, got '${g}'.`, 'group_by');
    groupBy.add(g);
  }
  const bg = one(q, 'background');
  if (bg !== undefined && bg !== 'true' && bg !== 'false') throw errors.invalid(`'background' must be true or false, got '${bg}'.`, 'background');
  const userIds = list(q, 'user_ids');
  const models = list(q, 'models');
  return {
    start, end, width, limit, pageStart, groupBy,
    userIds: userIds && new Set(userIds), models: models && new Set(models),
    background: bg === undefined ? undefined : bg === 'true',
  };
}

/** The buckets of this page: [pageStart, pageEnd), at most `limit` of them. */
export function pageSpan(p: UsageParams): { firstBucket: number; buckets: number; hasMore: boolean } {
  const firstBucket = (p.pageStart - p.start) / p.width;
  const total = Math.ceil((p.end - p.start) / p.width);
  const buckets = Math.min(p.limit, total - firstBucket);
  return { firstBucket, buckets, hasMore: firstBucket + buckets < total };
}

/** The store window of this page: [start, end) with bucket numbers counted from `start`. */
export function pageWindow(p: UsageParams): { start: number; end: number; width: number; firstBucket: number } {
  const { firstBucket, buckets } = pageSpan(p);
  const start = p.start + firstBucket * p.width;
  return { start, end: Math.min(p.end, start + buckets * p.width), width: p.width, firstBucket };
}

/** A store row: its bucket (page-relative numbering fixed by the caller) and the end user it belongs to. */
export interface BucketRow { bucket: number; endUser: string; model?: string }

/**
 * The page: every bucket of the span (empty ones included), each with the rows rolled up to the
 * dimensions asked for. `dims` names a row's group (null for a dimension not grouped by); `empty` makes
 * a result for a group and `add` sums a row into it. user_ids and models filters apply here.
 */
export function bucketPage<R extends BucketRow, T>(p: UsageParams, rows: R[], fns: {
  keep?: (r: R) => boolean;
  dims: (r: R, userId: string | null) => Record<string, unknown>;
  empty: (dims: Record<string, unknown>) => T;
  add: (acc: T, r: R) => void;
}) {
  const { firstBucket, buckets, hasMore } = pageSpan(p);
  const byBucket = new Map<number, Map<string, T>>();
  for (const r of rows) {
    if (r.bucket < firstBucket || r.bucket >= firstBucket + buckets) continue;
    const userId = r.endUser || null;
    if (p.userIds && !p.userIds.has(userId ?? '')) continue;
    if (p.models && !p.models.has(r.model ?? '')) continue;
    if (fns.keep && !fns.keep(r)) continue;
    const dims = fns.dims(r, userId);
    const key = JSON.stringify(dims);
    let results = byBucket.get(r.bucket);
    if (!results) byBucket.set(r.bucket, (results = new Map()));
    let acc = results.get(key);
    if (!acc) results.set(key, (acc = fns.empty(dims)));
    fns.add(acc, r);
  }
  const data = [];
  for (let b = firstBucket; b < firstBucket + buckets; b++) {
    const start_time = p.start + b * p.width;
    data.push({
      object: 'bucket' as const, start_time, end_time: Math.min(start_time + p.width, p.end),
      results: [...(byBucket.get(b)?.values() ?? [])],
    });
  }
  const nextStart = p.start + (firstBucket + buckets) * p.width;
  return { object: 'page' as const, data, has_more: hasMore, next_page: hasMore ? encodePage(nextStart) : null };
}
