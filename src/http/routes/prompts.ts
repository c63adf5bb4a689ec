// /prompts (MKA1): thin adapters to PromptsService (per owner).
import type { FastifyPluginAsync } from 'fastify';
import { ErrorBody } from '../../wire/schemas/common.js';
import { GetPromptQuery, JsonBody, ListPromptsQuery, PromptIdParams, VersionParams } from '../../wire/schemas/prompts.js';
import type { AppDeps } from '../deps.js';

type IdReq = { Params: { id: string } };
type ListQ = { Querystring: { after?: string; limit?: number; order?: 'asc' | 'desc' } };
const errorResponses = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };
const created = { 201: { type: 'object', additionalProperties: true }, ...errorResponses };

export const promptsRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  const p = deps.prompts;
  const tags = ['prompts'];
  const list = (q: ListQ['Querystring'], dflt: 'asc' | 'desc') => ({ after: q.after || undefined, limit: q.limit ?? 20, order: q.order ?? dflt });

  app.post('/prompts', {
    schema: { body: JsonBody, response: created, summary: 'Create a prompt (its version 1)', tags },
  }, async (req, reply) => reply.code(201).send(await p.create(req.owner, req.body)));
  app.get<ListQ>('/prompts', { schema: { querystring: ListPromptsQuery, summary: 'List prompts', tags } }, async (req) => p.list(req.owner, list(req.query, 'desc')));
  app.get<IdReq & { Querystring: { version?: string; variables?: string } }>('/prompts/:id', {
    schema: { params: PromptIdParams, querystring: GetPromptQuery, response: errorResponses, summary: 'Retrieve a prompt (optionally a version, rendered)', tags },
  }, async (req) => p.get(req.owner, req.params.id, req.query));
  const update = { schema: { params: PromptIdParams, body: JsonBody, response: errorResponses, summary: 'Update a prompt\'s name, description, metadata', tags } };
  app.post<IdReq>('/prompts/:id', update, async (req) => p.update(req.owner, req.params.id, req.body));
  app.patch<IdReq>('/prompts/:id', update, async (req) => p.update(req.owner, req.params.id, req.body));
  app.delete<IdReq>('/prompts/:id', {
    schema: { params: PromptIdParams, response: errorResponses, summary: 'Delete a prompt and all its versions', tags },
  }, async (req) => p.delete(req.owner, req.params.id));
  app.post<IdReq>('/prompts/:id/versions', {
    schema: { params: PromptIdParams, body: JsonBody, response: created, summary: 'Create a version (becomes active)', tags },
  }, async (req, reply) => reply.code(201).send(await p.addVersion(req.owner, req.params.id, req.body)));
  app.get<IdReq & ListQ>('/prompts/:id/versions', {
    schema: { params: PromptIdParams, querystring: ListPromptsQuery, summary: 'List versions (after = a version number)', tags },
  }, async (req) => p.listVersions(req.owner, req.params.id, list(req.query, 'desc')));
  app.get<{ Params: { id: string; version: string } }>('/prompts/:id/versions/:version', {
    schema: { params: VersionParams, response: errorResponses, summary: 'Retrieve one version', tags },
  }, async (req) => p.getVersion(req.owner, req.params.id, req.params.version));
  app.post<IdReq>('/prompts/:id/rollback', {
    schema: { params: PromptIdParams, body: JsonBody, response: errorResponses, summary: 'Make an earlier version active', tags },
  }, async (req) => p.rollback(req.owner, req.params.id, req.body));
};
