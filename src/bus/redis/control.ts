// Cancel and wake reach whichever instance runs a response over Redis pub/sub: they are fire-and-forget
// notices (the instance that runs the response acts, every other one ignores them), and the caller
// confirms the effect through the store — so pub/sub's at-most-once delivery is enough here.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ControlBus, ControlMessage } from '../types.js';
import { within } from './connection.js';

export class RedisControlBus implements ControlBus {
  private handlers: Array<(m: ControlMessage) => void> = [];

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly channel: string,
    private readonly log: Logger,
    /** False while Redis is known not to answer (see RedisHub.reachable): publish gives up at once. */
    private readonly reachable: () => boolean = () => true,
  ) {
    sub.on('message', (ch: string, raw: string) => {
      if (ch !== channel) return;
      let msg: ControlMessage;
      try {
        msg = JSON.parse(raw) as ControlMessage;
      } catch {
        return;
      }
      for (const h of this.handlers) {
        try {
          h(msg);
        } catch (err) {
          this.log.error({ err }, 'control message handler failed');
        }
      }
    });
  }

  /**
   * Subscribes (ioredis re-subscribes by itself after a reconnect). The subscriber connection has no
   * command deadline (nothing else waits on it), so this one call gets its own: a start fails, as it
   * does when Redis does not answer at all, rather than hang on a hung Redis.
   */
  async init(timeoutMs = 10_000): Promise<void> {
    const answered = await within(this.sub.subscribe(this.channel).then(() => true), timeoutMs, false);
    if (!answered) throw new Error(`REDIS_URL: Redis did not answer SUBSCRIBE within ${timeoutMs} ms`);
  }

  async publish(msg: ControlMessage): Promise<boolean> {
    try {
      if (!this.reachable()) throw new Error('Redis does not answer');
      await this.pub.publish(this.channel, JSON.stringify(msg));
      return true;
    } catch (err) {
      // The caller waits for the effect in the store and answers "try again" if it never comes.
      this.log.warn({ err, kind: msg.kind, responseId: msg.id }, 'control message not sent: Redis unreachable');
      return false;
    }
  }

  onMessage(handler: (msg: ControlMessage) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    this.handlers = [];
  }
}
