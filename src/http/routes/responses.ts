// /responses routes: thin adapters from HTTP to ResponsesService. Create and retrieve both get a
// ResponseHandle; every stream is that handle's events presented by pipeSse, whether it is a create,
// a retrieve or a resume.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { metrics } from '../../metrics/metrics.js';
import { parseInclude, presentInputItem, presentResponse } from '../../wire/include.js';
import type { ResponseHandle } from '../../responses/handle.js';
import { ErrorBody } from '../../wire/schemas/common.js';
import {
  CreateResponseBody, DeletedResponse, IdParams, InputItemsQuery, ListResponsesQuery, RetrieveQuery, UpdateResponseBody,
  type RetrieveQuery as RetrieveQueryT,
} from '../../wire/schemas/responses.js';
import type { AppDeps } from '../deps.js';
import { pipeSse, writeSseHead, type FrameOptions } from '../sse.js';
import { Cancel } from '../../util/cancel.js';
import { onHangUp } from '../hang-up.js';
import type { WebSocket } from 'ws';
import { ApiError, errors } from '../../wire/errors.js';
import { isStorageUnavailable } from '../../store/errors.js';

type IdReq = { Params: { response_id: string } };
const noop = () => {};
const errorResponses = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/**
 * Presents a handle's events as SSE; the handle is left (a foreground run stops) if the client goes first.
 * Also the operator console's stream (http/admin.ts): one presentation for every reader.
 */
export async function stream(req: FastifyRequest, reply: FastifyReply, h: ResponseHandle, startingAfter: number | undefined, opts: FrameOptions, release: () => void) {
  reply.hijack();
  const res = reply.raw;
  writeSseHead(res, req.id);
  metrics.streamOpened();
  const ctl = new Cancel();
  let finished = false;
  res.on('close', () => {
    if (!finished) {
      ctl.abort();
      h.leave();
    }
  });
  try {
    await pipeSse(res, h.events(startingAfter, ctl.signal), opts);
  } catch (err) {
    req.log.error({ err }, 'stream failed');
    // Never a silent close: an `error` event (the SDK throws it) says why and that resuming may work.
    const e = err instanceof ApiError ? err : isStorageUnavailable(err)
      ? errors.unavailable('The response store is unreachable; resume this stream with starting_after once it is back.', 'store_unavailable')
      : errors.internal();
    const { error } = e.toBody();
    if (!res.destroyed) res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', code: error.code, message: error.message, param: null, error })}\n\n`);
  } finally {
    finished = true;
    metrics.streamClosed();
    release();
    if (!res.destroyed) res.end();
  }
}

export const frameOptions = (h: ResponseHandle, obfuscate: boolean): FrameOptions => ({ obfuscate, rewrite: h.streamRewrite() });

/** `socket`: the WebSocket mode's presenter (routes/responses-ws.ts), served on GET /responses upgrades. */
export const responsesRoutes = (deps: AppDeps, socket?: (ws: WebSocket, req: FastifyRequest) => void): FastifyPluginAsync => async (app) => {
  const svc = deps.responses;
  const openStream = (tenant: string) => deps.limiter?.openStream(tenant) ?? noop;

  app.post<{ Body: CreateResponseBody }>('/responses', {
    schema: { body: CreateResponseBody, response: errorResponses, summary: 'Create a response', tags: ['responses'] },
  }, async (req, reply) => {
    const body = req.body;
    const release = body.stream ? openStream(req.owner.tenant) : noop;
    let h: ResponseHandle;
    try {
      h = await svc.create(req.owner, body);
    } catch (err) {
      release();
      throw err;
    }
    if (body.stream) {
      const opts = frameOptions(h, body.stream_options?.include_obfuscation ?? true);
      return stream(req, reply, h, -1, opts, release);
    }
    if (h.background) return reply.send(h.current());
    // A blocking caller that hangs up gets no answer: stop generating rather than run orphaned.
    onHangUp(reply.raw, () => h.leave());
    return reply.send(await h.settled());
  });

  // The same path with an Upgrade header is the WebSocket mode (after the same auth and rate-limit hook).
  app.route<{ Querystring: Record<string, unknown> }>({
    method: 'GET',
    url: '/responses',
    schema: { querystring: ListResponsesQuery, summary: 'List responses', tags: ['responses'] },
    wsHandler: socket,
    handler: async (req) => {
      const q = req.query as { after?: string; before?: string; limit?: number; order?: 'asc' | 'desc' };
      return svc.list(req.owner, { after: q.after, before: q.before, limit: q.limit ?? 20, order: q.order ?? 'desc' });
    },
  });

  app.get<IdReq & { Querystring: RetrieveQueryT }>('/responses/:response_id', {
    schema: { params: IdParams, querystring: RetrieveQuery, summary: 'Retrieve a response (JSON or SSE)', tags: ['responses'] },
  }, async (req, reply) => {
    const q = req.query;
    const h = await svc.open(req.owner, req.params.response_id, parseInclude(q.include, q['include[]']));
    if (!q.stream) return reply.type('application/json; charset=utf-8').send(await h.settledJson());
    // Only reading: leaving never stops the response.
    const release = openStream(req.owner.tenant);
    await stream(req, reply, h, q.starting_after, frameOptions(h, q.include_obfuscation ?? false), release);
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
