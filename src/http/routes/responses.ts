// /responses routes: thin adapters from HTTP to ResponsesService; every stream goes through
// readResponseLines + pipeSse, whether it is a create, a retrieve or a resume.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { LOGPROBS, logprobsStripper, parseInclude, presentInputItem, presentResponse } from '../../responses/include.js';
import { readResponseLines, type SeqLine } from '../../responses/stream-reader.js';
import { TERMINAL_STATUSES } from '../../store/types.js';
import { ErrorBody } from '../schemas/common.js';
import {
  CreateResponseBody, DeletedResponse, IdParams, InputItemsQuery, ListResponsesQuery, RetrieveQuery, UpdateResponseBody,
  type RetrieveQuery as RetrieveQueryT,
} from '../schemas/responses.js';
import type { AppDeps } from '../deps.js';
import { pipeSse, writeSseHead, type FrameOptions } from '../sse.js';
import { Cancel, type CancelSignal } from '../../util/cancel.js';
import { cancelOnHangUp } from '../hang-up.js';

type IdReq = { Params: { response_id: string } };
const noop = () => {};
const errorResponses = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/** Streams lines to the client; `onClose` runs if the client leaves before the end. */
async function stream(req: FastifyRequest, reply: FastifyReply, lines: (signal: CancelSignal) => AsyncIterable<SeqLine[]>, opts: FrameOptions, release: () => void, onClientGone?: () => void) {
  reply.hijack();
  const res = reply.raw;
  writeSseHead(res, req.id);
  const ctl = new Cancel();
  let finished = false;
  res.on('close', () => {
    if (!finished) {
      ctl.abort();
      onClientGone?.();
    }
  });
  try {
    await pipeSse(res, lines(ctl.signal), opts);
  } catch (err) {
    req.log.error({ err }, 'stream failed');
  } finally {
    finished = true;
    release();
    if (!res.destroyed) res.end();
  }
}

export const responsesRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  const svc = deps.responses;
  const readDeps = { store: svc.store, hub: svc.hub };
  const openStream = (tenant: string) => deps.limiter?.openStream(tenant) ?? noop;

  app.post<{ Body: CreateResponseBody }>('/responses', {
    schema: { body: CreateResponseBody, response: errorResponses, summary: 'Create a response', tags: ['responses'] },
  }, async (req, reply) => {
    const body = req.body;
    const release = body.stream ? openStream(req.owner.tenant) : noop;
    let created;
    try {
      created = await svc.create(req.owner, body);
    } catch (err) {
      release();
      throw err;
    }
    const { log, include, run, resolved } = created;
    const frameOpts: FrameOptions = {
      obfuscate: body.stream_options?.include_obfuscation ?? true,
      rewrite: include.includes(LOGPROBS) ? undefined : logprobsStripper,
    };
    const background = log.state.background;
    const controller = new Cancel();
    const running = background ? undefined : svc.executor.run(log, run, controller, resolved);
    if (body.stream) {
      // A foreground stream's client leaving stops the generation; a background one keeps running.
      await stream(req, reply, (signal) => readResponseLines(readDeps, log.id, -1, signal), frameOpts, release,
        background ? undefined : () => controller.abort('client_disconnected'));
      return;
    }
    if (background) return reply.send(presentResponse(log.state, include));
    // A blocking caller that hangs up gets no answer: stop generating rather than run orphaned.
    cancelOnHangUp(reply.raw, controller, 'client_disconnected');
    await running;
    await log.durable();
    return reply.send(presentResponse(log.state, include));
  });

  app.get<{ Querystring: Record<string, unknown> }>('/responses', {
    schema: { querystring: ListResponsesQuery, summary: 'List responses', tags: ['responses'] },
  }, async (req) => {
    const q = req.query as { after?: string; before?: string; limit?: number; order?: 'asc' | 'desc' };
    return svc.list(req.owner, { after: q.after, before: q.before, limit: q.limit ?? 20, order: q.order ?? 'desc' });
  });

  app.get<IdReq & { Querystring: RetrieveQueryT }>('/responses/:response_id', {
    schema: { params: IdParams, querystring: RetrieveQuery, summary: 'Retrieve a response (JSON or SSE)', tags: ['responses'] },
  }, async (req, reply) => {
    const q = req.query;
    const include = parseInclude(q.include, q['include[]']);
    let rec = await svc.load(req.owner, req.params.response_id);
    if (!q.stream) return reply.type('application/json; charset=utf-8').send(await svc.settledJson(rec, include));
    const live = svc.hub.local(rec.id);
    const finished = live ? live.terminal : TERMINAL_STATUSES.has(rec.status);
    const opts: FrameOptions = { obfuscate: q.include_obfuscation ?? false, rewrite: include.includes(LOGPROBS) ? undefined : logprobsStripper };
    // A finished response with no resume point: just its terminal event, then close.
    const after = q.starting_after ?? (finished ? (live ? live.nextSeq : rec.lastSeq + 1) - 2 : -1);
    const release = openStream(req.owner.tenant);
    // Only the id outlives this point: the record holds the stored snapshot (as large as the response),
    // and this suspended frame, holding its locals, lives as long as the stream, stalled or not.
    const id = rec.id;
    rec = undefined as never;
    await stream(req, reply, (signal) => readResponseLines(readDeps, id, after, signal), opts, release);
  });

  app.post<IdReq & { Body: { metadata: Record<string, string> | null } }>('/responses/:response_id', {
    schema: { params: IdParams, body: UpdateResponseBody, summary: 'Update response metadata', tags: ['responses'] },
  }, async (req) => presentResponse(await svc.updateMetadata(req.owner, req.params.response_id, req.body.metadata), []));

  app.delete<IdReq>('/responses/:response_id', {
    schema: { params: IdParams, response: { 200: DeletedResponse, ...errorResponses }, summary: 'Delete a response', tags: ['responses'] },
  }, async (req) => svc.delete(req.owner, req.params.response_id));

  app.post<IdReq>('/responses/:response_id/cancel', {
    schema: { params: IdParams, summary: 'Cancel a background response', tags: ['responses'] },
  }, async (req) => presentResponse(await svc.cancel(req.owner, req.params.response_id), []));

  app.get<IdReq & { Querystring: Record<string, any> }>('/responses/:response_id/input_items', {
    schema: { params: IdParams, querystring: InputItemsQuery, summary: 'List input items', tags: ['responses'] },
  }, async (req) => {
    const q = req.query;
    const include = parseInclude(q.include, q['include[]']);
    const page = await svc.inputItems(req.owner, req.params.response_id, { after: q.after, limit: q.limit ?? 20, order: q.order ?? 'desc' });
    return { ...page, data: page.data.map((it) => presentInputItem(it, include)) };
  });
};
