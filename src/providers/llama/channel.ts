// A single-consumer async queue that decouples the generation loop (producer) from whoever reads
// `generate()` (consumer).
// Why: the producer owns a context sequence and must release it on every path. If generation ran
// inside the consumer's async generator, a consumer that stops pulling without calling `return()`
// (e.g. drops the iterator after aborting) would leave the generator suspended at a `yield` forever
// and leak the sequence. With a channel the producer runs to completion on its own (bounded by
// maxOutputTokens / the context size, and stopped promptly by the abort signal), and the consumer
// merely drains a buffer. It also means slow consumers never stall batched decoding of other requests.

export class EventChannel<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private closed = false;
  private failure: { error: unknown } | undefined;
  private waiter: (() => void) | undefined;

  /**
   * `onCancel` runs when the consumer stops early (break / return()). `coalesce` may merge an item into
   * the last one still waiting in the buffer: when the consumer lags behind the model, it then gets one
   * event for several tokens instead of paying its per-event cost for each.
   */
  constructor(
    private readonly onCancel: () => void = () => {},
    private readonly coalesce?: (last: T, next: T) => T | undefined,
  ) {}

  push(item: T): void {
    if (this.closed) return;
    const n = this.buffer.length;
    const merged = n > 0 && this.coalesce ? this.coalesce(this.buffer[n - 1], item) : undefined;
    if (merged !== undefined) this.buffer[n - 1] = merged;
    else this.buffer.push(item);
    this.wake();
  }

  /** Ends the stream after buffered items are delivered. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Ends the stream with an error, thrown to the consumer after buffered items. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = { error };
    this.close();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (this.buffer.length > 0) return { value: this.buffer.shift() as T, done: false };
          if (this.closed) {
            if (this.failure) {
              const { error } = this.failure;
              this.failure = undefined;
              throw error;
            }
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => (this.waiter = resolve));
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        if (!this.closed) {
          this.closed = true;
          this.buffer.length = 0;
          this.onCancel();
        }
        return { value: undefined, done: true };
      },
    };
  }
}
