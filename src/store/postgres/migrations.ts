// Numbered migrations for PostgreSQL, the same schema as sqlite/migrations.ts version for version.
// Each runs in its own transaction under an advisory lock (instances may start together), and
// `schema_migrations` records which versions are applied.
import { conversationsMigration } from './conversations.js';
import { filesMigration } from './files.js';
import { vectorStoresMigration } from './vector-stores.js';
import { apiKeysMigration } from './api-keys.js';
import { webhooksMigration } from './webhooks.js';
import { containersMigration } from './containers.js';
import { promptsMigration } from './prompts.js';
import { usageLedgerMigration } from './usage.js';

export const migrations: Array<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE responses (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        end_user TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        background BOOLEAN NOT NULL,
        previous_response_id TEXT,
        conversation_id TEXT,
        last_seq INTEGER NOT NULL,
        snapshot TEXT NOT NULL,
        request TEXT NOT NULL
      );
      CREATE INDEX responses_owner ON responses (tenant, end_user, seq);
      CREATE INDEX responses_unfinished ON responses (status) WHERE status IN ('queued', 'in_progress');
      CREATE INDEX responses_created ON responses (created_at);
      CREATE TABLE response_items (
        response_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        idx INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (response_id, kind, idx)
      );
      CREATE TABLE response_events (
        response_id TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (response_id, first_seq)
      );
    `,
  },
  // Conversations (issue 5): defined next to their store, like SQLite's version 2.
  conversationsMigration,
  {
    // A metadata update is kept apart from the snapshot, which running responses rewrite (see ResponseRecord.metadata).
    version: 3,
    sql: 'ALTER TABLE responses ADD COLUMN metadata TEXT;',
  },
  // Files (issue 20): defined next to their store; bytes in the database (every instance reads every file).
  filesMigration,
  // Vector stores (issue 20): BM25 over an 'english' tsvector (see vector-stores.ts).
  vectorStoresMigration,
  // Webhook outbox (issue 22): written by the terminal commit, drained by webhooks/worker.ts.
  webhooksMigration,
  // API keys managed with `respd keys` (issue 23): digests only.
  apiKeysMigration,
  // Containers and their files (code_interpreter, issue 21).
  containersMigration,
  // Guardrail settings and the prompt repository (issue 23).
  promptsMigration,
  // The usage ledger of chat completions (issue 23).
  usageLedgerMigration,
];
