// GET /metrics in Prometheus text format. Tenants' keys never open it: on the API port it needs
// METRICS_TOKEN (a bearer token of its own); METRICS_PORT serves it on a listener of its own, bound to
// METRICS_HOST (loopback unless set), for scrapers that reach the instance on a private address.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import type { MetricsConfig } from '../config/metrics.js';
import { registry } from '../metrics/metrics.js';
import { errors } from '../wire/errors.js';

export const METRICS_PATH = '/metrics';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Answers the scrape, or a 401 in the OpenAI error shape when the token is required and missing. */
function handler(token: string | undefined) {
  const want = token ? digest(token) : undefined;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (want) {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      // Compared as digests: same length whatever was sent, so the comparison time tells nothing.
      if (!m || !timingSafeEqual(digest(m[1]), want)) {
        const e = errors.unauthorized('GET /metrics needs the metrics token (METRICS_TOKEN) as "Authorization: Bearer <token>".');
        return reply.code(e.status).header('connection', 'close').send(e.toBody());
      }
    }
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  };
}

/** On the API port, only when a token is configured (else the path stays unknown there). */
export const metricsRoute = (cfg: MetricsConfig): FastifyPluginAsync => async (app) => {
  if (cfg.token) app.get(METRICS_PATH, { schema: { hide: true } }, handler(cfg.token));
};

/** The listener of its own (METRICS_PORT); undefined when not configured. */
export async function startMetricsListener(cfg: MetricsConfig): Promise<{ url: string; close(): Promise<void> } | undefined> {
  if (cfg.port === undefined) return undefined;
  const app = Fastify({ logger: false });
  app.get(METRICS_PATH, handler(cfg.token));
  app.setNotFoundHandler((req, reply) => {
    const e = errors.routeNotFound(req.method, req.url);
    void reply.code(e.status).send(e.toBody());
  });
  await app.listen({ host: cfg.host, port: cfg.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  return { url: `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`, close: () => app.close() };
}
