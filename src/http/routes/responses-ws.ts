// WebSocket mode of /responses: the second presenter of ResponseHandle (SSE is the first). A connection
// runs its responses one after another: each `response.create` message is a POST /responses body,
// checked by the same schema, answered with the same events as SSE (one JSON text message each);
// what fails before a response exists is an `error` message (WebSocketErrorEvent) from the same
// error catalogue. The connection keeps its latest response's chain in memory (ConnectionChain), so a
// `store: false` chain continues without any storage. `generate: false` makes a turn a warm-up (checked
// and prepared, completed without output); the connection's age and idle limits are ws-lifetime.ts's.
import { Ajv } from 'ajv';
import { metrics } from '../../metrics/metrics.js';
import type { FastifyBaseLogger, FastifyError, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { ResponseHandle } from '../../responses/handle.js';
import type { ChainCache } from '../../responses/service.js';
import { isStorageUnavailable } from '../../store/errors.js';
import { Cancel } from '../../util/cancel.js';
import { ApiError, errors } from '../../wire/errors.js';
import { isTerminalLine, lineType, type SeqLine } from '../../wire/event-line.js';
import { CreateResponseBody } from '../../wire/schemas/responses.js';
import type { Item, ResponseObject } from '../../wire/types.js';
import type { AppDeps } from '../deps.js';
import { eventJson, type FrameOptions } from '../sse.js';
import { connectionLimitError, ConnectionLifetime } from '../ws-lifetime.js';
import { WriteCoalescer } from '../write-coalescer.js';

/** Past this many unsent bytes a turn waits for the client to read (a slow client cannot grow memory). */
const MAX_BUFFERED = 1 << 20;

/**
 * The connection's chain cache: only its most recent response, with every item of its chain. A turn
 * that completes (or ends incomplete) becomes the new tip; one that fails evicts the response it
 * continued, so a stale chain is never silently reused. Misses fall back to the store.
 */
export class ConnectionChain implements ChainCache {
  private tip: { id: string; items: Item[] } | undefined;
  private starting: { id: string; items: Item[] } | undefined;

  items(id: string): Item[] | undefined {
    return this.tip?.id === id ? this.tip.items : undefined;
  }

  started(id: string, items: Item[]): void {
    this.starting = { id, items };
  }

  /** A turn ended with this Response; `previous` is the id it continued, if any. */
  ended(r: ResponseObject, previous: string | undefined): void {
    const s = this.starting?.id === r.id ? this.starting : undefined;
    this.starting = undefined;
    if (s && (r.status === 'completed' || r.status === 'incomplete')) this.tip = { id: r.id, items: [...s.items, ...r.output] };
    else if (previous) this.evict(previous);
  }

  evict(id: string): void {
    this.starting = undefined;
    if (this.tip?.id === id) this.tip = undefined;
  }
}

type AjvError = { instancePath: string; keyword: string; message?: string; params: Record<string, any> };

/** What a failure becomes on the socket: the WebSocketErrorEvent of Open Responses. */
export function errorMessage(e: ApiError): string {
  return JSON.stringify({ type: 'error', status: e.status, error: { type: e.type, code: e.code, message: e.message, param: e.param } });
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
    const chain = new ConnectionChain();
    const ctl = new Cancel();
    /** A turn was accepted and its terminal event is not sent yet: the next response.create is refused. */
    let busy = false;
    /** The response whose events are being sent, left if the client goes. */
    let current: ResponseHandle | undefined;
    /** Turns run in order: the next starts once the previous one's chain is recorded. */
    let tail: Promise<void> = Promise.resolve();

    // A turn's events are one message each: those of one loop turn leave in one write (see WriteCoalescer).
    const raw = req.socket;
    const out = new WriteCoalescer(raw, () => !raw.destroyed);

    const send = (text: string) => {
      if (socket.readyState === socket.OPEN) socket.send(text);
    };
    const sendError = (e: ApiError) => send(errorMessage(e));
    const limits = deps.config.websocket;
    const life = new ConnectionLifetime(limits, {
      expire: () => {
        sendError(connectionLimitError(limits.maxConnectionMs));
        socket.close(1000, 'connection limit reached');
      },
      idle: () => socket.close(1000, 'idle timeout'),
    });
    /** A turn is over (terminal event or error sent): the next response.create may run. */
    const endTurn = () => {
      busy = false;
      life.free();
    };

    metrics.socketOpened();
    socket.on('close', () => {
      metrics.socketClosed();
      life.stop();
      ctl.abort();
      // A foreground response whose client left stops, as over SSE.
      current?.leave();
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
      if (msg.type !== 'response.create') {
        return sendError(errors.invalid(`Unknown message type '${String(msg.type).slice(0, 100)}': the only client message is 'response.create'.`, 'type'));
      }
      if (busy) {
        return sendError(errors.conflict('A response is already in progress on this connection; send the next response.create after its terminal event.'));
      }
      if (life.isExpired) return sendError(connectionLimitError(limits.maxConnectionMs));
      busy = true;
      life.busy();
      tail = tail.then(() => turn(msg)).catch((err) => {
        sendError(apiErrorOf(err, req.log));
        endTurn();
      });
    });

    async function turn(msg: Record<string, unknown>): Promise<void> {
      // Queued behind the previous turn, and the client has gone since: nothing to start.
      if (socket.readyState !== socket.OPEN) return;
      // `generate` belongs to the socket (OpenAI's WebSocket mode), not to the POST body the rest is checked as.
      const { type: _type, generate, ...body } = msg;
      const previous = typeof body.previous_response_id === 'string' ? body.previous_response_id : undefined;
      let release = noop;
      let h: ResponseHandle;
      try {
        if (generate !== undefined && typeof generate !== 'boolean') {
          throw errors.invalid(`Invalid type for 'generate': expected a boolean, got ${generate === null ? 'null' : typeof generate}.`, 'generate');
        }
        if (!validate(body)) throw validationError({ validation: validate.errors as AjvError[], validationContext: 'body' } as unknown as FastifyError);
        const create = body as unknown as CreateResponseBody;
        if (create.background) throw errors.invalid('Background responses are not available over WebSocket; use POST /responses.', 'background');
        // Each turn is a request and an open stream, counted as over HTTP.
        deps.limiter?.hit(owner.tenant);
        release = deps.limiter?.openStream(owner.tenant) ?? noop;
        // `stream` is implicit on a socket (a client may still send `stream: true`).
        h = await svc.create(owner, { ...create, stream: true }, chain, { generate: generate !== false });
      } catch (err) {
        release();
        if (previous) chain.evict(previous);
        sendError(apiErrorOf(err, req.log));
        return endTurn();
      }
      current = h;
      let sawTerminal = false;
      const opts: FrameOptions = {
        obfuscate: (body as { stream_options?: { include_obfuscation?: boolean } }).stream_options?.include_obfuscation ?? true,
        rewrite: h.streamRewrite(),
      };
      try {
        sawTerminal = await pipe(h.events(-1, ctl.signal), opts);
        if (socket.readyState !== socket.OPEN) return;
        // Durable before the next turn starts: a store: true response is then readable over HTTP anywhere.
        chain.ended(await h.settled(), previous);
      } catch (err) {
        if (previous) chain.evict(previous);
        sendError(apiErrorOf(err, req.log));
      } finally {
        current = undefined;
        if (!sawTerminal) {
          // The socket closed before the end (possibly while the response was being created).
          h.leave();
          endTurn();
        }
        release();
      }
    }

    /** Sends a turn's events; true once its terminal event went out. */
    async function pipe(batches: AsyncIterable<SeqLine[]>, opts: FrameOptions): Promise<boolean> {
      for await (const batch of batches) {
        for (let i = 0; i < batch.length; i++) {
          if (socket.readyState !== socket.OPEN) return false;
          const line = batch[i][1];
          const type = lineType(line);
          // A run's internal failure is reported by its terminal response.failed; on a socket an `error`
          // message means "this turn produced no response", so the in-stream one is not forwarded.
          if (type === 'error') continue;
          const json = eventJson(type, line, opts);
          out.hold();
          if (isTerminalLine(line)) {
            // The client may send its next turn as soon as it sees this event (handled after this call returns).
            socket.send(json);
            endTurn();
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
