// Lanes of a WebSocket connection to /responses (OpenAI's `stream_id`): turns with the same `stream_id`
// run one after another (FIFO), turns of different lanes run at the same time, each a response of its
// own. A `response.create` without `stream_id` is on the default lane, which keeps the transport's
// original rule: one turn at a time, a message sent while it runs is refused (409), not queued. Lanes
// running at once and turns waiting on a lane are bounded, so one connection cannot hold unbounded work.
import { ApiError, errors } from '../wire/errors.js';

/** Longest `stream_id` accepted (it is echoed on every event of its responses). */
export const MAX_STREAM_ID = 64;
/** Turns that may wait behind a lane's running turn. */
export const LANE_QUEUE_DEPTH = 8;
/** The default lane's key: a `stream_id` is never empty. */
export const DEFAULT_LANE = '';

/** The `stream_id` of a response.create message, or undefined; throws the error to send for a bad one. */
export function streamIdOf(msg: Record<string, unknown>): string | undefined {
  const v = msg.stream_id;
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    throw errors.invalid(`Invalid type for 'stream_id': expected a string, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}.`, 'stream_id');
  }
  if (v.length === 0 || v.length > MAX_STREAM_ID) {
    throw errors.invalid(`Invalid 'stream_id': expected a string of 1 to ${MAX_STREAM_ID} characters, got ${v.length}.`, 'stream_id');
  }
  return v;
}

export function laneLimitError(max: number): ApiError {
  return new ApiError(
    'websocket_lane_limit_reached',
    `This connection already runs ${max} lane${max === 1 ? '' : 's'} (stream_id) at once; send this one after one of them ends, or on another connection.`,
    'stream_id',
  );
}

interface Lane {
  /** Turns accepted and not ended yet (running or waiting). */
  active: number;
  /** The last accepted turn's run: the next one starts after it. */
  tail: Promise<void>;
}

/** One accepted turn: `end()` (idempotent) frees its place once its terminal event or error is sent. */
export interface LaneTurn {
  readonly end: () => void;
}

export class Lanes {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with an active turn. */
  private busy = 0;

  constructor(
    private readonly max: number,
    /** busy/free bracket every accepted turn (the connection's clocks); `failed`: a run threw (a bug: runs report their own errors). */
    private readonly hooks: { busy(): void; free(): void; failed(err: unknown, turn: LaneTurn): void },
  ) {}

  /**
   * Accepts a turn on lane `key` (DEFAULT_LANE without stream_id) or throws the error to send. `run`
   * starts once the lane's earlier turns have run; it must call `turn.end()` when the client may send
   * the lane's next turn (its terminal event went out), and may go on (e.g. recording the chain) after.
   * `admit` may refuse the turn (by throwing) once the lane's own limits let it through.
   */
  submit(key: string, run: (turn: LaneTurn) => Promise<void>, admit?: () => void): void {
    let lane = this.lanes.get(key);
    const active = lane?.active ?? 0;
    if (key === DEFAULT_LANE && active > 0) {
      throw errors.conflict('A response is already in progress on this connection; send the next response.create after its terminal event.');
    }
    if (active > LANE_QUEUE_DEPTH) {
      throw new ApiError('websocket_lane_limit_reached', `This lane already has ${LANE_QUEUE_DEPTH} responses waiting; send this one after one of them ends.`, 'stream_id');
    }
    admit?.();
    if (active === 0 && this.busy >= this.max) throw laneLimitError(this.max);
    if (!lane) this.lanes.set(key, (lane = { active: 0, tail: Promise.resolve() }));
    if (lane.active++ === 0) this.busy++;
    this.hooks.busy();
    const l = lane;
    let ended = false;
    const turn: LaneTurn = {
      end: () => {
        if (ended) return;
        ended = true;
        if (--l.active === 0) this.busy--;
        this.hooks.free();
      },
    };
    const next = l.tail.then(() => run(turn)).catch((err) => this.hooks.failed(err, turn)).finally(turn.end);
    l.tail = next;
    // A lane with nothing left to run is forgotten (a client may use a new stream_id per turn).
    void next.then(() => {
      if (l.tail === next && l.active === 0 && this.lanes.get(key) === l) this.lanes.delete(key);
    });
  }
}
