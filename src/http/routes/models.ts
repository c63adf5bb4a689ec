// /models: what the configuration serves, `auto` included, in the reference's model shape.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { errors } from '../../wire/errors.js';
import type { AppDeps } from '../deps.js';

export const modelsRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  app.get('/models', { schema: { summary: 'List models', tags: ['models'] } }, async () => ({
    object: 'list', data: await deps.router.listModels(),
  }));

  app.get<{ Params: { model_id: string } }>('/models/:model_id', {
    schema: { params: Type.Object({ model_id: Type.String({ minLength: 1, maxLength: 256 }) }), summary: 'Retrieve a model', tags: ['models'] },
  }, async (req) => {
    const id = req.params.model_id;
    const found = (await deps.router.listModels()).find((m) => m.id === id);
    if (!found) throw errors.notFound('Model', id, 'model_id');
    return found;
  });
};
