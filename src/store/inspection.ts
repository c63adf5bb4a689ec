// What `respd check` reports about a store (migrations, row counts) without changing it: it may run
// next to live servers and against a store a newer or older respd migrated.

export interface StoreInspection {
  /** Migration versions recorded as applied. */
  applied: number[];
  /** Versions this build knows, in order. */
  known: number[];
  /** Rows per table, for the tables that exist (a store not yet migrated has none). */
  counts: Record<string, number>;
}

/** The tables whose rows are counted: what an operator sizes a store by. */
export const COUNTED_TABLES = [
  'responses', 'response_events', 'response_items', 'conversations', 'conversation_items', 'files',
  'vector_stores', 'vector_store_files', 'vector_store_chunks', 'webhook_outbox', 'api_keys', 'containers', 'container_files',
  'guardrails', 'prompts', 'prompt_versions', 'usage_ledger',
] as const;
