// Fair FIFO pool of context sequences.
// Why: a llama context has a fixed number of sequences (its `sequences` option); each concurrent
// generation needs one of its own, and node-llama-cpp batches the active ones together. Requests beyond
// that number must wait in arrival order instead of failing with "No sequences left". A waiting request
// whose signal aborts leaves the queue immediately, so a cancelled client never holds a place.

import type { CancelSignal } from '../../util/cancel.js';

export class SequencePool<S> {
  private readonly free: S[];
  private readonly waiters: { resolve: (s: S | undefined) => void; signal: CancelSignal; onAbort: () => void }[] = [];
  private closed = false;

  constructor(items: S[]) {
    this.free = [...items];
  }

  get available(): number {
    return this.free.length;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a sequence, or undefined when `signal` aborts (or the pool closes) first.
   * Among free sequences the one with the highest `score` wins (ties: the most recently released),
   * which lets the caller prefer a sequence that already holds a matching prompt prefix.
   */
  acquire(signal: CancelSignal, score?: (item: S) => number): Promise<S | undefined> {
    if (this.closed || signal.aborted) return Promise.resolve(undefined);
    // Only hand out directly when nobody is queued, so late arrivals cannot overtake waiters.
    if (this.waiters.length === 0 && this.free.length > 0) {
      let best = this.free.length - 1;
      if (score) {
        let bestScore = -Infinity;
        for (let i = this.free.length - 1; i >= 0; i--) {
          const value = score(this.free[i]!);
          if (value > bestScore) {
            bestScore = value;
            best = i;
          }
        }
      }
      return Promise.resolve(this.free.splice(best, 1)[0]);
    }
    return new Promise((resolve) => {
      const waiter = {
        resolve,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(undefined);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Returns a sequence; the longest-waiting request gets it first. */
  release(item: S): void {
    const next = this.waiters.shift();
    if (next) {
      next.signal.removeEventListener('abort', next.onAbort);
      next.resolve(item);
      return;
    }
    this.free.push(item);
  }

  /** Wakes every waiter with undefined; later acquires resolve undefined too. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(undefined);
    }
  }
}
