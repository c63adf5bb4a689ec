// Steering on a WebSocket connection to /responses (OpenAI's beta `response.steer`, wire/steer.ts):
// which of the connection's responses may be steered, the input queued for each, and the
// `response.steer.accepted / pending / failed` events. The first input queued for a running response
// stops its run (it ends `incomplete`, reason `steered`); when its terminal event has gone out, the
// turn (responses-ws.ts) creates the successor on the same lane with everything queued, in order.
// A response that ended waiting for client tool output or approval keeps the input queued
// (`response.steer.pending`) for the client's next `response.create` continuing it.
// Steer events are not part of any response's log: their `sequence_number` repeats that of the last
// event of the target response sent before them.
import type { ApiError, ErrorCode } from '../wire/errors.js';
import { newId } from '../wire/ids.js';
import { checkSteerInput, joinSteerInputs, MAX_PENDING_STEERS, requiredInputs, steerError, type SteerInput } from '../wire/steer.js';
import type { ResponseObject } from '../wire/types.js';

interface Queued {
  id: string;
  input: SteerInput;
}

interface Target {
  streamId: string | undefined;
  /** The last sequence number sent for this response. */
  lastSeq: number;
  /** False once its terminal event went out: no more input is accepted for it. */
  open: boolean;
  conversation: boolean;
  queue: Queued[];
}

/** Ended responses remembered, so a late steer is told "already completed" rather than "not found". */
const ENDED_KEPT = 64;

export class ConnectionSteers {
  private readonly targets = new Map<string, Target>();
  private readonly ended = new Map<string, string>();
  /** Input accepted for a response that completed waiting for client tool output, by its id. */
  private readonly pending = new Map<string, Queued[]>();

  constructor(
    /** Stops a running response (true when a run was stopped). */
    private readonly stop: (id: string) => boolean,
    private readonly send: (json: string) => void,
  ) {}

  /** A response of this connection started: it may be steered until its terminal event is sent. */
  started(r: ResponseObject, streamId: string | undefined): void {
    this.targets.set(r.id, { streamId, lastSeq: -1, open: true, conversation: r.conversation != null, queue: [] });
  }

  /** An event of `id` was sent; at its terminal event, whether the lane must stay held for a successor. */
  sent(id: string, seq: number, terminal: boolean): boolean {
    const t = this.targets.get(id);
    if (!t) return false;
    t.lastSeq = seq;
    if (terminal) t.open = false;
    return terminal && t.queue.length > 0;
  }

  /** A `response.steer` message. */
  steer(msg: Record<string, unknown>): void {
    const { type: _type, previous_response_id: prev, input, ...rest } = msg;
    const echo = { input: input ?? null, previous_response_id: typeof prev === 'string' ? prev : null };
    const refuse = (code: ErrorCode, message: string, t?: Target) => this.failed(echo, steerError(code, message), t);
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) {
      return refuse('invalid_input', extra === 'stream_id'
        ? "Do not send 'stream_id' with response.steer: the target response determines the lane."
        : `Unknown parameter '${extra.slice(0, 100)}': response.steer takes only type, previous_response_id and input.`);
    }
    if (typeof prev !== 'string' || !prev) return refuse('invalid_input', "Missing required parameter: 'previous_response_id' (the response to steer).");
    let checked: SteerInput;
    try {
      checked = checkSteerInput(input);
    } catch (err) {
      return this.failed(echo, err as ApiError, this.targets.get(prev));
    }
    const t = this.targets.get(prev);
    if (!t || !t.open) {
      const status = this.ended.get(prev) ?? (t ? 'completed' : undefined);
      if (status === 'completed') return refuse('response_already_completed', `Response '${prev}' has already completed; send your input with response.create.`, t);
      if (status) return refuse('response_not_active', `Response '${prev}' is ${status}; it no longer accepts steering input.`, t);
      return refuse('response_not_found', `Response '${prev.slice(0, 100)}' is not running on this connection.`);
    }
    if (t.conversation) return refuse('steering_not_supported', 'Responses bound to a conversation cannot be steered.', t);
    if (t.queue.length >= MAX_PENDING_STEERS) return refuse('too_many_pending_steers', `Response '${prev}' already has ${MAX_PENDING_STEERS} steering inputs pending.`, t);
    const q: Queued = { id: newId('steer'), input: checked };
    t.queue.push(q);
    this.event('response.steer.accepted', { steer: { id: q.id, previous_response_id: prev } }, t);
    // The first input stops the run; later ones join the same successor.
    if (t.queue.length === 1) this.stop(prev);
  }

  /**
   * The turn of `r` has ended (its terminal event sent, its chain recorded). Returns the successor's
   * input when input is queued and the response can be continued; otherwise reports what became of it.
   */
  turnEnded(r: ResponseObject): { input: Array<Record<string, unknown>>; steers: Queued[] } | undefined {
    const t = this.targets.get(r.id);
    this.targets.delete(r.id);
    this.ended.set(r.id, r.status);
    if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
    if (!t?.queue.length) return undefined;
    if (r.status !== 'completed' && r.status !== 'incomplete') {
      for (const q of t.queue) this.failed({ id: q.id, input: q.input, previous_response_id: r.id }, steerError('response_not_active', `Response '${r.id}' ended ${r.status}; the input was not committed.`), t);
      return undefined;
    }
    const stubs = r.status === 'completed' ? requiredInputs(r.output as Array<Record<string, any>>) : [];
    if (stubs.length) {
      this.pending.set(r.id, t.queue);
      for (const q of t.queue) {
        this.event('response.steer.pending', { reason: 'waiting_for_required_input', required_input: stubs, steer: { id: q.id, previous_response_id: r.id } }, t);
      }
      return undefined;
    }
    return { input: joinSteerInputs(t.queue.map((q) => q.input)), steers: t.queue };
  }

  /** A turn that ended without its terminal event reaching the client (an error, a closed socket): nothing to continue. */
  forget(id: string): void {
    this.targets.delete(id);
  }

  /** Input still queued for `previous` (it waited for tool output): to prepend to the continuing request's input. */
  queuedFor(previous: string | undefined): SteerInput[] | undefined {
    return previous ? this.pending.get(previous)?.map((q) => q.input) : undefined;
  }

  /** The continuing request was created: its input is committed. */
  committed(previous: string): void {
    this.pending.delete(previous);
  }

  /** A successor could not be created: every input it was to commit is returned. */
  successorFailed(previous: string, steers: Queued[], err: ApiError, streamId: string | undefined): void {
    const t: Target = { streamId, lastSeq: -1, open: false, conversation: false, queue: [] };
    const e = steerError('successor_creation_failed', `The successor response could not be created: ${err.message}`, err.param);
    for (const q of steers) this.failed({ id: q.id, input: q.input, previous_response_id: previous }, e, t);
  }

  private failed(steer: Record<string, unknown>, err: ApiError, t?: Target): void {
    // ResponseSteerFailedEvent.error.type is always invalid_request_error, whatever the code's HTTP type.
    this.event('response.steer.failed', { error: { code: err.code, message: err.message, type: 'invalid_request_error' }, steer }, t);
  }

  private event(type: string, body: Record<string, unknown>, t?: Target): void {
    const ev: Record<string, unknown> = { type, sequence_number: Math.max(t?.lastSeq ?? 0, 0), ...body };
    if (t?.streamId !== undefined) ev.stream_id = t.streamId;
    this.send(JSON.stringify(ev));
  }
}

/** A request's input with queued steering input prepended (OpenAI: "prepended in submission order"). */
export function withQueuedInput(queued: SteerInput[], input: unknown): Array<Record<string, unknown>> {
  const own = typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : Array.isArray(input) ? input : [];
  return [...joinSteerInputs(queued), ...own];
}
