// Redis connections and key names for the scale-out bus. Every key starts with the prefix (REDIS_PREFIX,
// default `respd`), so several deployments (or test runs) can share one Redis.
import { Redis, type RedisOptions } from 'ioredis';

export class RedisKeys {
  constructor(readonly prefix: string) {}
  /** Stream of committed event lines of one response (see hub.ts). */
  get eventsPrefix(): string {
    return `${this.prefix}:ev:`;
  }
  events(id: string): string {
    return `${this.eventsPrefix}${id}`;
  }
  /** Run lease of a response: which instance runs it (see hub.ts). */
  lease(id: string): string {
    return `${this.prefix}:lease:${id}`;
  }
  /** Pub/sub channel of cancel and wake messages. */
  get control(): string {
    return `${this.prefix}:control`;
  }
}

/**
 * Deadline of one Redis command. A hung Redis (stopped, not refusing) never closes the connection:
 * without a deadline a command would wait for as long as the hang lasts.
 */
export const COMMAND_TIMEOUT_MS = 2_000;

/**
 * A connection that fails commands at once while Redis is unreachable instead of queueing them: the
 * callers all have a fallback (the store), and a queue of stale commands would only delay recovery.
 * RESP2 keeps reply shapes (XREAD) plain arrays.
 */
export function connect(url: string, name: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    protocol: 2,
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...extra,
  });
}

export function ready(r: Redis, timeoutMs = 10_000): Promise<void> {
  if (r.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => { cleanup(); resolve(); };
    const cleanup = () => { clearTimeout(timer); r.off('ready', onReady); };
    r.on('ready', onReady);
  });
}

/** Resolves with the promise's value, or with `fallback` if it takes longer than `ms`. */
export function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(fallback), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}
