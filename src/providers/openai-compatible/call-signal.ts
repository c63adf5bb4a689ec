// One upstream call's cancellation state. The caller's AbortSignal and our own total-time
// deadline both abort the same internal controller, so undici sees a single signal; the flags
// tell us afterwards *why* it was aborted (a caller abort ends quietly, a deadline is an error).

export interface CallSignal {
  /** Pass this to undici: aborted by the caller's signal or by the deadline. */
  readonly signal: AbortSignal;
  /** True when the caller's signal fired (not our deadline). */
  readonly callerAborted: boolean;
  /** True when the total deadline fired before the caller aborted. */
  readonly timedOut: boolean;
  /** Remove listeners and clear the timer; safe to call twice. */
  dispose(): void;
}

export function createCallSignal(callerSignal: AbortSignal | undefined, totalTimeoutMs: number): CallSignal {
  const controller = new AbortController();
  let callerAborted = false;
  let timedOut = false;

  const onCallerAbort = (): void => {
    if (timedOut) return;
    callerAborted = true;
    controller.abort(callerSignal?.reason);
  };
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

  let timer: NodeJS.Timeout | undefined;
  if (totalTimeoutMs > 0 && !callerAborted) {
    timer = setTimeout(() => {
      if (callerAborted) return;
      timedOut = true;
      controller.abort(new Error('upstream total timeout'));
    }, totalTimeoutMs);
    // The in-flight socket keeps the process alive; the timer alone must not.
    timer.unref();
  }

  return {
    signal: controller.signal,
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
