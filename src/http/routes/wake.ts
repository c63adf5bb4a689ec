// POST /responses/{id}/wake (MKA1 §2.5): hands follow-up input to a background response that is
// sleeping in a `sleep` tool call. Delivery is immediate on this instance and goes through the
// ControlBus to the instance running it otherwise; the answer only says the wake was accepted.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { ErrorBody } from '../../wire/schemas/common.js';
import { IdParams } from '../../wire/schemas/responses.js';

const WakeBody = Type.Object({ input: Type.String({ minLength: 1, maxLength: 20_000 }) }, { additionalProperties: false });
const WakeResult = Type.Object({
  object: Type.Literal('response.sleep_wake'),
  response_id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

export const wakeRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  app.post<{ Params: { response_id: string }; Body: { input: string } }>('/responses/:response_id/wake', {
    schema: {
      params: IdParams, body: WakeBody,
      response: { 200: WakeResult, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      summary: 'Wake a sleeping background response', tags: ['responses'],
    },
  }, async (req) => {
    await deps.responses.wake(req.owner, req.params.response_id, req.body.input);
    return { object: 'response.sleep_wake' as const, response_id: req.params.response_id, created_at: new Date().toISOString() };
  });
};
