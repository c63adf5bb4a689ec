// MKA1's usage endpoints: /usage/responses, /usage/completions and /usage/conversations (see usage/query.ts
// for the query and the page, usage/*-usage.ts for each endpoint's results).
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import type { RawQuery } from '../../usage/query.js';

export const usageRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  const tags = ['usage'];
  app.get('/usage/responses', { schema: { summary: 'Responses usage', tags } }, async (req) =>
    deps.usage.responses(req.owner, req.query as RawQuery));
  app.get('/usage/completions', { schema: { summary: 'Chat completions usage (from the usage ledger)', tags } }, async (req) =>
    deps.usage.completions(req.owner, req.query as RawQuery));
  app.get('/usage/conversations', { schema: { summary: 'Conversations usage', tags } }, async (req) =>
    deps.usage.conversations(req.owner, req.query as RawQuery));
};
