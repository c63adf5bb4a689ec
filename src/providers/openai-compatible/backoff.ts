// Delay before retrying a failed upstream attempt: exponential backoff with jitter (so parallel
// requests that failed together do not retry in lock-step), or the upstream's own Retry-After
// when it gave one — capped, because a long Retry-After is better surfaced to the client than
// held in an open request.

import type { CallAbortSignal } from './call-signal.js';

const BASE_DELAY_MS = 200;
const MAX_BACKOFF_MS = 5_000;
export const MAX_RETRY_AFTER_MS = 10_000;

/** Parse Retry-After as delta-seconds or an HTTP date; undefined when absent or unusable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const trimmed = v.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `attempt` is 0 for the first retry. */
export function retryDelayMs(attempt: number, retryAfter?: string | string[]): number {
  const fromHeader = parseRetryAfter(retryAfter);
  if (fromHeader !== undefined) return Math.min(fromHeader, MAX_RETRY_AFTER_MS);
  const exp = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_BACKOFF_MS);
  // ±25 % jitter around 200 ms, 400 ms, 800 ms…
  return exp * (0.75 + Math.random() * 0.5);
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts; the caller checks why. */
export function sleep(ms: number, signal: CallAbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.once('abort', done);
  });
}
