// A cancellation signal that costs nothing to create. Every blocking request and every proxied chat
// completion needs one (a client that hangs up stops the run), yet almost none is ever cancelled, and
// an AbortController's signal is an EventTarget whose creation, listener bookkeeping and garbage are a
// visible share of a cheap request (figures: bench/README.md, history). `Cancel` has the
// members the hot paths use — `aborted`, `reason` and add/removeEventListener('abort') — and a real
// AbortSignal is made only for code that hands one to a library (node-llama-cpp, the MCP SDK,
// AbortSignal.any): `toAbortSignal`.
// Unlike an EventTarget, and like an EventEmitter, a listener removed while the abort is being
// dispatched still runs; every listener here is idempotent.

/** What code that can be cancelled reads; an AbortSignal is one too. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Used like an AbortController (`abort(reason)`, `signal`); it is its own signal. */
export class Cancel implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  // Created on first use: most signals never get a listener.
  private listeners: Array<() => void> | undefined;
  private real: AbortController | undefined;

  get signal(): Cancel {
    return this;
  }

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l();
    this.real?.abort(reason);
  }

  // Listeners run once (an abort happens once), whether or not `once` is given.
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }

  /** A real AbortSignal that aborts with this one (the same one on every call). */
  toAbortSignal(): AbortSignal {
    if (!this.real) {
      this.real = new AbortController();
      if (this.aborted) this.real.abort(this.reason);
    }
    return this.real.signal;
  }
}

/** For APIs that need an AbortSignal proper. */
export function toAbortSignal(signal: CancelSignal): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  if (signal instanceof Cancel) return signal.toAbortSignal();
  const ctl = new AbortController();
  if (signal.aborted) ctl.abort(signal.reason);
  else signal.addEventListener('abort', () => ctl.abort(signal.reason), { once: true });
  return ctl.signal;
}
