// The usage ledger (issue 23): one row per chat completion, written in batches by usage/ledger.ts, and
// the sums the completions and conversations usage endpoints read (usage/completions-usage.ts,
// usage/conversations-usage.ts). Conversations usage is computed from the conversations tables.
import type { UsageQuery } from './types.js';

/** One chat completion, as recorded. */
export interface LedgerRow {
  tenant: string;
  endUser: string;
  model: string;
  /** Unix seconds. */
  createdAt: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  requests: number;
  stream: boolean;
}

/** Sums over one bucket × end user × model. */
export interface CompletionUsageRow {
  bucket: number;
  endUser: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
}

/** Counts over one bucket × end user. */
export interface ConversationUsageRow {
  bucket: number;
  endUser: string;
  created: number;
  items: number;
  operations: number;
}

export interface UsageStore {
  /** Many completions in one transaction. */
  insert(rows: LedgerRow[]): Promise<void>;
  completionRows(q: UsageQuery): Promise<CompletionUsageRow[]>;
  conversationRows(q: UsageQuery): Promise<ConversationUsageRow[]>;
}
