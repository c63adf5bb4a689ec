// Delivers the webhook outbox: claims due rows under a lease (one instance per row at a time, see the
// stores' claim()), POSTs each signed, marks 2xx delivered, otherwise schedules the next attempt with
// exponential backoff and full jitter (base, doubling, capped) until giveUpMs after the event.
// Rows are durable, so what a crash interrupted is picked up by the next poll of any instance.
import type { Logger } from 'pino';
import type { WebhookConfig } from '../config/webhooks.js';
import type { OutboxRow, WebhookOutbox } from '../store/types.js';
import { signatureHeaders } from './sign.js';

const BATCH = 32;
/** Rows deleted per prune statement: short write transactions, however large the backlog. */
const PRUNE_BATCH = 1000;

export class WebhookWorker {
  private timer?: NodeJS.Timeout;
  private pruner?: NodeJS.Timeout;
  private pruning?: Promise<number>;
  private running?: Promise<void>;
  private stopped = false;
  private again = false;
  private readonly inflight = new Set<AbortController>();

  constructor(private readonly outbox: WebhookOutbox, private readonly cfg: WebhookConfig, private readonly log: Logger) {}

  start(): void {
    this.schedule(0);
    if (this.cfg.keepMs > 0) {
      this.pruner = setInterval(() => void this.prune(), this.cfg.pruneIntervalMs);
      this.pruner.unref();
    }
  }

  /**
   * Deletes what no longer needs sending (delivered, or given up on) older than keepMs, in batches.
   * Every instance prunes; the stores let concurrent prunes take different rows. Returns rows deleted.
   */
  prune(nowMs = Date.now()): Promise<number> {
    this.pruning ??= (async () => {
      let total = 0;
      try {
        for (;;) {
          if (this.stopped) break;
          const n = await this.outbox.prune(nowMs - this.cfg.keepMs, PRUNE_BATCH);
          total += n;
          if (n < PRUNE_BATCH) break;
        }
        if (total) this.log.info({ rows: total }, 'webhook outbox pruned');
      } catch (err) {
        this.log.warn({ err }, 'webhook outbox prune failed');
      }
      return total;
    })().finally(() => { this.pruning = undefined; });
    return this.pruning;
  }

  /** A terminal commit just wrote rows: look now rather than at the next poll. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pruner);
    // An attempt under way is abandoned; its lease lapses and it is sent again (at-least-once).
    for (const c of this.inflight) c.abort();
    await this.running;
    await this.pruning;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        const again = this.again;
        this.again = false;
        if (!this.stopped) this.schedule(again ? 0 : this.cfg.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    for (;;) {
      let rows: OutboxRow[];
      try {
        // The lease covers one attempt's timeout and some slack.
        rows = await this.outbox.claim(Date.now(), this.cfg.timeoutMs * 2 + 5000, BATCH);
      } catch (err) {
        this.log.warn({ err }, 'webhook outbox claim failed');
        return;
      }
      if (!rows.length || this.stopped) return;
      await Promise.all(rows.map((r) => this.deliver(r)));
      if (rows.length < BATCH) return;
    }
  }

  private async deliver(r: OutboxRow): Promise<void> {
    const ep = this.cfg.endpoints.find((e) => e.tenant === r.tenant && e.url === r.endpoint);
    const attempts = (r.attempts ?? 0) + 1;
    if (!ep) {
      // The endpoint was removed from WEBHOOKS_FILE: nothing to sign with; give up on it.
      await this.outbox.retry(r.id, attempts, null).catch(() => {});
      return;
    }
    const eventId = (JSON.parse(r.event) as { id: string }).id;
    const ctl = new AbortController();
    this.inflight.add(ctl);
    const t = setTimeout(() => ctl.abort(), this.cfg.timeoutMs);
    let ok = false;
    let why = '';
    try {
      const res = await fetch(r.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'respd-webhooks', ...signatureHeaders(ep.secret, eventId, r.event) },
        body: r.event,
        signal: ctl.signal,
        redirect: 'manual',
      });
      await res.body?.cancel().catch(() => {});
      ok = res.status >= 200 && res.status < 300;
      why = `HTTP ${res.status}`;
    } catch (err) {
      why = (err as Error).message;
    } finally {
      clearTimeout(t);
      this.inflight.delete(ctl);
    }
    if (this.stopped && !ok) return;
    try {
      if (ok) return await this.outbox.delivered(r.id, Date.now());
      const now = Date.now();
      const ceiling = Math.min(this.cfg.retryCapMs, this.cfg.retryBaseMs * 2 ** Math.min(attempts - 1, 30));
      // Jitter between half and all of the step, so receivers coming back are not hit in lockstep.
      const next = now + ceiling / 2 + Math.random() * ceiling / 2;
      const give = next - r.createdAt > this.cfg.giveUpMs;
      this.log.warn({ id: r.id, endpoint: r.endpoint, attempts, why, gaveUp: give }, 'webhook delivery failed');
      await this.outbox.retry(r.id, attempts, give ? null : Math.round(next));
    } catch (err) {
      this.log.warn({ err, id: r.id }, 'webhook outbox update failed (the lease lapses and it is sent again)');
    }
  }
}
