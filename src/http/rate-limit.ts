// Per-key limits, checked before any model work: requests per fixed window and open streams at once.
// State is per instance; with N instances behind a balancer each enforces its own share.
import { errors } from '../wire/errors.js';

export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  private streams = new Map<string, number>();

  constructor(private readonly opts: { requests: number; windowMs: number; maxStreams: number }) {}

  /** Counts one request of `tenant`; throws a 429 ApiError with Retry-After when over the limit. */
  hit(tenant: string, now = Date.now()): void {
    let w = this.windows.get(tenant);
    if (!w || now - w.start >= this.opts.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(tenant, w);
      if (this.windows.size > 10_000) this.sweep(now);
    }
    if (++w.count > this.opts.requests) {
      const retry = Math.max(1, Math.ceil((w.start + this.opts.windowMs - now) / 1000));
      throw errors.rateLimited(`Rate limit exceeded: ${this.opts.requests} requests per ${this.opts.windowMs / 1000} s for this key.`, retry);
    }
  }

  /** Reserves one open stream; the returned function releases it. */
  openStream(tenant: string): () => void {
    if (!this.opts.maxStreams) return () => {};
    const n = this.streams.get(tenant) ?? 0;
    if (n >= this.opts.maxStreams) {
      throw errors.rateLimited(`Too many concurrent streams: at most ${this.opts.maxStreams} per key.`, 1);
    }
    this.streams.set(tenant, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.streams.get(tenant) ?? 1) - 1;
      if (left <= 0) this.streams.delete(tenant);
      else this.streams.set(tenant, left);
    };
  }

  private sweep(now: number) {
    for (const [k, w] of this.windows) if (now - w.start >= this.opts.windowMs) this.windows.delete(k);
  }
}
