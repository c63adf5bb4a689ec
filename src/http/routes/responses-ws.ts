// WebSocket mode of /responses: the second presenter of ResponseHandle (SSE is the first). Each
// `response.create` message is a POST /responses body, checked by the same schema, answered with the same
// events as SSE (one JSON text message each); what fails before a response exists is an `error` message
// (WebSocketErrorEvent) from the same error catalogue. Responses run one after another on a lane
// (`stream_id`, ws-lanes.ts; without one, the default lane), lanes side by side; every message of a
// laned response carries its `stream_id`. The connection keeps its lanes' latest chains in memory
// (ws-chain.ts), so a `store: false` chain continues, or forks onto another lane, without any storage.
// `generate: false` makes a turn a warm-up (checked and prepared, completed without output); the
// connection's age and idle limits are ws-lifetime.ts's.
import { Ajv } from 'ajv';
import { metrics } from '../../metrics/metrics.js';
import type { FastifyBaseLogger, FastifyError, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { ResponseHandle } from '../../responses/handle.js';
import { isStorageUnavailable } from '../../store/errors.js';
import { Cancel } from '../../util/cancel.js';
import { ApiError, errors } from '../../wire/errors.js';
import { isTerminalLine, lineType, type SeqLine } from '../../wire/event-line.js';
import { CreateResponseBody } from '../../wire/schemas/responses.js';
import type { AppDeps } from '../deps.js';
import { eventJson, type FrameOptions } from '../sse.js';
import { ConnectionChain, type ChainTurn } from '../ws-chain.js';
import { ConnectionSteers, withQueuedInput } from '../ws-steer.js';
import type { ResponseObject } from '../../wire/types.js';
import { DEFAULT_LANE, Lanes, streamIdOf, type LaneTurn } from '../ws-lanes.js';
import { connectionLimitError, ConnectionLifetime } from '../ws-lifetime.js';
import { WriteCoalescer } from '../write-coalescer.js';

/** Past this many unsent bytes a turn waits for the client to read (a slow client cannot grow memory). */
const MAX_BUFFERED = 1 << 20;

type AjvError = { instancePath: string; keyword: string; message?: string; params: Record<string, any> };

/** What a failure becomes on the socket: the WebSocketErrorEvent of Open Responses (with the lane of the request it answers). */
export function errorMessage(e: ApiError, streamId?: string): string {
  const event: Record<string, unknown> = { type: 'error', status: e.status, error: { type: e.type, code: e.code, message: e.message, param: e.param } };
  if (streamId !== undefined) event.stream_id = streamId;
  return JSON.stringify(event);
}

function apiErrorOf(err: unknown, log: FastifyBaseLogger): ApiError {
  if (err instanceof ApiError) return err;
  if (isStorageUnavailable(err)) {
    log.warn({ err }, 'store unavailable');
    return errors.unavailable('The response store is temporarily unavailable (busy, full or unreachable); retry shortly.', 'store_unavailable');
  }
  log.error({ err }, 'websocket turn failed');
  return errors.internal();
}

export interface SocketDeps {
  deps: AppDeps;
  /** app.ts's mapping of schema failures to the error catalogue, so both transports word them alike. */
  validationError: (err: FastifyError) => ApiError;
}

export function responsesSocket({ deps, validationError }: SocketDeps) {
  // Same options as app.ts's body validator: what POST /responses accepts, a message accepts.
  const validate = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false }).compile(CreateResponseBody);
  const svc = deps.responses;
  const noop = () => {};

  return (socket: WebSocket, req: FastifyRequest): void => {
    const owner = req.owner;
    const limits = deps.config.websocket;
    const chain = new ConnectionChain(limits.maxLanes);
    const ctl = new Cancel();
    const steers = new ConnectionSteers((id) => svc.executor.abort(id, 'steered'), (json) => send(json));
    /** The responses whose events are being sent (one per running lane), left if the client goes. */
    const current = new Set<ResponseHandle>();
    /**
     * Responses of this connection whose chain is not recorded yet, by id. A turn continuing one (a fork
     * from another lane, sent as soon as its response.created or terminal event arrived) waits for it.
     */
    const settling = new Map<string, Promise<void>>();

    // A turn's events are one message each: those of one loop turn leave in one write (see WriteCoalescer).
    const raw = req.socket;
    const out = new WriteCoalescer(raw, () => !raw.destroyed);

    const send = (text: string) => {
      if (socket.readyState === socket.OPEN) socket.send(text);
    };
    const sendError = (e: ApiError, streamId?: string) => send(errorMessage(e, streamId));
    const life = new ConnectionLifetime(limits, {
      expire: () => {
        sendError(connectionLimitError(limits.maxConnectionMs));
        socket.close(1000, 'connection limit reached');
      },
      idle: () => socket.close(1000, 'idle timeout'),
    });
    const lanes = new Lanes(limits.maxLanes, {
      busy: () => life.busy(),
      free: () => life.free(),
      failed: (err, turn) => {
        sendError(apiErrorOf(err, req.log));
        turn.end();
      },
    });

    metrics.socketOpened();
    socket.on('close', () => {
      metrics.socketClosed();
      life.stop();
      ctl.abort();
      // A foreground response whose client left stops, as over SSE.
      for (const h of current) h.leave();
    });
    socket.on('error', (err) => req.log.warn({ err }, 'websocket error'));

    socket.on('message', (data, isBinary) => {
      life.touch();
      let msg: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SyntaxError('a message must be a JSON object');
        msg = parsed as Record<string, unknown>;
      } catch (err) {
        return sendError(errors.invalid(`We could not parse the JSON of your message: ${(err as Error).message}`, null, 'invalid_json'));
      }
      if (msg.type === 'response.steer') return steers.steer(msg);
      if (msg.type !== 'response.create') {
        return sendError(errors.invalid(`Unknown message type '${String(msg.type).slice(0, 100)}': the client messages are 'response.create' and 'response.steer'.`, 'type'));
      }
      let streamId: string | undefined;
      try {
        streamId = streamIdOf(msg);
        lanes.submit(streamId ?? DEFAULT_LANE, (t) => turn(msg, streamId, t), () => {
          if (life.isExpired) throw connectionLimitError(limits.maxConnectionMs);
        });
      } catch (err) {
        sendError(apiErrorOf(err, req.log), streamId);
      }
    });

    async function turn(msg: Record<string, unknown>, streamId: string | undefined, lane: LaneTurn): Promise<void> {
      // Queued behind the lane's previous turn, and the client has gone since: nothing to start.
      if (socket.readyState !== socket.OPEN) return;
      // Queued when the connection reached its age: not started (the turns running go on to their end).
      if (life.isExpired) {
        sendError(connectionLimitError(limits.maxConnectionMs), streamId);
        return lane.end();
      }
      // `generate` and `stream_id` belong to the socket (OpenAI's WebSocket mode), not to the POST body the rest is checked as.
      const { type: _type, generate, stream_id: _lane, ...body } = msg;
      let previous = typeof body.previous_response_id === 'string' ? body.previous_response_id : undefined;
      const key = streamId ?? DEFAULT_LANE;
      let view = chain.turn();
      let release = noop;
      let h: ResponseHandle;
      let create: CreateResponseBody;
      try {
        if (generate !== undefined && typeof generate !== 'boolean') {
          throw errors.invalid(`Invalid type for 'generate': expected a boolean, got ${generate === null ? 'null' : typeof generate}.`, 'generate');
        }
        if (!validate(body)) throw validationError({ validation: validate.errors as AjvError[], validationContext: 'body' } as unknown as FastifyError);
        create = body as unknown as CreateResponseBody;
        if (create.background) throw errors.invalid('Background responses are not available over WebSocket; use POST /responses.', 'background');
        // A response of this connection still running (or being recorded) on another lane: its chain first.
        const before = previous ? settling.get(previous) : undefined;
        if (before) await before;
        if (socket.readyState !== socket.OPEN) return;
        // Each turn is a request and an open stream, counted as over HTTP.
        deps.limiter?.hit(owner.tenant);
        release = deps.limiter?.openStream(owner.tenant) ?? noop;
        // Steering input that waited for this continuation (response.steer.pending) comes first.
        const queued = steers.queuedFor(previous);
        if (queued) create = { ...create, input: withQueuedInput(queued, create.input) as CreateResponseBody['input'] };
        // `stream` is implicit on a socket (a client may still send `stream: true`).
        h = await svc.create(owner, { ...create, stream: true }, view, { generate: generate !== false });
        if (queued) steers.committed(previous!);
      } catch (err) {
        release();
        if (previous) chain.evict(previous);
        sendError(apiErrorOf(err, req.log), streamId);
        return lane.end();
      }
      try {
        // A steered response is continued by its successor on the same lane, as long as steering goes on.
        for (;;) {
          const ended = await present(h, view, create, previous, key, streamId, lane);
          if (!ended) steers.forget(h.id);
          const next = ended && steers.turnEnded(ended);
          if (!next || socket.readyState !== socket.OPEN) return;
          previous = h.id;
          view = chain.turn();
          create = { ...create, input: next.input as CreateResponseBody['input'], previous_response_id: previous };
          try {
            h = await svc.create(owner, { ...create, stream: true }, view);
          } catch (err) {
            steers.successorFailed(previous, next.steers, apiErrorOf(err, req.log), streamId);
            return;
          }
        }
      } finally {
        lane.end();
        release();
      }
    }

    /**
     * Sends one response's events and records its chain; the Response it ended with, once its terminal
     * event went out. The lane is freed at that event, unless steering input waits for a successor.
     */
    async function present(
      h: ResponseHandle, view: ChainTurn, create: CreateResponseBody, previous: string | undefined, key: string, streamId: string | undefined, lane: LaneTurn,
    ): Promise<ResponseObject | undefined> {
      let recorded = noop;
      settling.set(h.id, new Promise<void>((resolve) => (recorded = resolve)));
      current.add(h);
      steers.started(h.current(), streamId);
      let sawTerminal = false;
      let held = false;
      const opts: FrameOptions = {
        obfuscate: (create as { stream_options?: { include_obfuscation?: boolean } }).stream_options?.include_obfuscation ?? true,
        rewrite: h.streamRewrite(),
      };
      try {
        sawTerminal = await pipe(h.events(-1, ctl.signal), opts, streamId, lane, h.id, () => (held = true));
        if (socket.readyState !== socket.OPEN) return undefined;
        // Durable before the lane's next turn starts: a store: true response is then readable over HTTP anywhere.
        const ended = await h.settled();
        chain.ended(view, ended, previous, key);
        return ended;
      } catch (err) {
        if (previous) chain.evict(previous);
        sendError(apiErrorOf(err, req.log), streamId);
        return undefined;
      } finally {
        current.delete(h);
        settling.delete(h.id);
        recorded();
        // The socket closed before the end (possibly while the response was being created).
        if (!sawTerminal) h.leave();
        if (!held) lane.end();
      }
    }

    /** Sends a turn's events (each with its lane's `stream_id`, if any); true once its terminal event went out. */
    async function pipe(
      batches: AsyncIterable<SeqLine[]>, opts: FrameOptions, streamId: string | undefined, lane: LaneTurn, id: string, hold: () => void,
    ): Promise<boolean> {
      // Appended in place of the closing brace: no re-serialisation, and an unlaned event is untouched.
      const tag = streamId === undefined ? undefined : `,"stream_id":${JSON.stringify(streamId)}}`;
      for await (const batch of batches) {
        for (let i = 0; i < batch.length; i++) {
          if (socket.readyState !== socket.OPEN) return false;
          const line = batch[i][1];
          const type = lineType(line);
          // A run's internal failure is reported by its terminal response.failed; on a socket an `error`
          // message means "this turn produced no response", so the in-stream one is not forwarded.
          if (type === 'error') continue;
          let json = eventJson(type, line, opts);
          if (tag) json = json.slice(0, -1) + tag;
          out.hold();
          const terminal = isTerminalLine(line);
          const keep = steers.sent(id, batch[i][0], terminal);
          if (terminal) {
            // The client may send the lane's next turn as soon as it sees this event (handled after this call
            // returns), unless steering input queued for this response makes the next turn its successor.
            socket.send(json);
            if (keep) hold();
            else lane.end();
            return true;
          }
          if (i === batch.length - 1 && socket.bufferedAmount > MAX_BUFFERED) {
            const sent = new Promise<void>((resolve) => socket.send(json, () => resolve()));
            out.release();
            await sent;
          } else {
            socket.send(json);
          }
        }
      }
      return false;
    }
  };
}
