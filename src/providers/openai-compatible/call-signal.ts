// One upstream call's cancellation state. The caller's signal (an AbortSignal or a Cancel) and our
// own total-time deadline both abort the same internal signal, so undici sees a single signal; the
// flags tell us afterwards *why* it was aborted (a caller abort ends quietly, a deadline is an error).
//
// The internal signal is an EventEmitter, not an AbortController: an AbortSignal costs far more to
// create (a visible share of a proxied request; figures: bench/README.md, history), and this runs for
// every upstream call. undici accepts either kind (it listens with `once('abort')` and reads `aborted`
// and `reason`).
import { EventEmitter } from 'node:events';
import type { CancelSignal } from '../../util/cancel.js';

/** An aborted-or-not signal for undici and the retry backoff (both use only these members). */
export class CallAbortSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

export interface CallSignal {
  /** Pass this to undici: aborted by the caller's signal or by the deadline. */
  readonly signal: CallAbortSignal;
  /** True when the caller's signal fired (not our deadline). */
  readonly callerAborted: boolean;
  /** True when the total deadline fired before the caller aborted. */
  readonly timedOut: boolean;
  /** Remove listeners and clear the timer; safe to call twice. */
  dispose(): void;
}

export function createCallSignal(callerSignal: CancelSignal | undefined, totalTimeoutMs: number): CallSignal {
  const signal = new CallAbortSignal();
  let callerAborted = false;
  let timedOut = false;

  const onCallerAbort = (): void => {
    if (timedOut) return;
    callerAborted = true;
    signal.abort(callerSignal?.reason);
  };
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

  let timer: NodeJS.Timeout | undefined;
  if (totalTimeoutMs > 0 && !callerAborted) {
    timer = setTimeout(() => {
      if (callerAborted) return;
      timedOut = true;
      signal.abort(new Error('upstream total timeout'));
    }, totalTimeoutMs);
    // The in-flight socket keeps the process alive; the timer alone must not.
    timer.unref();
  }

  return {
    signal,
    get callerAborted() {
      return callerAborted;
    },
    get timedOut() {
      return timedOut;
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}
