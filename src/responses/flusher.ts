// Group commit: events appended by every live response are written together, one transaction per tick,
// instead of one SQL write per token.
//
// How soon a tick comes depends on who waits for it:
//  - a response that ended: at once (its caller waits for `durable()` before answering);
//  - readers that only get committed lines (scale-out, LogMode.commitGated): within `urgentMs` (15 ms),
//    since a stream on another instance waits for every commit;
//  - a background response that started running: within `urgentMs`, because recovery runs again what
//    the store still holds as `queued`; once its start is stored, a crash fails it instead;
//  - otherwise (one instance: readers, retrieve and input_items are served from memory while the
//    response runs): within `intervalMs` (COMMIT_INTERVAL_MS, default 100 ms). Nothing waits for these
//    commits; they bound what a crash of the process can take back (and a list shows a new streamed
//    response once its first commit is in). Each commit is synchronous work on the thread that also
//    drives the embedded engine, so fewer commits per streamed reply let a fast model keep its pace
//    (figures: bench/README.md, history).
import type { Logger } from 'pino';
import type { EventHub } from '../bus/types.js';
import { isStorageUnavailable } from '../store/errors.js';
import type { AppendBatch, OutboxRow, Store } from '../store/types.js';
import { metrics } from '../metrics/metrics.js';
//
// When commits fail (a full disk, a lock, an unreachable database) the lines stay in memory and the
// commit is retried with backoff. Meanwhile readers get committed lines only (LiveLog.hold), so no
// client sees what a crash could take back; after `timeoutMs` (COMMIT_TIMEOUT_MS) without a commit,
// waiters get a 503 and `onStall` ends what still runs (failed, store_unavailable). Once the store takes
// writes again, the backlog goes in transactions of at most MAX_COMMIT_BYTES, so it never needs room
// for all of it in one transaction (and the write-ahead log) at once.
import type { LiveLog } from './live-log.js';
import { DEFAULT_COMMIT_INTERVAL_MS, DEFAULT_COMMIT_TIMEOUT_MS } from '../config/index.js';
import { errors, type ApiError } from '../wire/errors.js';

/** When readers wait for every commit (scale-out). */
export const URGENT_COMMIT_MS = 15;
/** Most bytes of lines one transaction writes; a log with more goes in several. */
export const MAX_COMMIT_BYTES = 1 << 20;

/** What waiters and readers get once commits have failed for longer than the commit timeout. */
export function commitTimedOut(): ApiError {
  const e = errors.unavailable('The response store has not taken writes for too long (full, locked or unreachable); this response could not be stored. Retry shortly.', 'store_unavailable');
  e.headers['retry-after'] = '1';
  return e;
}

export class Flusher {
  private dirty = new Set<LiveLog>();
  private timer: NodeJS.Timeout | null = null;
  /** performance.now() at which `timer` fires. */
  private timerDue = 0;
  private immediate: NodeJS.Immediate | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  /** Date.now() of the first of the current run of failed commits. */
  private failingSince = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  /** The store call of the commit under way, if any (see drop()). */
  private inFlight: Promise<unknown> | null = null;
  /** The last flush left lines behind (MAX_COMMIT_BYTES): the next one comes at once. */
  private backlog = false;
  private closed = false;
  /**
   * Called for each log the store has not taken within `timeoutMs`: the executor fails what still
   * runs (set by the Executor, which owns the runs).
   */
  onStall: (l: LiveLog) => void = () => {};
  /** Outbox rows for a log whose terminal batch is being committed (set by the webhook worker's owner). */
  webhooksFor: (l: LiveLog) => OutboxRow[] | undefined = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onDurable: (l: LiveLog) => void,
    /** Told about every committed batch, so a shared bus can fan it out to other instances. */
    private readonly hub?: Pick<EventHub, 'published'>,
    private readonly intervalMs = DEFAULT_COMMIT_INTERVAL_MS,
    private readonly urgentMs = URGENT_COMMIT_MS,
    /** COMMIT_TIMEOUT_MS: how long failing commits may hold lines before their responses fail. */
    private readonly timeoutMs = DEFAULT_COMMIT_TIMEOUT_MS,
  ) {}

  /**
   * The last commit failed and is being retried (store full, locked or unreachable): new stored work
   * is refused with 503 meanwhile, rather than accepted and acknowledged while nothing can be stored.
   */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** Commits have failed for longer than the commit timeout. */
  get stalled(): boolean {
    return this.failures > 0 && Date.now() - this.failingSince >= this.timeoutMs;
  }

  markDirty = (l: LiveLog): void => {
    if (l.dropped) return;
    // Called before the line reaches readers: while commits fail, they get committed lines only.
    if (this.failures) l.hold();
    this.dirty.add(l);
    this.schedule(this.delayFor(l));
  };

  /**
   * A deleted response: nothing more of its log is written (a retried commit must not bring it back).
   * Resolves once a commit under way, which may hold its lines, has settled: a delete after it stays.
   */
  async drop(l: LiveLog): Promise<void> {
    l.drop();
    this.dirty.delete(l);
    await this.inFlight?.catch(() => {});
  }

  /** How long this log's pending lines may wait (see the header). */
  private delayFor(l: LiveLog): number {
    if (l.terminal) return 0;
    const urgent = l.mode.commitGated || (l.state.background && l.state.status !== l.committedStatus);
    return urgent ? Math.min(this.urgentMs, this.intervalMs) : this.intervalMs;
  }

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
    if (this.immediate) return;
    const due = performance.now() + delay;
    // An armed tick that comes soon enough serves this log too; one that comes later is brought forward.
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
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
    if (!this.dirty.size) return;
    const logs: LiveLog[] = [];
    const batches: AppendBatch[] = [];
    const marks: number[] = [];
    // Lines of up to MAX_COMMIT_BYTES per transaction (at least one): the rest stays dirty for the next.
    // (Each batch also rewrites its response's snapshot, as every tick does.)
    let bytes = 0;
    for (const l of this.dirty) {
      if (bytes >= MAX_COMMIT_BYTES) break;
      let snapshot = JSON.stringify(l.state);
      let upTo = l.flushedUpTo;
      while (upTo < l.lines.length && (bytes < MAX_COMMIT_BYTES || upTo === l.flushedUpTo)) bytes += l.lines[upTo++].length;
      const whole = upTo === l.lines.length;
      if (whole) this.dirty.delete(l);
      // Part of an ended log: the store keeps it running until its terminal line is in (a crash
      // meanwhile fails it at the next start, as for any response cut off).
      else if (l.terminal) snapshot = JSON.stringify({ ...l.state, status: 'in_progress' });
      logs.push(l);
      marks.push(upTo);
      batches.push({
        responseId: l.id,
        firstSeq: l.baseSeq + l.flushedUpTo,
        lines: l.lines.slice(l.flushedUpTo, upTo),
        status: whole || !l.terminal ? l.state.status : 'in_progress',
        snapshot,
        create: l.pendingCreate,
        outputItems: l.terminal && whole
          ? l.state.output.map((it, i) => ({ id: it.id ?? `item_${i}`, json: JSON.stringify(it) }))
          : undefined,
        // In the same transaction as the terminal line: a crash cannot keep one without the other.
        webhooks: l.terminal && whole && l.persist ? this.webhooksFor(l) : undefined,
      });
    }
    this.backlog = this.dirty.size > 0;
    this.running = (async () => {
      const failure = await this.commit(logs, batches, marks);
      if (failure === undefined) {
        this.recovered();
        // A backlog: what this transaction wrote leaves the write-ahead log before the next part goes in.
        if (this.backlog && this.store.checkpoint) await this.store.checkpoint().catch((err) => this.log.warn({ err }, 'checkpoint failed'));
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
        this.recovered();
        return;
      }
      // Keep the lines in memory and try again; readers get committed lines only meanwhile.
      if (this.failures++ === 0) {
        this.failingSince = Date.now();
        this.stallTimer = setTimeout(() => this.stall(), this.timeoutMs);
        this.stallTimer.unref();
      }
      for (const l of stuck) {
        if (l.dropped) continue;
        l.hold();
        this.dirty.add(l);
      }
      if (this.stalled) this.stall();
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * this.failures)));
    })();
    await this.running;
    this.running = null;
    if (this.again || this.dirty.size) {
      this.again = false;
      let delay = this.backlog && !this.failures ? 0 : Infinity;
      for (const l of this.dirty) delay = Math.min(delay, this.delayFor(l));
      if (this.dirty.size) this.schedule(delay);
    }
  }

  private recovered(): void {
    this.failures = 0;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  /** Commits have failed for `timeoutMs`: what waits for them is told, what runs is ended. */
  private stall(): void {
    this.stallTimer = null;
    const err = commitTimedOut();
    for (const l of this.dirty) {
      if (l.isDurable) continue;
      l.stall(err);
      this.onStall(l);
    }
  }

  /** One transaction for these batches. Committed: readers and waiters are told; else the error. */
  private async commit(logs: LiveLog[], batches: AppendBatch[], marks: number[]): Promise<{ err: unknown } | undefined> {
    const t0 = performance.now();
    try {
      await (this.inFlight = this.store.appendEvents(batches));
      metrics.committed(batches.length, (performance.now() - t0) / 1000, true);
    } catch (err) {
      metrics.committed(batches.length, (performance.now() - t0) / 1000, false);
      this.log.error({ err, responses: batches.length, failures: this.failures + 1, responseId: batches.length === 1 ? batches[0].responseId : undefined }, 'event flush failed; retrying');
      return { err };
    }
    for (const b of batches) {
      if (b.rejected) this.log.warn({ responseId: b.responseId, firstSeq: b.firstSeq }, 'store refused events: the response was deleted, ended or taken over elsewhere');
    }
    // Already committed: a fan-out failure must not send the batches to the store again.
    if (this.hub?.published) await this.hub.published(batches).catch((err) => this.log.warn({ err }, 'event fan-out failed'));
    logs.forEach((l, i) => {
      l.committed(marks[i], batches[i]);
      if (l.isDurable) {
        l.markDurable();
        this.onDurable(l);
      } else if (l.flushedUpTo < l.lines.length && !l.dropped) this.dirty.add(l);
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
