// Sleeping responses on this instance. A sleep_call waits here until its time passes, a wake delivers
// input (from POST /wake on this instance, or from another instance through the ControlBus), or the run
// is aborted. Waking resolves a promise: delivery is immediate, well inside the reference's 1 s bound.

import type { CancelSignal } from '../../util/cancel.js';

export type SleepEnd =
  | { endedBy: 'timeout' }
  | { endedBy: 'wake'; input: string }
  | { endedBy: 'interrupted' };

export class SleepRegistry {
  private sleepers = new Map<string, (input: string) => void>();

  /** Registers before resolving anything, so a wake right after the sleep_call item appears is not lost. */
  sleep(responseId: string, ms: number, signal: CancelSignal): Promise<SleepEnd> {
    return new Promise<SleepEnd>((resolve) => {
      const end = (r: SleepEnd) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.sleepers.delete(responseId);
        resolve(r);
      };
      const onAbort = () => end({ endedBy: 'interrupted' });
      const timer = setTimeout(() => end({ endedBy: 'timeout' }), ms);
      if (signal.aborted) return end({ endedBy: 'interrupted' });
      signal.addEventListener('abort', onAbort, { once: true });
      this.sleepers.set(responseId, (input) => end({ endedBy: 'wake', input }));
    });
  }

  /** Delivers `input` to a response sleeping here; false when it is not sleeping on this instance. */
  wake(responseId: string, input: string): boolean {
    const wake = this.sleepers.get(responseId);
    if (!wake) return false;
    wake(input);
    return true;
  }

  isSleeping(responseId: string): boolean {
    return this.sleepers.has(responseId);
  }
}
