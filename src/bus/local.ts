// In-process bus: one instance, no shared state to coordinate.
import type { ControlBus, ControlMessage, EventHub, HubLog, JobQueue } from './types.js';

export class LocalHub<L extends HubLog> implements EventHub<L> {
  readonly commitGated = false;
  private logs = new Map<string, L>();
  local(id: string) { return this.logs.get(id); }
  add(log: L) { this.logs.set(log.id, log); }
  remove(id: string) { this.logs.delete(id); }
}

export class LocalControlBus implements ControlBus {
  private handlers: Array<(m: ControlMessage) => void> = [];
  async publish(msg: ControlMessage) { for (const h of this.handlers) h(msg); return true; }
  onMessage(h: (m: ControlMessage) => void) { this.handlers.push(h); }
  async close() {}
}

/** FIFO queue with a concurrency cap; persistence is the store's `queued` status (re-enqueued at start). */
export class LocalQueue implements JobQueue {
  private pending: string[] = [];
  private active = 0;
  private worker: ((id: string) => Promise<void>) | null = null;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(private readonly concurrency: number) {}

  async enqueue(id: string) {
    this.pending.push(id);
    this.pump();
  }

  start(worker: (id: string) => Promise<void>) {
    this.worker = worker;
    this.pump();
  }

  private pump() {
    while (this.worker && !this.closed && this.active < this.concurrency && this.pending.length) {
      const id = this.pending.shift()!;
      this.active++;
      this.worker(id).catch(() => {}).finally(() => {
        this.active--;
        if (!this.active) for (const r of this.idle.splice(0)) r();
        this.pump();
      });
    }
  }

  async close() {
    this.closed = true;
    this.pending = [];
    if (this.active) await new Promise<void>((r) => this.idle.push(r));
  }
}
