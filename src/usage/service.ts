// Usage reports over the store, scoped to the caller: a key sees every end user of its own; a request
// made on behalf of an end user (X-On-Behalf-Of) sees that end user's usage only. Also the entry point
// of the usage ledger (chat completions record their tokens here; see ledger.ts).
import type { Owner, Store, UsageQuery } from '../store/types.js';
import { ApiError } from '../wire/errors.js';
import { completionsUsagePage, COMPLETIONS_SPEC } from './completions-usage.js';
import { conversationsUsagePage, CONVERSATIONS_SPEC } from './conversations-usage.js';
import { UsageLedger } from './ledger.js';
import { pageWindow, parseUsageQuery, type RawQuery, type UsageParams, type UsageSpec } from './query.js';
import { responsesUsagePage, RESPONSES_SPEC } from './responses-usage.js';
import type { ChatTokens } from './tail-usage.js';

export class UsageService {
  private readonly ledger?: UsageLedger;

  constructor(private readonly store: Store, warn: (err: unknown, msg: string) => void = () => {}) {
    if (store.usage) this.ledger = new UsageLedger(store.usage, warn);
  }

  /** One chat completion (tokens undefined: the upstream did not say, e.g. a stream without include_usage). */
  recordCompletion(owner: Owner, model: string, tokens: ChatTokens | undefined, stream: boolean): void {
    this.ledger?.record({
      tenant: owner.tenant, endUser: owner.endUser, model, createdAt: Math.floor(Date.now() / 1000),
      inputTokens: tokens?.input ?? 0, outputTokens: tokens?.output ?? 0, cachedTokens: tokens?.cached ?? 0, requests: 1, stream,
    });
  }

  /** Writes the ledger's buffer (shutdown). */
  close(): Promise<void> {
    return this.ledger?.close() ?? Promise.resolve();
  }

  async responses(owner: Owner, query: RawQuery) {
    const [p, q, first] = this.window(owner, query, RESPONSES_SPEC);
    return responsesUsagePage(p, shift(await this.store.usageRows(q), first), owner.tenant);
  }

  async completions(owner: Owner, query: RawQuery) {
    const [p, q, first] = this.window(owner, query, COMPLETIONS_SPEC);
    if (!this.store.usage) throw noLedger();
    return completionsUsagePage(p, shift(await this.store.usage.completionRows(q), first), owner.tenant);
  }

  async conversations(owner: Owner, query: RawQuery) {
    const [p, q, first] = this.window(owner, query, CONVERSATIONS_SPEC);
    if (!this.store.usage) throw noLedger();
    return conversationsUsagePage(p, shift(await this.store.usage.conversationRows(q), first), owner.tenant);
  }

  private window(owner: Owner, query: RawQuery, spec: UsageSpec): [UsageParams, UsageQuery, number] {
    const p = parseUsageQuery(query, spec);
    const w = pageWindow(p);
    return [p, { tenant: owner.tenant, endUser: owner.endUser || undefined, start: w.start, end: w.end, width: w.width }, w.firstBucket];
  }
}

/** The store numbers buckets from the page's start; the page numbers them from the query's start. */
function shift<R extends { bucket: number }>(rows: R[], first: number): R[] {
  for (const r of rows) r.bucket += first;
  return rows;
}

const noLedger = () => new ApiError('not_implemented', 'This store keeps no usage ledger.');
