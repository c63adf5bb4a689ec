// Steering's successor (see wire/steer.ts): the request that continues a steered response. OpenAI: an
// automatic successor "inherits the previous response's settings and continues from it with the queued
// input". Over the WebSocket the connection still holds the request it was created with; a background
// response steered over HTTP may run anywhere, so its settings are read back from the Response itself.
import type { Owner, ResponseRecord } from '../store/types.js';
import { ApiError, errors } from '../wire/errors.js';
import type { CreateResponseBody } from '../wire/schemas/responses.js';
import { isTerminalStatus } from '../wire/status.js';
import { joinSteerInputs, MAX_PENDING_STEERS, requiredInputs, steerError, type SteerInput } from '../wire/steer.js';
import type { ResponseObject } from '../wire/types.js';
import { endBackground, type EndDeps } from './end-background.js';
import type { ResponseHandle } from './handle.js';

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

/** What HTTP steering needs of the Responses service (responses/service.ts). */
export interface SteerHost extends EndDeps {
  load(owner: Owner, id: string): Promise<ResponseRecord>;
  current(rec: ResponseRecord): ResponseObject;
  create(owner: Owner, body: CreateResponseBody): Promise<ResponseHandle>;
}

/** Steering of one background response gathered on this instance: its inputs go to one successor. */
interface Gathering {
  inputs: SteerInput[];
  /** Set once the successor is being created: later input can no longer join it. */
  closed: boolean;
  done: Promise<ResponseHandle>;
}

/**
 * POST /responses/{id}/steer (respd's HTTP form of OpenAI's WebSocket `response.steer`): stops a
 * background response where it is (here, or through the ControlBus on the instance running it), so it
 * ends `incomplete` with reason `steered`, then creates its background successor with the input. Steers
 * of the same response arriving here meanwhile join that one successor, in submission order.
 */
export class HttpSteering {
  private readonly gathering = new Map<string, Gathering>();

  constructor(private readonly host: SteerHost) {}

  async steer(owner: Owner, id: string, input: SteerInput): Promise<ResponseHandle> {
    const { host } = this;
    const rec = await host.load(owner, id);
    if (!rec.background) {
      throw steerError('steering_not_supported', 'Only background responses can be steered over HTTP; steer a foreground response with a response.steer message on its WebSocket.', 'response_id');
    }
    const joining = this.gathering.get(id);
    if (joining && !joining.closed) {
      if (joining.inputs.length >= MAX_PENDING_STEERS) throw steerError('too_many_pending_steers', `Response '${id}' already has ${MAX_PENDING_STEERS} steering inputs pending.`, 'response_id');
      joining.inputs.push(input);
      return joining.done;
    }
    const state = joining ? { ...host.current(rec), status: 'incomplete' as const } : host.current(rec);
    if (state.conversation) throw steerError('steering_not_supported', 'Responses bound to a conversation cannot be steered.', 'response_id');
    const live = host.hub.local(id);
    if (isTerminalStatus(state.status) || live?.terminal) notSteerable(live?.state ?? state, 'response_id');
    const entry: Gathering = { inputs: [input], closed: false, done: undefined! };
    entry.done = (async () => {
      const ended = await endBackground(host, id, 'steer');
      if (!ended) throw errors.notFound('Response', id, 'response_id');
      entry.closed = true;
      if (successorBlocked(ended, 'response_id').length) {
        throw steerError('response_already_completed', `Response '${id}' completed waiting for tool output or approval; send those with your input in a new response (previous_response_id '${id}').`, 'response_id');
      }
      try {
        return await host.create(owner, successorBody(ended, joinSteerInputs(entry.inputs)));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        throw new ApiError('successor_creation_failed', `The steered response's successor could not be created: ${err.message}`, err.param, err.headers, err.status);
      }
    })();
    this.gathering.set(id, entry);
    try {
      return await entry.done;
    } finally {
      this.gathering.delete(id);
    }
  }
}
