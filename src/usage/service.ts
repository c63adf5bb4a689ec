// Usage reports over the store, scoped to the caller: a key sees every end user of its own; a request
// made on behalf of an end user (X-On-Behalf-Of) sees that end user's usage only.
import type { Owner, Store } from '../store/types.js';
import { pageSpan, parseUsageQuery, usagePage } from './responses-usage.js';

export class UsageService {
  constructor(private readonly store: Store) {}

  async responses(owner: Owner, query: Record<string, string | string[] | undefined>) {
    const p = parseUsageQuery(query);
    const { firstBucket, buckets } = pageSpan(p);
    const start = p.start + firstBucket * p.width;
    const rows = await this.store.usageRows({
      tenant: owner.tenant, endUser: owner.endUser || undefined,
      start, end: Math.min(p.end, start + buckets * p.width), width: p.width,
    });
    for (const r of rows) r.bucket += firstBucket;
    return usagePage(p, rows, owner.tenant);
  }
}
