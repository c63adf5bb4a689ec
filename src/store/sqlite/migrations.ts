// Numbered migrations, applied in order inside one transaction each; `user_version` records progress.
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
];
