// MKA1's responses usage endpoint (GET /usage/responses): query parsing, bucketing and the page shape
// (`page` of `bucket`s of `organization.usage.responses.result`s). Sums come from the store
// (Store.usageRows), grouped there by bucket × end user × model × background and rolled up here to the
// dimensions the caller asked for.
import type { UsageRow } from '../store/types.js';
import { errors } from '../wire/errors.js';

const WIDTHS = { '1m': 60, '1h': 3600, '1d': 86_400 } as const;
type Width = keyof typeof WIDTHS;
// OpenAI's usage API: default and largest number of buckets a page holds, per width.
const LIMITS: Record<Width, { dflt: number; max: number }> = { '1m': { dflt: 60, max: 1440 }, '1h': { dflt: 24, max: 168 }, '1d': { dflt: 7, max: 31 } };
const GROUPS = ['user_id', 'api_key_id', 'model', 'background'] as const;
type Group = (typeof GROUPS)[number];
const PARAMS = new Set(['start_time', 'end_time', 'bucket_width', 'limit', 'page', 'user_ids', 'models', 'group_by', 'background']);

export interface UsageParams {
  start: number;
  end: number;
  width: number;
  limit: number;
  /** Start of this page's first bucket. */
  pageStart: number;
  userIds?: Set<string>;
  models?: Set<string>;
  groupBy: Set<Group>;
  background?: boolean;
}

type RawQuery = Record<string, string | string[] | undefined>;

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

export function parseUsageQuery(input: RawQuery, now = Math.floor(Date.now() / 1000)): UsageParams {
  // `user_ids[]=a` (the form some clients send for arrays) is the same as `user_ids=a`.
  const q: RawQuery = {};
  for (const [k, v] of Object.entries(input)) {
    const key = k.endsWith('[]') ? k.slice(0, -2) : k;
    if (!PARAMS.has(key)) throw errors.invalid(`Unknown parameter: '${k}'.`, k, 'unknown_parameter');
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

  const groupBy = new Set<Group>();
  for (const g of list(q, 'group_by') ?? []) {
    if (!(GROUPS as readonly string[]).includes(g)) throw errors.invalid(`'group_by' values must be among ${GROUPS.join(', ')}, got '${g}'.`, 'group_by');
    groupBy.add(g as Group);
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

export interface UsageResult {
  object: 'organization.usage.responses.result';
  input_tokens: number;
  output_tokens: number;
  input_cached_tokens: number;
  output_reasoning_tokens: number;
  num_model_requests: number;
  user_id: string | null;
  api_key_id: string | null;
  model: string | null;
  background: boolean | null;
}

/** The page the endpoint answers, from the store's rows of this page's buckets. */
export function usagePage(p: UsageParams, rows: UsageRow[], apiKeyId: string) {
  const { firstBucket, buckets, hasMore } = pageSpan(p);
  const byBucket = new Map<number, Map<string, UsageResult>>();
  for (const r of rows) {
    if (r.bucket < firstBucket || r.bucket >= firstBucket + buckets) continue;
    const userId = r.endUser || null;
    if (p.userIds && !p.userIds.has(userId ?? '')) continue;
    if (p.models && !p.models.has(r.model)) continue;
    if (p.background !== undefined && r.background !== p.background) continue;
    const dims = {
      user_id: p.groupBy.has('user_id') ? userId : null,
      api_key_id: p.groupBy.has('api_key_id') ? apiKeyId : null,
      model: p.groupBy.has('model') ? r.model : null,
      background: p.groupBy.has('background') ? r.background : null,
    };
    const key = JSON.stringify(dims);
    let results = byBucket.get(r.bucket);
    if (!results) byBucket.set(r.bucket, (results = new Map()));
    let acc = results.get(key);
    if (!acc) {
      acc = { object: 'organization.usage.responses.result', input_tokens: 0, output_tokens: 0, input_cached_tokens: 0, output_reasoning_tokens: 0, num_model_requests: 0, ...dims };
      results.set(key, acc);
    }
    acc.input_tokens += r.inputTokens;
    acc.output_tokens += r.outputTokens;
    acc.input_cached_tokens += r.cachedTokens;
    acc.output_reasoning_tokens += r.reasoningTokens;
    acc.num_model_requests += r.responses;
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
