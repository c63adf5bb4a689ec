// POST /embeddings: a thin adapter to the embeddings service.
import type { FastifyPluginAsync } from 'fastify';
import { createEmbeddings, type EmbeddingBody } from '../../embeddings/service.js';
import { CreateEmbeddingBody } from '../../wire/schemas/embeddings.js';
import type { AppDeps } from '../deps.js';

export const embeddingsRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  app.post<{ Body: EmbeddingBody }>('/embeddings', {
    schema: { body: CreateEmbeddingBody, summary: 'Create embeddings', tags: ['embeddings'] },
  }, async (req) => createEmbeddings(deps.router, req.body));
};
