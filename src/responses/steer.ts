// Steering's successor (see wire/steer.ts): the request that continues a steered response. OpenAI: an
// automatic successor "inherits the previous response's settings and continues from it with the queued
// input". Over the WebSocket the connection still holds the request it was created with; a background
// response steered over HTTP may run anywhere, so its settings are read back from the Response itself.
import { errors } from '../wire/errors.js';
import type { CreateResponseBody } from '../wire/schemas/responses.js';
import { requiredInputs, steerError } from '../wire/steer.js';
import type { ResponseObject } from '../wire/types.js';

/** The request of a steered response's successor, from the Response (defaults left out, so the upstream gets what was sent). */
export function successorBody(r: ResponseObject, input: Array<Record<string, unknown>>): CreateResponseBody {
  const body: Record<string, unknown> = {
    model: r.model, input, previous_response_id: r.id, store: r.store, background: r.background,
    max_tool_calls: r.max_tool_calls, metadata: r.metadata, text: r.text, tool_choice: r.tool_choice, tools: r.tools, truncation: r.truncation,
  };
  // The echoed defaults (temperature 1…) were not sent: the successor does not send them either.
  const set = (k: string, v: unknown, unset: unknown) => { if (v !== unset && v !== undefined) body[k] = v; };
  set('instructions', r.instructions, null);
  set('max_output_tokens', r.max_output_tokens, null);
  set('parallel_tool_calls', r.parallel_tool_calls, true);
  set('prompt_cache_key', r.prompt_cache_key, null);
  set('safety_identifier', r.safety_identifier, null);
  set('user', r.user, null);
  set('temperature', r.temperature, 1);
  set('top_p', r.top_p, 1);
  set('presence_penalty', r.presence_penalty, 0);
  set('frequency_penalty', r.frequency_penalty, 0);
  set('top_logprobs', r.top_logprobs, 0);
  const reasoning = r.reasoning as { effort: string | null; summary: string | null } | undefined;
  if (reasoning?.effort || reasoning?.summary) {
    body.reasoning = { ...(reasoning.effort ? { effort: reasoning.effort } : {}), ...(reasoning.summary ? { summary: reasoning.summary } : {}) };
  }
  return body as unknown as CreateResponseBody;
}

/**
 * Whether a response that has ended can take a successor with queued steering input: one steered or
 * ended normally can; one waiting for client tool output or approval cannot (the client must answer
 * those first: `response.steer.pending` over the WebSocket, a 409 over HTTP); a failed or cancelled one
 * is not active any more. Returns the stubs the response waits for (empty when it can continue).
 */
export function successorBlocked(r: ResponseObject, param = 'previous_response_id'): Array<Record<string, unknown>> {
  if (r.status === 'failed' || r.status === 'cancelled') {
    throw steerError('response_not_active', `Response '${r.id}' ended ${r.status}; it no longer accepts steering input.`, param);
  }
  if (r.status !== 'completed' && r.status !== 'incomplete') throw errors.internal(`Response '${r.id}' has not ended (${r.status}).`);
  return requiredInputs(r.output as Array<Record<string, any>>);
}

/** Why a response that has already ended refuses steering input (before any is accepted). */
export function notSteerable(r: ResponseObject, param = 'previous_response_id'): never {
  if (r.status === 'completed') {
    throw steerError('response_already_completed', `Response '${r.id}' has already completed; send your input as a new response with previous_response_id.`, param);
  }
  throw steerError('response_not_active', `Response '${r.id}' is ${r.status}; it no longer accepts steering input.`, param);
}
