// POST /responses/compact (MKA1 §2.5, OpenAI responses.compact): see conversations/compact.ts.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { compact, type CompactBody } from '../../responses/compact.js';
import { AnyObject, ErrorBody, Nullable } from '../../wire/schemas/common.js';
import type { AppDeps } from '../deps.js';
import { cancelOnHangUp } from '../hang-up.js';

const CompactRequest = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 256 }),
  input: Type.Optional(Nullable(Type.Union([Type.String({ maxLength: 4_000_000 }), Type.Array(AnyObject, { maxItems: 10_000 })]))),
  instructions: Type.Optional(Nullable(Type.String())),
  previous_response_id: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  prompt_cache_key: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
}, { additionalProperties: false });

export const compactRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  app.post<{ Body: CompactBody }>('/responses/compact', {
    schema: { body: CompactRequest, response: { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody }, summary: 'Compact a conversation into user messages and a summary', tags: ['responses'] },
  }, async (req, reply) => {
    // A caller that hangs up does not need its summary: stop generating.
    return compact(deps, req.owner, req.body, cancelOnHangUp(reply.raw).signal);
  });
};
