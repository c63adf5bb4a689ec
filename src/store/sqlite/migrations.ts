// Numbered migrations, applied in order inside one transaction each; `user_version` records progress.
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
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        end_user TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        background INTEGER NOT NULL,
        previous_response_id TEXT,
        conversation_id TEXT,
        last_seq INTEGER NOT NULL,
        snapshot TEXT NOT NULL,
        request TEXT NOT NULL
      );
      CREATE INDEX responses_owner ON responses (tenant, end_user, seq);
      CREATE INDEX responses_unfinished ON responses (status) WHERE status IN ('queued', 'in_progress');
      CREATE TABLE response_items (
        response_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        idx INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (response_id, kind, idx)
      ) WITHOUT ROWID;
      CREATE TABLE response_events (
        response_id TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (response_id, first_seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Conversations (issue 5). Items are ordered by `seq` (the rowid, always increasing), which also
    // keys the contentless FTS5 index of their text; a trigger keeps the index in step on delete.
    // `updated_seq` is a global counter bumped on every change: "last updated" order without ties.
    // `conversation_pending` holds a running response's input items until its terminal commit.
    version: 2,
    sql: `
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        end_user TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_seq INTEGER NOT NULL UNIQUE,
        metadata TEXT NOT NULL
      );
      CREATE INDEX conversations_owner ON conversations (tenant, end_user, updated_seq);
      CREATE TABLE conversation_items (
        seq INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,
        response_id TEXT,
        created_at INTEGER NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX conversation_items_order ON conversation_items (conversation_id);
      CREATE INDEX conversation_items_id ON conversation_items (conversation_id, item_id);
      CREATE VIRTUAL TABLE conversation_items_fts USING fts5 (
        text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER conversation_items_fts_delete AFTER DELETE ON conversation_items BEGIN
        DELETE FROM conversation_items_fts WHERE rowid = old.seq;
      END;
      CREATE TABLE conversation_pending (
        response_id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        items TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    // A metadata update is kept apart from the snapshot, which running responses rewrite (see ResponseRecord.metadata).
    version: 3,
    sql: 'ALTER TABLE responses ADD COLUMN metadata TEXT;',
  },
  {
    // Files (issue 20): the records; the bytes are files under <data folder>/files/ (sqlite/files.ts).
    version: 4,
    sql: `
      CREATE TABLE files (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        end_user TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        filename TEXT NOT NULL,
        purpose TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        mime_type TEXT NOT NULL,
        expires_at INTEGER
      );
      CREATE INDEX files_owner ON files (tenant, end_user, id);
    `,
  },
  {
    // Vector stores (issue 20). Store files are the ingestion queue (status, lease: locked_by /
    // locked_until, attempts). Chunks are numbered by `seq`, which keys the external-content FTS5 index
    // (Porter stemming, so search matches word forms); triggers keep the index in step.
    version: 5,
    sql: `
      CREATE TABLE vector_stores (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        end_user TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        metadata TEXT,
        expires_after_days INTEGER,
        last_active_at INTEGER NOT NULL,
        embedding_model TEXT
      );
      CREATE INDEX vector_stores_owner ON vector_stores (tenant, end_user, id);
      CREATE TABLE vector_store_file_batches (
        id TEXT PRIMARY KEY,
        vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        cancelled INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX vector_store_file_batches_store ON vector_store_file_batches (vector_store_id);
      CREATE TABLE vector_store_files (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        vector_store_id TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
        file_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        last_error TEXT,
        attributes TEXT,
        chunking TEXT NOT NULL,
        usage_bytes INTEGER NOT NULL DEFAULT 0,
        batch_id TEXT,
        text TEXT,
        locked_by TEXT,
        locked_until INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        UNIQUE (vector_store_id, file_id)
      );
      CREATE INDEX vector_store_files_file ON vector_store_files (file_id);
      CREATE INDEX vector_store_files_pending ON vector_store_files (seq) WHERE status = 'in_progress';
      CREATE TABLE vector_store_chunks (
        seq INTEGER PRIMARY KEY,
        vector_store_id TEXT NOT NULL,
        file_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        text TEXT NOT NULL,
        vector BLOB
      );
      CREATE INDEX vector_store_chunks_file ON vector_store_chunks (vector_store_id, file_id);
      CREATE VIRTUAL TABLE vector_store_chunks_fts USING fts5 (
        text, content = 'vector_store_chunks', content_rowid = 'seq', tokenize = 'porter unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER vector_store_chunks_fts_insert AFTER INSERT ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts (rowid, text) VALUES (new.seq, new.text);
      END;
      CREATE TRIGGER vector_store_chunks_fts_delete AFTER DELETE ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts, rowid, text) VALUES ('delete', old.seq, old.text);
      END;
    `,
  },
  {
    // Tables whose rows are large move from WITHOUT ROWID to rowid tables. A WITHOUT ROWID table keeps the
    // whole row in its key's b-tree, and SQLite reads a row's entire overflow chain for every key it
    // compares while seeking: finding a replay page of 8 KB event chunks cost ~7x a seek in a rowid table
    // with the same primary key as a separate index (bench/README.md, "Replay").
    version: 6,
    sql: `
      CREATE TABLE response_events_v6 (
        response_id TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (response_id, first_seq)
      );
      INSERT INTO response_events_v6 (response_id, first_seq, data) SELECT response_id, first_seq, data FROM response_events;
      DROP TABLE response_events;
      ALTER TABLE response_events_v6 RENAME TO response_events;
      CREATE TABLE response_items_v6 (
        response_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        idx INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (response_id, kind, idx)
      );
      INSERT INTO response_items_v6 (response_id, kind, idx, item_id, json) SELECT response_id, kind, idx, item_id, json FROM response_items;
      DROP TABLE response_items;
      ALTER TABLE response_items_v6 RENAME TO response_items;
      CREATE TABLE conversation_pending_v6 (
        response_id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        items TEXT NOT NULL
      );
      INSERT INTO conversation_pending_v6 (response_id, conversation_id, items) SELECT response_id, conversation_id, items FROM conversation_pending;
      DROP TABLE conversation_pending;
      ALTER TABLE conversation_pending_v6 RENAME TO conversation_pending;
    `,
  },
  // Webhook outbox (issue 22): defined next to its store.
  webhooksMigration,
  // API keys managed with `respd keys` (issue 23): digests only.
  apiKeysMigration,
  // Containers and their files (code_interpreter, issue 21): defined next to their store.
  containersMigration,
  // Guardrail settings and the prompt repository (issue 23).
  promptsMigration,
  // The usage ledger of chat completions (issue 23): defined next to its store.
  usageLedgerMigration,
];
