// The live, in-memory side of a response's event log. It assigns gap-free sequence numbers, keeps every
// line since `baseSeq` in memory while the response runs (so live readers never see a gap between what
// is stored and what is live), folds events into the projection, and hands pending lines to the
// group-commit flusher. How it behaves is fixed when it is made (LogMode); afterwards only the
// flusher's commits change what readers may see.
import type { AppendBatch } from '../store/types.js';
import type { ResponseEvent } from '../wire/events.js';
import { toLine } from '../wire/event-line.js';
import { isTerminalStatus } from '../wire/status.js';
import type { ResponseObject } from '../wire/types.js';
import { apply } from './projection.js';

export type LineListener = (seq: number, line: string) => void;

export interface LogMode {
  /** store:true: lines are group-committed; store:false responses are never written. */
  persist: boolean;
  /**
   * A blocking request (neither streamed nor background): its caller waits for the final object and
   * nobody follows its deltas live, so a model turn may arrive in one piece (see Provider.complete).
   */
  blocking: boolean;
  /**
   * Scale-out: readers get a line only once it is committed, so a client never sees an event that a
   * crash of this instance could take back. In-process, readers get lines at once.
   */
  commitGated: boolean;
}

export class LiveLog {
  /** Every line from baseSeq on. */
  readonly lines: string[] = [];
  state: ResponseObject;
  /** Index into `lines` of the first line not yet handed to the store. */
  flushedUpTo = 0;
  /** A foreground response not yet in the store: its first group commit inserts it (see AppendBatch.create). */
  pendingCreate: AppendBatch['create'];
  /** Metadata updated while it runs (see responses/metadata.ts); `state.metadata` follows it. */
  metadata: Record<string, string> | undefined;
  /** The status the store holds (as of the last commit); a log starts from what is stored. */
  committedStatus: string;
  /**
   * A blocking store:false response is never stored, streamed or retrievable: its events only feed the
   * projection that becomes the reply, so its lines are never serialised.
   */
  readonly unobserved: boolean;
  /** Readers wait for commits (persisted logs of a scale-out instance). */
  private readonly gated: boolean;
  /**
   * Commits are failing: until one goes through, readers of this log get committed lines only, as a
   * gated log's do, so that no client sees an event that a crash could take back (see Flusher.failing).
   */
  private holding = false;
  /** Index into `lines` up to which live readers have been given lines. */
  private released = 0;
  /** The store could not take this log's lines in time (see stall()); cleared by the next commit. */
  private stalledBy: Error | undefined;
  /** Deleted: the flusher writes nothing more of it (see Flusher.drop). */
  dropped = false;
  /** performance.now() of the first output event (metrics: time to first output); 0 before it. */
  firstOutputAt = 0;
  /** Index of the first line the store refused (another instance took the response over), if any. */
  private refusedFrom: number | null = null;
  // Created on first use: most responses (every blocking one) never get a live reader.
  private listeners: Set<LineListener> | undefined;
  private endListeners: Set<(err?: Error) => void> | undefined;
  private durableWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> | undefined;

  /** The owner's tenant, when known: its webhook endpoints get the terminal event (Flusher.webhooksFor). */
  tenant?: string;

  constructor(
    readonly id: string,
    initial: ResponseObject,
    /** Sequence number of lines[0]: 0 for a new response, lastSeq+1 for one resumed after a restart. */
    readonly baseSeq: number,
    readonly mode: LogMode,
    private readonly onDirty: (log: LiveLog) => void,
    pendingCreate?: AppendBatch['create'],
  ) {
    this.state = initial;
    this.committedStatus = initial.status;
    this.pendingCreate = pendingCreate;
    this.unobserved = mode.blocking && !mode.persist;
    this.gated = mode.commitGated && mode.persist;
  }

  get persist(): boolean {
    return this.mode.persist;
  }

  /** The response has its terminal event (it may not be committed yet: see durable()). */
  get terminal(): boolean {
    return isTerminalStatus(this.state.status);
  }

  get nextSeq(): number {
    return this.baseSeq + this.lines.length;
  }

  /**
   * Appends one event and returns its sequence number. A value that cannot be serialised throws before
   * a number is taken, so numbering stays gap-free; the caller then fails the response.
   */
  append(ev: ResponseEvent): number {
    if (this.terminal) throw new Error(`response ${this.id} already ended`);
    const seq = this.nextSeq;
    // Nobody can ever read an unobserved log's lines: keep the numbering, skip the serialising.
    // `sequence_number` goes last, as `{ ...ev, sequence_number }` would put it, without copying the event.
    const line = this.unobserved ? '' : toLine(ev.type, `${JSON.stringify(ev).slice(0, -1)},"sequence_number":${seq}}`);
    this.lines.push(line);
    if (!this.firstOutputAt && ev.type.startsWith('response.output_')) this.firstOutputAt = performance.now();
    this.state = apply(this.state, ev);
    const ended = this.terminal;
    // First, so that a flusher whose commits fail holds this line back (hold()) before anyone reads it.
    if (this.mode.persist) this.onDirty(this);
    // A stalled log's readers skip the lines the store never took and get what ends the response.
    if ((!this.gated && !this.holding) || this.stalledBy) {
      this.released = this.lines.length;
      if (this.listeners) {
        for (const l of this.listeners) l(seq, line);
        if (ended) for (const l of this.endListeners!) l();
      }
    }
    if (!this.mode.persist && ended) this.markDurable();
    return seq;
  }

  /** Commits are failing: readers get committed lines only from now on (until a commit goes through). */
  hold(): void {
    this.holding = true;
  }

  /**
   * The store has not taken this log's lines within the commit timeout. A run still going is failed by
   * its executor, and those lines reach readers. Readers of a log that already ended are told why
   * they get no terminal event (the response ended, but it is not stored).
   */
  stall(err: Error): void {
    if (this.stalledBy) return;
    this.stalledBy = err;
    // Whoever waits for the commit to answer (a blocking create, a retrieve, a cancel) answers `err`.
    const waiters = this.durableWaiters;
    this.durableWaiters = undefined;
    if (waiters) for (const w of waiters) w.reject(err);
    if (this.terminal && this.released < this.lines.length) this.endReaders(err);
  }

  /** Deleted: nothing more of it is written; readers waiting for lines stop, commit waiters go on. */
  drop(): void {
    this.dropped = true;
    this.endReaders();
    this.markDurable();
  }

  private endReaders(err?: Error): void {
    if (!this.endListeners) return;
    for (const l of this.endListeners) l(err);
    this.listeners!.clear();
    this.endListeners.clear();
  }

  /**
   * Replays lines with seq > afterSeq that are in memory, then delivers new ones as they are appended.
   * Synchronous, so nothing can be appended between the replay and the subscription.
   */
  subscribe(afterSeq: number, onLine: LineListener, onEnd: (err?: Error) => void): () => void {
    const visible = this.refusedFrom ?? this.released;
    for (let i = Math.max(0, afterSeq + 1 - this.baseSeq); i < visible; i++) onLine(this.baseSeq + i, this.lines[i]);
    if ((this.terminal && visible === this.lines.length) || this.refusedFrom !== null) {
      onEnd();
      return () => {};
    }
    if (this.terminal && this.stalledBy) {
      onEnd(this.stalledBy);
      return () => {};
    }
    const listeners = (this.listeners ??= new Set());
    const endListeners = (this.endListeners ??= new Set());
    listeners.add(onLine);
    endListeners.add(onEnd);
    return () => {
      listeners.delete(onLine);
      endListeners.delete(onEnd);
    };
  }

  /**
   * Called by the flusher when `batch` (lines[flushedUpTo, upTo)) is committed, or refused (see
   * AppendBatch.rejected: the store kept none of them). Gated readers get committed lines now; after a
   * refusal they stop rather than see lines that are not in the log, and can resume from the log on
   * any instance.
   */
  committed(upTo: number, batch: Pick<AppendBatch, 'status' | 'create' | 'rejected'>): void {
    if (batch.create) this.pendingCreate = undefined;
    this.committedStatus = batch.status;
    const from = this.flushedUpTo;
    this.flushedUpTo = upTo;
    if (batch.rejected && this.refusedFrom === null) this.refusedFrom = from;
    if (!this.gated && !this.holding) return;
    // Commits go through again: one instance's readers get every line at once again, as before the failure.
    const to = this.gated ? upTo : this.lines.length;
    this.holding = false;
    this.stalledBy = undefined;
    const start = this.released;
    this.released = Math.max(this.released, to);
    if (!this.listeners) return;
    if (this.refusedFrom === null) for (let i = start; i < to; i++) for (const l of this.listeners) l(this.baseSeq + i, this.lines[i]);
    if ((this.terminal && this.released === this.lines.length) || this.refusedFrom !== null) {
      for (const l of this.endListeners!) l();
      this.listeners.clear();
      this.endListeners!.clear();
    }
  }

  /** A metadata update: events from now on carry it, and readers lay it over those before. */
  updateMetadata(metadata: Record<string, string>): void {
    this.metadata = metadata;
    this.state.metadata = metadata;
  }

  /** The store refused this log's lines: the response goes on elsewhere (readers follow it from the store). */
  get refused(): boolean {
    return this.refusedFrom !== null;
  }

  /** Called by the flusher once every line up to the terminal one is committed. */
  markDurable(): void {
    const waiters = this.durableWaiters;
    this.durableWaiters = undefined;
    if (waiters) for (const w of waiters) w.resolve();
  }

  get isDurable(): boolean {
    return this.terminal && (!this.mode.persist || this.flushedUpTo === this.lines.length);
  }

  /**
   * Resolves when the terminal event is stored (at once for store:false, or once deleted). Rejects with
   * a 503 `store_unavailable` if the store has not taken the log's lines within the commit timeout.
   */
  durable(): Promise<void> {
    if (this.isDurable || this.dropped) return Promise.resolve();
    if (this.stalledBy) return Promise.reject(this.stalledBy);
    return new Promise((resolve, reject) => (this.durableWaiters ??= []).push({ resolve, reject }));
  }
}
