// The operator console (README "Operator console"): its page under /console and the JSON endpoints under
// /admin it calls, on when CONSOLE_ADMIN_KEY is set. The admin key is a bearer token of its own, compared
// as a digest in constant time (like METRICS_TOKEN); tenant keys never open /admin. Every action reuses
// the tenant path with the response's own owner: the stream is the same resumable SSE a client gets
// (routes/responses.ts), the cancel is ResponsesService.cancel.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleConfig } from '../config/console.js';
import type { AdminResponseQuery } from '../store/admin.js';
import type { Owner, ResponseRecord, ResponseStatus } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { presentResponse } from '../wire/include.js';
import type { AppDeps } from './deps.js';
import { frameOptions, stream } from './routes/responses.js';

/** Paths the tenant-key hook (app.ts) leaves alone: the admin key guards them here, or they are 404. */
export const isConsolePath = (path: string) => path.startsWith('/admin/') || path === '/console' || path.startsWith('/console/');

/** The page esbuild bundles into dist/console (npm run build); read once, served from memory. */
const ASSETS: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };
const ASSET_DIR = join(import.meta.dirname, '../../console');

const STATUSES: ReadonlySet<string> = new Set(['queued', 'in_progress', 'completed', 'failed', 'cancelled', 'incomplete']);
const MAX_LIMIT = 100;

const digest = (s: string) => createHash('sha256').update(s).digest();

type Q = Record<string, string | undefined>;

/** A unix-seconds bound: an integer or an ISO date. */
function timeParam(q: Q, name: string): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Math.floor(Date.parse(v) / 1000);
  if (!Number.isFinite(n)) throw errors.invalid(`Invalid value for '${name}': expected unix seconds or an ISO 8601 date.`, name);
  return n;
}

export function parseAdminQuery(q: Q): AdminResponseQuery {
  const status = q.status ? q.status.split(',').filter(Boolean) : [];
  const bad = status.find((s) => !STATUSES.has(s));
  if (bad) throw errors.invalid(`Invalid value for 'status': '${bad.slice(0, 50)}' (expected ${[...STATUSES].join(', ')}).`, 'status');
  let limit = 20;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!/^\d+$/.test(q.limit) || limit < 1 || limit > MAX_LIMIT) throw errors.invalid(`Invalid value for 'limit': expected an integer from 1 to ${MAX_LIMIT}.`, 'limit');
  }
  return {
    status: status as ResponseStatus[], model: q.model || undefined, tenant: q.tenant || undefined,
    createdAfter: timeParam(q, 'created_after'), createdBefore: timeParam(q, 'created_before'), after: q.after || undefined, limit,
  };
}

export const adminRoutes = (deps: AppDeps, cfg: ConsoleConfig): FastifyPluginAsync => async (app) => {
  const svc = deps.responses;
  const want = digest(cfg.adminKey);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.url.startsWith('/admin/')) return;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]), want)) {
      const e = errors.unauthorized('The admin endpoints need the console admin key (CONSOLE_ADMIN_KEY) as "Authorization: Bearer <key>"; tenant keys do not open them.');
      return reply.code(e.status).header('connection', 'close').send(e.toBody());
    }
  });

  // The page: read once at start-up (a missing build says so instead of a blank page).
  const assets = new Map<string, Buffer>();
  for (const name of Object.keys(ASSETS)) {
    try { assets.set(name, readFileSync(join(ASSET_DIR, name))); } catch { /* reported per request */ }
  }
  const serve = (name: string) => async (_req: FastifyRequest, reply: FastifyReply) => {
    const body = assets.get(name);
    if (!body) return reply.code(503).type('text/plain').send(`The console is not built (${join(ASSET_DIR, name)} is missing): run npm run build.`);
    return reply.type(ASSETS[name]).header('cache-control', 'no-cache').send(body);
  };
  app.get('/console', { schema: { hide: true } }, serve('index.html'));
  for (const name of Object.keys(ASSETS)) app.get(`/console/${name}`, { schema: { hide: true } }, serve(name));

  /** A response of any tenant, and its owner (the tenant paths below are called as that owner). */
  async function find(id: string): Promise<{ rec: ResponseRecord; owner: Owner }> {
    const pending = svc.hub.local(id)?.pendingCreate?.record; // before the read: see ResponsesService.load
    const rec = (await svc.store.getResponse(id)) ?? pending;
    if (!rec) throw errors.notFound('Response', id, 'response_id');
    return { rec, owner: { tenant: rec.tenant, endUser: rec.endUser } };
  }

  const summary = (rec: ResponseRecord) => {
    const r = svc.current(rec) as unknown as Record<string, any>;
    return {
      id: rec.id, tenant: rec.tenant, end_user: rec.endUser, status: r.status ?? rec.status, model: r.model ?? null,
      background: rec.background, created_at: rec.createdAt, usage: r.usage ?? null,
    };
  };

  app.get<{ Querystring: Q }>('/admin/responses', { schema: { hide: true } }, async (req) => {
    const q = parseAdminQuery(req.query);
    const rows = await svc.store.adminListResponses({ ...q, limit: q.limit + 1 });
    const data = rows.slice(0, q.limit).map(summary);
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > q.limit };
  });

  type IdReq = { Params: { id: string } };
  app.get<IdReq>('/admin/responses/:id', { schema: { hide: true } }, async (req) => {
    const { rec, owner } = await find(req.params.id);
    const input = await svc.inputItems(owner, rec.id, { limit: MAX_LIMIT, order: 'asc' });
    return { ...summary(rec), response: svc.current(rec), input_items: input.data, input_items_more: input.has_more };
  });

  // The same resumable stream a client gets (starting_after); reading never stops the response.
  app.get<IdReq & { Querystring: Q }>('/admin/responses/:id/stream', { schema: { hide: true } }, async (req, reply) => {
    const raw = req.query.starting_after;
    if (raw !== undefined && !/^-?\d+$/.test(raw)) throw errors.invalid("Invalid value for 'starting_after': expected an integer.", 'starting_after');
    const { rec, owner } = await find(req.params.id);
    const h = await svc.open(owner, rec.id, []);
    await stream(req, reply, h, raw === undefined ? undefined : Number(raw), frameOptions(h, false), () => {});
  });

  app.post<IdReq>('/admin/responses/:id/cancel', { schema: { hide: true } }, async (req) => {
    const { rec, owner } = await find(req.params.id);
    return presentResponse(await svc.cancel(owner, rec.id), []);
  });
};
