// Reads that wait out a short store outage (a restart, a failover) instead of failing at once: used
// where a failure cannot be answered with a retryable 503, i.e. by a stream already under way.
import { isStorageUnavailable } from './errors.js';

const RETRY_MS = 250;

/** Calls `fn` until it succeeds, retrying "store unavailable" errors for up to `patienceMs`. */
export async function patiently<T>(fn: () => Promise<T>, patienceMs: number, aborted: () => boolean = () => false): Promise<T> {
  const giveUpAt = Date.now() + patienceMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isStorageUnavailable(err) || Date.now() >= giveUpAt || aborted()) throw err;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
