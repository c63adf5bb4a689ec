// A single-consumer async queue that decouples the generation loop (producer) from whoever reads
// `generate()` (consumer).
// Why: the producer owns a context sequence and must release it on every path. If generation ran
// inside the consumer's async generator, a consumer that stops pulling without calling `return()`
// (e.g. drops the iterator after aborting) would leave the generator suspended at a `yield` forever
// and leak the sequence. With a channel the producer runs to completion on its own (bounded by
// maxOutputTokens / the context size, and stopped promptly by the abort signal), and the consumer
// merely drains a buffer. It also means slow consumers never stall batched decoding of other requests.
//
// Pacing. The consumer's work per item (building an event, storing it, writing an SSE frame) runs on
// the same JS thread that must hand llama.cpp its next decode. Two rules keep that work off the
// token loop's critical path:
//  - the consumer is woken with setImmediate, never synchronously: by then node-llama-cpp has
//    dispatched the next decode (it schedules that as a microtask), so the consumer's work overlaps
//    the native decode running on its worker thread instead of delaying it;
//  - items that can be merged (text deltas) are delivered at most once per `intervalMs`: tokens that
//    arrive faster than that are merged into one delta. A small model on a CPU produces tokens faster
//    than the per-event work (an event, an SSE write and a client wake-up, on cores the decode needs
//    too) can keep up with, and paying it for each token slows the model down (figures: bench/README.md,
//    history). A large model (tens of ms per token) is never held back, and the first delta is never
//    delayed.

export interface ChannelOptions<T> {
  /** Runs when the consumer stops early (break / return()). */
  onCancel?: () => void;
  /** Merges `next` into `last` (both still waiting in the buffer), or returns undefined when it cannot. */
  coalesce?: (last: T, next: T) => T | undefined;
  /** Whether an item may wait up to `intervalMs` for more to merge with (default: none may). */
  holdable?: (item: T) => boolean;
  /** Minimum time between two deliveries of holdable items, in ms. 0 = deliver each at once. */
  intervalMs?: number;
}

export class EventChannel<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private closed = false;
  private failure: { error: unknown } | undefined;
  private waiter: (() => void) | undefined;
  /** A wake-up is scheduled (setImmediate or the hold timer). */
  private wakeScheduled = false;
  private holdTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last delivery to the consumer. */
  private lastDelivery = -Infinity;

  constructor(private readonly opts: ChannelOptions<T> = {}) {}

  push(item: T): void {
    if (this.closed) return;
    const n = this.buffer.length;
    const merged = n > 0 && this.opts.coalesce ? this.opts.coalesce(this.buffer[n - 1], item) : undefined;
    if (merged !== undefined) this.buffer[n - 1] = merged;
    else this.buffer.push(item);
    this.schedule(this.buffer.every((x) => this.opts.holdable?.(x) ?? false));
  }

  /** Ends the stream after buffered items are delivered. */
  close(): void {
    this.closed = true;
    this.schedule(false);
  }

  /** Ends the stream with an error, thrown to the consumer after buffered items. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = { error };
    this.close();
  }

  /** Wakes a waiting consumer: at once (next turn of the loop), or once the hold interval is over. */
  private schedule(mayHold: boolean): void {
    if (!this.waiter) return;
    const interval = this.opts.intervalMs ?? 0;
    const wait = mayHold && interval > 0 ? this.lastDelivery + interval - performance.now() : 0;
    if (wait >= 1) {
      if (!this.wakeScheduled) {
        this.wakeScheduled = true;
        this.holdTimer = setTimeout(this.wake, Math.ceil(wait));
      }
      return;
    }
    if (this.holdTimer) {
      // Something that must not wait (or the interval is over): cancel the hold and wake now.
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
      this.wakeScheduled = false;
    }
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(this.wake);
  }

  private readonly wake = (): void => {
    this.wakeScheduled = false;
    this.holdTimer = undefined;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  };

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (this.buffer.length > 0) {
            this.lastDelivery = performance.now();
            return { value: this.buffer.shift() as T, done: false };
          }
          if (this.closed) {
            if (this.failure) {
              const { error } = this.failure;
              this.failure = undefined;
              throw error;
            }
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => {
            this.waiter = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        if (!this.closed) {
          this.closed = true;
          this.buffer.length = 0;
          if (this.holdTimer) clearTimeout(this.holdTimer);
          this.opts.onCancel?.();
        }
        return { value: undefined, done: true };
      },
    };
  }
}
