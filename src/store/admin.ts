// The operator console's query (http/admin.ts): responses of every tenant, newest first, filtered.
// Served by the primary key's order (seq) and the existing indexes; the model filter reads the snapshot,
// so it scans — an operator's occasional query, never on the API's paths.
import type { ResponseRecord, ResponseStatus } from './types.js';

export interface AdminResponseQuery {
  /** Any of these statuses; empty or undefined = all. */
  status?: ResponseStatus[];
  /** The snapshot's `model`, exactly. */
  model?: string;
  tenant?: string;
  /** created_at >= createdAfter (unix seconds). */
  createdAfter?: number;
  /** created_at < createdBefore (unix seconds). */
  createdBefore?: number;
  /** Cursor: only responses older (lower seq) than this one; an unknown id gives no rows. */
  after?: string;
  limit: number;
}

export interface AdminResponseStore {
  /** Newest first, at most `limit` rows. */
  adminListResponses(q: AdminResponseQuery): Promise<ResponseRecord[]>;
}

/** The WHERE clause both stores build, with `ph(i)` their placeholder for the i-th (1-based) argument. */
export function adminWhere(q: AdminResponseQuery, ph: (i: number) => string, modelExpr: string): { where: string; args: unknown[] } {
  const conds: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => { args.push(v); return ph(args.length); };
  if (q.status?.length) conds.push(`status IN (${q.status.map(arg).join(', ')})`);
  if (q.model) conds.push(`${modelExpr} = ${arg(q.model)}`);
  if (q.tenant) conds.push(`tenant = ${arg(q.tenant)}`);
  if (q.createdAfter !== undefined) conds.push(`created_at >= ${arg(q.createdAfter)}`);
  if (q.createdBefore !== undefined) conds.push(`created_at < ${arg(q.createdBefore)}`);
  if (q.after) conds.push(`seq < (SELECT seq FROM responses WHERE id = ${arg(q.after)})`);
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', args };
}
