// Group commit: events appended by every live response are written together, one transaction per tick
// (every `intervalMs`, or at once when a response ends), instead of one SQL write per token.
import type { Logger } from 'pino';
import type { EventHub } from '../bus/types.js';
import { isStorageUnavailable } from '../store/errors.js';
import type { AppendBatch, Store } from '../store/types.js';
import type { LiveLog } from './live-log.js';

export class Flusher {
  private dirty = new Set<LiveLog>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onDurable: (l: LiveLog) => void,
    /** Told about every committed batch, so a shared bus can fan it out to other instances. */
    private readonly hub?: Pick<EventHub, 'published'>,
    private readonly intervalMs = 15,
  ) {}

  markDirty = (l: LiveLog): void => {
    this.dirty.add(l);
    if (l.terminal) this.schedule(0);
    else this.schedule(this.intervalMs);
  };

  private schedule(delay: number): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (delay === 0) {
      // A response ended: commit at the end of this loop turn (setTimeout(0) would wait >= 1 ms), which
      // still groups every response that ended in the same turn into one transaction.
      if (this.immediate) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => {
        this.immediate = null;
        void this.flush();
      });
      return;
    }
    if (this.timer || this.immediate) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delay);
  }

  /** Writes everything pending now; resolves when it is committed. */
  async flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const logs = [...this.dirty];
    this.dirty.clear();
    if (!logs.length) return;
    const batches: AppendBatch[] = [];
    const marks: number[] = [];
    for (const l of logs) {
      const upTo = l.lines.length;
      marks.push(upTo);
      batches.push({
        responseId: l.id,
        firstSeq: l.baseSeq + l.flushedUpTo,
        lines: l.lines.slice(l.flushedUpTo, upTo),
        status: l.state.status,
        snapshot: JSON.stringify(l.state),
        create: l.pendingCreate,
        outputItems: l.terminal && upTo === l.lines.length
          ? l.state.output.map((it, i) => ({ id: it.id ?? `item_${i}`, json: JSON.stringify(it) }))
          : undefined,
      });
    }
    this.running = (async () => {
      const failure = await this.commit(logs, batches, marks);
      if (failure === undefined) {
        this.failures = 0;
        return;
      }
      // One transaction for everyone means one bad batch (say, a constraint error) would hold back every
      // response. Unless the store itself is unavailable (then every batch would fail alike), try again
      // one response per transaction: the others go through, only a batch that fails on its own retries.
      const stuck: LiveLog[] = [];
      if (logs.length > 1 && !isStorageUnavailable(failure.err)) {
        for (let i = 0; i < logs.length; i++) if (await this.commit([logs[i]], [batches[i]], [marks[i]])) stuck.push(logs[i]);
      } else stuck.push(...logs);
      if (stuck.length === 0) {
        this.failures = 0;
        return;
      }
      // Keep the lines in memory and try again: readers are served from memory meanwhile.
      this.failures++;
      for (const l of stuck) this.dirty.add(l);
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * this.failures)));
    })();
    await this.running;
    this.running = null;
    if (this.again || this.dirty.size) {
      this.again = false;
      if (this.dirty.size) this.schedule([...this.dirty].some((l) => l.terminal) ? 0 : this.intervalMs);
    }
  }

  /** One transaction for these batches. Committed: readers and waiters are told; else the error. */
  private async commit(logs: LiveLog[], batches: AppendBatch[], marks: number[]): Promise<{ err: unknown } | undefined> {
    try {
      await this.store.appendEvents(batches);
    } catch (err) {
      this.log.error({ err, responses: batches.length, failures: this.failures + 1, responseId: batches.length === 1 ? batches[0].responseId : undefined }, 'event flush failed; retrying');
      return { err };
    }
    for (const b of batches) {
      if (b.rejected) this.log.warn({ responseId: b.responseId, firstSeq: b.firstSeq }, 'store refused events: the response was deleted, ended or taken over elsewhere');
    }
    // Already committed: a fan-out failure must not send the batches to the store again.
    if (this.hub?.published) await this.hub.published(batches).catch((err) => this.log.warn({ err }, 'event fan-out failed'));
    logs.forEach((l, i) => {
      if (batches[i].create) l.pendingCreate = undefined;
      l.committed(marks[i], batches[i].rejected);
      if (l.isDurable) {
        l.markDurable();
        this.onDurable(l);
      } else if (l.flushedUpTo < l.lines.length) this.dirty.add(l);
    });
    return undefined;
  }

  /**
   * Writes what is pending, retrying failures until `deadlineMs` has passed; then gives up (logged) so
   * that a store refusing writes cannot keep the process from exiting.
   */
  async close(deadlineMs = 30_000): Promise<void> {
    this.clearTimers();
    const deadline = Date.now() + deadlineMs;
    while (this.running || this.dirty.size) {
      if (Date.now() >= deadline && !this.running) {
        this.log.error({ responses: [...this.dirty].map((l) => l.id) }, 'shutting down with events the store did not take');
        this.dirty.clear();
        break;
      }
      if (this.running) await this.running;
      else await this.flush();
    }
    this.closed = true;
    // A flush that ended during the loop may have scheduled another.
    this.clearTimers();
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}
