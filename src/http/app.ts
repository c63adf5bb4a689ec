// The Fastify application: validation (two Ajv instances: bodies are never type-coerced, query strings
// are), auth, request ids, the error catalogue, the OpenAPI document, and one plugin per resource.
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { Ajv } from 'ajv';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Owner } from '../store/types.js';
import { ownerOf, type KeyRing } from './auth.js';
import { ApiError, errors } from '../wire/errors.js';
import { chatCompletionsRoutes } from './routes/chat-completions.js';
import { compactRoutes } from './routes/compact.js';
import { conversationsRoutes } from './routes/conversations.js';
import { filesRoutes } from './routes/files.js';
import { containersRoutes } from './routes/containers.js';
import { vectorStoresRoutes } from './routes/vector-stores.js';
import { embeddingsRoutes } from './routes/embeddings.js';
import { modelsRoutes } from './routes/models.js';
import { responsesRoutes } from './routes/responses.js';
import { responsesSocket } from './routes/responses-ws.js';
import { wakeRoutes } from './routes/wake.js';
import { steerRoutes } from './routes/steer.js';
import { usageRoutes } from './routes/usage.js';
import { guardrailsRoutes } from './routes/guardrails.js';
import { promptsRoutes } from './routes/prompts.js';
import type { AppDeps } from './deps.js';
import { isStorageUnavailable } from '../store/errors.js';
import { applyConnectionLimits, serverOptions } from './limits.js';
import { METRICS_PATH, metricsRoute } from './metrics.js';
import { metrics } from '../metrics/metrics.js';
import { adminRoutes, isConsolePath } from './admin.js';

declare module 'fastify' {
  interface FastifyRequest {
    owner: Owner;
  }
}

export const API_PREFIX = '/api/v1/llm';
const REQUEST_ID = /^[\x21-\x7E]{1,200}$/;

function paramOf(instancePath: string, extra?: string): string | null {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || null;
}

type AjvError = { instancePath: string; keyword: string; message?: string; params: Record<string, any> };

// With unions (anyOf), Ajv reports every branch's failure; the most telling one is rarely the first
// (e.g. "unknown property" from a branch the client never meant). Rank them instead.
const RANK: Record<string, number> = { anyOf: -1, const: 0, enum: 0, additionalProperties: 1, type: 2 };
function mostTelling(errs: AjvError[]): AjvError | undefined {
  if (!errs.some((e) => e.keyword === 'anyOf')) return errs[0];
  let best = errs[0];
  for (const e of errs) if ((RANK[e.keyword] ?? 3) > (RANK[best.keyword] ?? 3)) best = e;
  return best;
}

export function validationError(err: FastifyError): ApiError {
  const first = mostTelling((err.validation ?? []) as AjvError[]);
  if (!first) return errors.invalid(err.message);
  if (first.keyword === 'additionalProperties') {
    const param = paramOf(first.instancePath, first.params.additionalProperty);
    return errors.invalid(`Unknown parameter: '${param}'.`, param, 'unknown_parameter');
  }
  if (first.keyword === 'required') {
    return errors.missing(paramOf(first.instancePath, first.params.missingProperty) ?? 'body');
  }
  const param = paramOf(first.instancePath) ?? (err.validationContext === 'body' ? 'body' : null);
  return errors.invalid(`Invalid value for '${param ?? err.validationContext}': ${first.message ?? 'invalid'}.`, param);
}

export async function buildApp(deps: AppDeps, logger: Logger, keys: KeyRing, bodyLimit: number): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    // Per-request log lines cost more than the requests on the hot path; errors are logged explicitly.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    ...serverOptions(deps.config.http),
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
    routerOptions: { maxParamLength: 500, ignoreTrailingSlash: true },
    // Router-level failures (malformed URL encoding, over-long ids) bypass the error handler: answer
    // them in the same OpenAI shape.
    frameworkErrors: (err, req, reply) => {
      reply.header('x-request-id', req.id);
      const e = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? errors.invalid('A path parameter is too long.', null, 'invalid_path')
        : errors.invalid(`Malformed request URL: ${err.message}`, null, 'invalid_url');
      void (reply as unknown as FastifyReply).code(e.status).send(e.toBody());
    },
  });

  applyConnectionLimits(app.server, deps.config.http);

  const bodyAjv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false });
  const queryAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));

  // An empty body is no body, whatever its Content-Type: the Python SDK sends `application/json` with
  // content-length 0 on delete and cancel. A body that is present and malformed stays invalid_json.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body.length === 0) done(null, undefined);
    else parseJson(req, body as string, done);
  });
  // A route that takes a body but got none validates an empty object, so a required body names the
  // missing parameter (as OpenAI does) and an optional one behaves as if `{}` was sent.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.routeOptions.schema?.body) req.body = {};
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'respd — Responses API', version: '0.1.0', description: 'MKA1 /api/v1/llm Responses API, OpenAI compatible.' },
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // WebSocket mode (GET /responses with an Upgrade): the upgrade request passes the same onRequest hook
  // (auth, rate limit) before the socket opens; a refused one is answered in HTTP.
  await app.register(websocket, { options: { maxPayload: bodyLimit } });

  app.decorateRequest('owner', null as unknown as Owner);
  // /metrics has a token of its own (http/metrics.ts), never a tenant's key.
  const publicPaths = new Set([`${API_PREFIX}/openapi.json`, '/healthz', METRICS_PATH]);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    const path = req.url.split('?')[0];
    // The console's paths: the admin key guards them (http/admin.ts), or they are 404 when it is off.
    if (publicPaths.has(path) || isConsolePath(path)) return;
    const owner = ownerOf(keys, req.headers);
    req.owner = owner instanceof Promise ? await owner : owner;
    deps.limiter?.hit(req.owner.tenant);
  });

  // Counted by route pattern (bounded label values), not by URL; unknown routes share one label.
  app.addHook('onResponse', (req, reply, done) => {
    metrics.httpRequest(req.method, req.routeOptions.url ?? 'unknown', reply.statusCode);
    done();
  });

  // Known paths, to tell "wrong method" (405) from "no such route" (404).
  const known: RegExp[] = [];
  app.addHook('onRoute', (r) => {
    known.push(new RegExp(`^${r.url.replace(/:[^/]+/g, '[^/]+')}/?$`));
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (err.validation) e = validationError(err);
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = errors.tooLarge(bodyLimit);
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') e = new ApiError('unsupported_media_type', `Unsupported Content-Type; send application/json.`);
    else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || err.statusCode === 400) {
      e = errors.invalid(`We could not parse the JSON body of your request: ${err.message}`, null, 'invalid_json');
    } else if (isStorageUnavailable(err)) {
      // The store is busy, full or unreachable: a clear, retryable 503; nothing half-written (every
      // store write is one transaction).
      req.log.warn({ err }, 'store unavailable');
      e = errors.unavailable('The response store is temporarily unavailable (busy, full or unreachable); retry shortly.', 'store_unavailable');
      e.headers['retry-after'] = '1';
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      e = new ApiError('invalid_request', err.message, null, {}, err.statusCode);
    } else {
      req.log.error({ err }, 'unhandled error');
      e = errors.internal();
    }
    if (reply.sent || reply.raw.headersSent) return;
    // An unauthenticated client gets no keep-alive connection to hold on to.
    if (e.status === 401) void reply.header('connection', 'close');
    void reply.code(e.status).headers(e.headers).send(e.toBody());
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const e = known.some((re) => re.test(path)) ? errors.methodNotAllowed(req.method, req.url) : errors.routeNotFound(req.method, req.url);
    void reply.code(e.status).send(e.toBody());
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  await app.register(metricsRoute(deps.config.metrics));
  if (deps.config.console) await app.register(adminRoutes(deps, deps.config.console));
  await app.register(async (api) => {
    api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    await api.register(responsesRoutes(deps, responsesSocket({ deps, validationError })));
    await api.register(wakeRoutes(deps));
    await api.register(steerRoutes(deps));
    await api.register(modelsRoutes(deps));
    await api.register(chatCompletionsRoutes(deps));
    await api.register(conversationsRoutes(deps));
    await api.register(compactRoutes(deps));
    await api.register(filesRoutes(deps));
    await api.register(containersRoutes(deps));
    await api.register(vectorStoresRoutes(deps));
    await api.register(embeddingsRoutes(deps));
    await api.register(usageRoutes(deps));
    await api.register(guardrailsRoutes(deps));
    await api.register(promptsRoutes(deps));
  }, { prefix: API_PREFIX });
  return app as unknown as FastifyInstance;
}
