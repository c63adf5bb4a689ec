// POST /responses/{id}/steer: respd's HTTP form of OpenAI's WebSocket `response.steer` (OpenAI has no
// HTTP endpoint for it), for background responses. The response is stopped where it runs — here, or
// through the ControlBus on the instance running it, as /wake and /cancel are delivered — and ends
// `incomplete` (reason `steered`); the answer names the background successor that takes the input.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { ErrorBody } from '../../wire/schemas/common.js';
import { IdParams } from '../../wire/schemas/responses.js';
import { newId } from '../../wire/ids.js';
import { presentResponse } from '../../wire/include.js';
import { checkSteerInput } from '../../wire/steer.js';

// The outer shape only; checkSteerInput words the steering rules (user messages, parts) as `invalid_input`.
const SteerBody = Type.Object({
  input: Type.Union([Type.String(), Type.Array(Type.Unknown())]),
}, { additionalProperties: false });

export const steerRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  app.post<{ Params: { response_id: string }; Body: { input: unknown } }>('/responses/:response_id/steer', {
    schema: {
      params: IdParams, body: SteerBody,
      summary: 'Steer a background response (respd extension)', tags: ['responses'],
    },
  }, async (req) => {
    const input = checkSteerInput(req.body.input);
    const successor = await deps.responses.steering.steer(req.owner, req.params.response_id, input);
    return {
      object: 'response.steer' as const,
      id: newId('steer'),
      previous_response_id: req.params.response_id,
      response: presentResponse(successor.current(), []),
    };
  });
};
