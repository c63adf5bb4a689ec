// /usage/responses: MKA1's responses usage (see usage/responses-usage.ts for the query and the page).
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';

export const usageRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  app.get('/usage/responses', { schema: { summary: 'Responses usage', tags: ['usage'] } }, async (req) =>
    deps.usage.responses(req.owner, req.query as Record<string, string | string[] | undefined>));
};
