// The live, in-memory side of a response's event log. It assigns gap-free sequence numbers, keeps every
// line since `baseSeq` in memory while the response runs (so live readers never see a gap between what
// is stored and what is live), folds events into the projection, and hands pending lines to the
// group-commit flusher.
import type { AppendBatch } from '../store/types.js';
import { toLine, TERMINAL_EVENTS } from './event-line.js';
import { apply } from './projection.js';
import type { EventData, ResponseObject } from './types.js';

export type LineListener = (seq: number, line: string) => void;

export class LiveLog {
  /** Every line from baseSeq on. */
  readonly lines: string[] = [];
  state: ResponseObject;
  terminal = false;
  /** Index into `lines` of the first line not yet handed to the store. */
  flushedUpTo = 0;
  /**
   * Scale-out (set by a shared hub): readers get a line only once it is committed, so a client never
   * sees an event that a crash of this instance could take back. In-process, readers get lines at once.
   */
  commitGated = false;
  /**
   * Set for a blocking request (neither streamed nor background): its caller waits for the final
   * object and nobody follows its deltas live, so a model turn may arrive in one piece (see
   * Provider.complete). Its events are the same kinds, in the same order, with coarser deltas.
   */
  blocking = false;
  /** A foreground response not yet in the store: its first group commit inserts it (see AppendBatch.create). */
  pendingCreate: AppendBatch['create'];
  /** The status the store holds (as of the last commit); a log starts from what is stored. */
  committedStatus: string;
  /** Index of the first line the store refused (another instance took the response over), if any. */
  private refusedFrom: number | null = null;
  // Created on first use: most responses (every blocking one) never get a live reader.
  private listeners: Set<LineListener> | undefined;
  private endListeners: Set<() => void> | undefined;
  private durableWaiters: Array<() => void> | undefined;

  constructor(
    readonly id: string,
    initial: ResponseObject,
    /** Sequence number of lines[0]: 0 for a new response, lastSeq+1 for one resumed after a restart. */
    readonly baseSeq: number,
    /** store:false responses are never written. */
    readonly persist: boolean,
    private readonly onDirty: (log: LiveLog) => void,
  ) {
    this.state = initial;
    this.committedStatus = initial.status;
  }

  /**
   * A blocking store:false response is never stored, streamed or retrievable: its events only feed
   * the projection that becomes the reply.
   */
  get unobserved(): boolean {
    return this.blocking && !this.persist;
  }

  get nextSeq(): number {
    return this.baseSeq + this.lines.length;
  }

  /**
   * Appends one event and returns its sequence number. A value that cannot be serialised throws before
   * a number is taken, so numbering stays gap-free; the caller then fails the response.
   */
  append(ev: EventData): number {
    if (this.terminal) throw new Error(`response ${this.id} already ended`);
    const seq = this.nextSeq;
    // Nobody can ever read an unobserved log's lines: keep the numbering, skip the serialising.
    const line = this.unobserved ? '' : toLine(ev.type, JSON.stringify({ ...ev, sequence_number: seq }));
    this.lines.push(line);
    this.state = apply(this.state, ev);
    if (TERMINAL_EVENTS.has(ev.type)) this.terminal = true;
    if (this.listeners && !this.gated) {
      for (const l of this.listeners) l(seq, line);
      if (this.terminal) for (const l of this.endListeners!) l();
    }
    if (this.persist) this.onDirty(this);
    else if (this.terminal) this.markDurable();
    return seq;
  }

  /**
   * Replays lines with seq > afterSeq that are in memory, then delivers new ones as they are appended.
   * Synchronous, so nothing can be appended between the replay and the subscription.
   */
  subscribe(afterSeq: number, onLine: LineListener, onEnd: () => void): () => void {
    const visible = this.gated ? this.refusedFrom ?? this.flushedUpTo : this.lines.length;
    for (let i = Math.max(0, afterSeq + 1 - this.baseSeq); i < visible; i++) onLine(this.baseSeq + i, this.lines[i]);
    if ((this.terminal && visible === this.lines.length) || this.refusedFrom !== null) {
      onEnd();
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

  private get gated(): boolean {
    return this.commitGated && this.persist;
  }

  /**
   * Called by the flusher when lines[0, upTo) are handed to the store; gated readers get them now.
   * `refused`: the store kept none of them (see AppendBatch.rejected): gated readers stop here rather
   * than see lines that are not in the log, and can resume from the log on any instance.
   */
  committed(upTo: number, refused = false): void {
    const from = this.flushedUpTo;
    this.flushedUpTo = upTo;
    if (refused && this.refusedFrom === null) this.refusedFrom = from;
    if (!this.gated || !this.listeners) return;
    if (this.refusedFrom === null) for (let i = from; i < upTo; i++) for (const l of this.listeners) l(this.baseSeq + i, this.lines[i]);
    if ((this.terminal && upTo === this.lines.length) || this.refusedFrom !== null) {
      for (const l of this.endListeners!) l();
      this.listeners.clear();
      this.endListeners!.clear();
    }
  }

  /** Called by the flusher once every line up to the terminal one is committed. */
  markDurable(): void {
    const waiters = this.durableWaiters;
    this.durableWaiters = undefined;
    if (waiters) for (const w of waiters) w();
  }

  get isDurable(): boolean {
    return this.terminal && (!this.persist || this.flushedUpTo === this.lines.length);
  }

  /** Resolves when the terminal event is stored (at once for store:false). */
  durable(): Promise<void> {
    if (this.isDurable) return Promise.resolve();
    return new Promise((resolve) => (this.durableWaiters ??= []).push(resolve));
  }
}
