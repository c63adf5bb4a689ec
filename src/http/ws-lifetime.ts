// How long a WebSocket connection to /responses may live. OpenAI's WebSocket mode ends a connection after
// 60 minutes with a `websocket_connection_limit_reached` error (the client reconnects and continues from a
// stored response or compacted input); an unused connection is closed sooner, so idle sockets do not pin
// memory (the chain cache) forever. A turn in progress is never cut: the limit takes effect after its
// terminal event (with lanes, after the last running turn's).
import type { WebSocketLimits } from '../config/index.js';
import { errors, type ApiError } from '../wire/errors.js';

export function connectionLimitError(maxMs: number): ApiError {
  const minutes = Math.round(maxMs / 60_000);
  const span = minutes >= 1 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${maxMs} ms`;
  return errors.invalid(
    `Responses websocket connection limit reached (${span}). Create a new websocket connection to continue.`,
    null,
    'websocket_connection_limit_reached',
  );
}

export interface LifetimeHooks {
  /** The connection reached its maximum age while no turn runs: say why, then close. */
  expire(): void;
  /** No message and no turn for the idle period: close. */
  idle(): void;
}

/** The two clocks of a connection. `busy`/`free` bracket each turn (lanes overlap them); `touch` marks a client message. */
export class ConnectionLifetime {
  private expired = false;
  /** Turns accepted and not ended, on all lanes. */
  private running = 0;
  private readonly ageTimer: NodeJS.Timeout;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly limits: WebSocketLimits, private readonly hooks: LifetimeHooks) {
    this.ageTimer = setTimeout(() => {
      this.expired = true;
      if (this.running === 0) this.end();
    }, limits.maxConnectionMs);
    this.armIdle();
  }

  /** The connection is past its maximum age: new turns are refused. */
  get isExpired(): boolean {
    return this.expired;
  }

  touch(): void {
    this.armIdle();
  }

  busy(): void {
    this.running++;
    this.clearIdle();
  }

  /** A turn ended (terminal event or error sent). */
  free(): void {
    if (--this.running > 0) return;
    if (this.expired) this.end();
    else this.armIdle();
  }

  stop(): void {
    clearTimeout(this.ageTimer);
    this.clearIdle();
  }

  private end(): void {
    this.stop();
    this.hooks.expire();
  }

  private armIdle(): void {
    this.clearIdle();
    if (this.running > 0 || this.expired || this.limits.idleTimeoutMs <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.stop();
      this.hooks.idle();
    }, this.limits.idleTimeoutMs);
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
