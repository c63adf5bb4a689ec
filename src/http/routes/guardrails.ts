// /guardrails (MKA1): thin adapters to GuardrailsService (per key).
import type { FastifyPluginAsync } from 'fastify';
import { ErrorBody } from '../../wire/schemas/common.js';
import { JsonBody } from '../../wire/schemas/prompts.js';
import type { AppDeps } from '../deps.js';

const errorResponses = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

export const guardrailsRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  const g = deps.guardrails;
  const tags = ['guardrails'];
  app.get('/guardrails', { schema: { summary: 'Guardrail settings of this API key', tags } }, async (req) => g.get(req.owner.tenant));
  app.put('/guardrails', {
    schema: { body: JsonBody, response: errorResponses, summary: 'Replace the guardrail settings of this API key', tags },
  }, async (req) => g.put(req.owner.tenant, req.body));
  app.post('/guardrails/test', {
    schema: { body: JsonBody, response: errorResponses, summary: 'Test content against the guardrails (no model call)', tags },
  }, async (req) => g.test(req.owner.tenant, req.body));
};
