// Guardrail settings and the prompt repository on SQLite (issue 23): tables of migration 10, written through
// the store's `write` (BEGIN IMMEDIATE with retries), read directly (WAL readers never wait).
import type Database from 'better-sqlite3';
import type { GuardrailRow, GuardrailStore } from '../guardrails.js';
import { PROMPT_COLS as PCOLS, PROMPT_VERSION_COLS as VCOLS, toPrompt, toVersion, type PromptListQuery, type PromptRecord, type PromptRow as PRow, type PromptStore, type PromptVersionRecord, type PromptVersionRow as VRow } from '../prompts.js';
import type { Owner } from '../types.js';

export const promptsMigration = {
  version: 10,
  sql: `
    CREATE TABLE guardrails (
      tenant TEXT PRIMARY KEY,
      settings TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE prompts (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      end_user TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT,
      metadata TEXT NOT NULL,
      active_version INTEGER NOT NULL,
      latest_version INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX prompts_owner ON prompts (tenant, end_user, id);
    CREATE TABLE prompt_versions (
      prompt_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      id TEXT NOT NULL,
      template TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (prompt_id, version)
    );
  `,
};

type Write = <T>(fn: () => T) => Promise<T>;

export class SqliteGuardrailStore implements GuardrailStore {
  constructor(private readonly db: Database.Database, private readonly write: Write) {}

  async getGuardrails(tenant: string): Promise<GuardrailRow | undefined> {
    const r = this.db.prepare('SELECT settings, updated_at FROM guardrails WHERE tenant = ?').get(tenant) as { settings: string; updated_at: number } | undefined;
    return r && { settings: r.settings, updatedAt: r.updated_at };
  }

  async putGuardrails(tenant: string, row: GuardrailRow): Promise<void> {
    await this.write(() => this.db.prepare(`INSERT INTO guardrails (tenant, settings, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`).run(tenant, row.settings, row.updatedAt));
  }
}

export class SqlitePromptStore implements PromptStore {
  constructor(private readonly db: Database.Database, private readonly write: Write) {}

  private row(id: string): PromptRecord | undefined {
    const r = this.db.prepare(`SELECT ${PCOLS} FROM prompts WHERE id = ?`).get(id) as PRow | undefined;
    return r && toPrompt(r);
  }

  async createPrompt(p: PromptRecord, v: PromptVersionRecord): Promise<void> {
    await this.write(() => {
      this.db.prepare(`INSERT INTO prompts (${PCOLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        p.id, p.tenant, p.endUser, p.name, p.description, p.metadata, p.activeVersion, p.latestVersion, p.createdAt, p.updatedAt);
      this.db.prepare('INSERT INTO prompt_versions (prompt_id, version, id, template, created_at) VALUES (?, ?, ?, ?, ?)').run(
        v.promptId, v.version, v.id, v.template, v.createdAt);
    });
  }

  async getPrompt(id: string, owner: Owner): Promise<PromptRecord | undefined> {
    const r = this.db.prepare(`SELECT ${PCOLS} FROM prompts WHERE id = ? AND tenant = ? AND end_user = ?`).get(id, owner.tenant, owner.endUser) as PRow | undefined;
    return r && toPrompt(r);
  }

  async listPrompts(owner: Owner, q: PromptListQuery): Promise<PromptRecord[]> {
    const dir = q.order === 'desc' ? 'DESC' : 'ASC';
    const after = q.after ? `AND id ${q.order === 'desc' ? '<' : '>'} ?` : '';
    const args: unknown[] = [owner.tenant, owner.endUser, ...(q.after ? [q.after] : []), q.limit];
    return (this.db.prepare(`SELECT ${PCOLS} FROM prompts WHERE tenant = ? AND end_user = ? ${after} ORDER BY id ${dir} LIMIT ?`).all(...args) as PRow[]).map(toPrompt);
  }

  async updatePrompt(id: string, p: Pick<PromptRecord, 'name' | 'description' | 'metadata' | 'updatedAt'>): Promise<PromptRecord | undefined> {
    return this.write(() => {
      this.db.prepare('UPDATE prompts SET name = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?').run(p.name, p.description, p.metadata, p.updatedAt, id);
      return this.row(id);
    });
  }

  async addVersion(promptId: string, versionId: string, template: string, now: number) {
    return this.write(() => {
      const cur = this.row(promptId);
      if (!cur) return undefined;
      const version = cur.latestVersion + 1;
      this.db.prepare('INSERT INTO prompt_versions (prompt_id, version, id, template, created_at) VALUES (?, ?, ?, ?, ?)').run(promptId, version, versionId, template, now);
      this.db.prepare('UPDATE prompts SET latest_version = ?, active_version = ?, updated_at = ? WHERE id = ?').run(version, version, now, promptId);
      return { prompt: { ...cur, latestVersion: version, activeVersion: version, updatedAt: now }, version: { id: versionId, promptId, version, template, createdAt: now } };
    });
  }

  async getVersion(promptId: string, version: number): Promise<PromptVersionRecord | undefined> {
    const r = this.db.prepare('SELECT id, prompt_id, version, template, created_at FROM prompt_versions WHERE prompt_id = ? AND version = ?').get(promptId, version) as VRow | undefined;
    return r && toVersion(r);
  }

  async listVersions(promptId: string, q: { after?: number; limit: number; order: 'asc' | 'desc' }): Promise<PromptVersionRecord[]> {
    const after = q.after !== undefined ? `AND version ${q.order === 'desc' ? '<' : '>'} ?` : '';
    const args: unknown[] = [promptId, ...(q.after !== undefined ? [q.after] : []), q.limit];
    return (this.db.prepare(`SELECT id, prompt_id, version, template, created_at FROM prompt_versions WHERE prompt_id = ? ${after}
      ORDER BY version ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`).all(...args) as VRow[]).map(toVersion);
  }

  async setActiveVersion(promptId: string, version: number, now: number): Promise<PromptRecord | undefined> {
    return this.write(() => {
      this.db.prepare('UPDATE prompts SET active_version = ?, updated_at = ? WHERE id = ?').run(version, now, promptId);
      return this.row(promptId);
    });
  }

  async deletePrompt(id: string): Promise<boolean> {
    return this.write(() => {
      this.db.prepare('DELETE FROM prompt_versions WHERE prompt_id = ?').run(id);
      return this.db.prepare('DELETE FROM prompts WHERE id = ?').run(id).changes > 0;
    });
  }
}
