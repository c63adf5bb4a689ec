// Guardrail settings and the prompt repository on PostgreSQL (issue 23), shared by every instance. A new
// version locks its prompt row (SELECT … FOR UPDATE) so concurrent versions get consecutive numbers.
import type pg from 'pg';
import { inTransaction } from './tx.js';
import type { GuardrailRow, GuardrailStore } from '../guardrails.js';
import { PROMPT_COLS as PCOLS, PROMPT_VERSION_COLS as VCOLS, toPrompt, toVersion, type PromptListQuery, type PromptRecord, type PromptRow as PRow, type PromptStore, type PromptVersionRecord, type PromptVersionRow as VRow } from '../prompts.js';
import type { Owner } from '../types.js';

/** Version 9 of the PostgreSQL migrations (SQLite's version 10: the same tables). */
export const promptsMigration = {
  version: 9,
  sql: `
    CREATE TABLE guardrails (
      tenant TEXT PRIMARY KEY,
      settings TEXT NOT NULL,
      updated_at BIGINT NOT NULL
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
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    );
    CREATE INDEX prompts_owner ON prompts (tenant, end_user, id);
    CREATE TABLE prompt_versions (
      prompt_id TEXT NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      id TEXT NOT NULL,
      template TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (prompt_id, version)
    );
  `,
};

export class PgGuardrailStore implements GuardrailStore {
  constructor(private readonly pool: pg.Pool) {}

  async getGuardrails(tenant: string): Promise<GuardrailRow | undefined> {
    const { rows } = await this.pool.query<{ settings: string; updated_at: string }>('SELECT settings, updated_at FROM guardrails WHERE tenant = $1', [tenant]);
    return rows[0] && { settings: rows[0].settings, updatedAt: Number(rows[0].updated_at) };
  }

  async putGuardrails(tenant: string, row: GuardrailRow): Promise<void> {
    await this.pool.query(`INSERT INTO guardrails (tenant, settings, updated_at) VALUES ($1, $2, $3)
      ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`, [tenant, row.settings, row.updatedAt]);
  }
}

export class PgPromptStore implements PromptStore {
  constructor(private readonly pool: pg.Pool) {}

  async createPrompt(p: PromptRecord, v: PromptVersionRecord): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(`INSERT INTO prompts (${PCOLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        p.id, p.tenant, p.endUser, p.name, p.description, p.metadata, p.activeVersion, p.latestVersion, p.createdAt, p.updatedAt]);
      await c.query(`INSERT INTO prompt_versions (prompt_id, version, id, template, created_at) VALUES ($1, $2, $3, $4, $5)`, [
        v.promptId, v.version, v.id, v.template, v.createdAt]);
    });
  }

  async getPrompt(id: string, owner: Owner): Promise<PromptRecord | undefined> {
    const { rows } = await this.pool.query<PRow>(`SELECT ${PCOLS} FROM prompts WHERE id = $1 AND tenant = $2 AND end_user = $3`, [id, owner.tenant, owner.endUser]);
    return rows[0] && toPrompt(rows[0]);
  }

  async listPrompts(owner: Owner, q: PromptListQuery): Promise<PromptRecord[]> {
    const args: unknown[] = [owner.tenant, owner.endUser];
    let after = '';
    if (q.after) {
      args.push(q.after);
      after = `AND id ${q.order === 'desc' ? '<' : '>'} $${args.length}`;
    }
    args.push(q.limit);
    const { rows } = await this.pool.query<PRow>(`SELECT ${PCOLS} FROM prompts WHERE tenant = $1 AND end_user = $2 ${after}
      ORDER BY id ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`, args);
    return rows.map(toPrompt);
  }

  async updatePrompt(id: string, p: Pick<PromptRecord, 'name' | 'description' | 'metadata' | 'updatedAt'>): Promise<PromptRecord | undefined> {
    const { rows } = await this.pool.query<PRow>(`UPDATE prompts SET name = $1, description = $2, metadata = $3, updated_at = $4 WHERE id = $5 RETURNING ${PCOLS}`,
      [p.name, p.description, p.metadata, p.updatedAt, id]);
    return rows[0] && toPrompt(rows[0]);
  }

  async addVersion(promptId: string, versionId: string, template: string, now: number) {
    return inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<PRow>(`SELECT ${PCOLS} FROM prompts WHERE id = $1 FOR UPDATE`, [promptId]);
      if (!rows[0]) return undefined;
      const version = rows[0].latest_version + 1;
      await c.query('INSERT INTO prompt_versions (prompt_id, version, id, template, created_at) VALUES ($1, $2, $3, $4, $5)', [promptId, version, versionId, template, now]);
      const upd = await c.query<PRow>(`UPDATE prompts SET latest_version = $1, active_version = $1, updated_at = $2 WHERE id = $3 RETURNING ${PCOLS}`, [version, now, promptId]);
      return { prompt: toPrompt(upd.rows[0]), version: { id: versionId, promptId, version, template, createdAt: now } };
    });
  }

  async getVersion(promptId: string, version: number): Promise<PromptVersionRecord | undefined> {
    const { rows } = await this.pool.query<VRow>(`SELECT ${VCOLS} FROM prompt_versions WHERE prompt_id = $1 AND version = $2`, [promptId, version]);
    return rows[0] && toVersion(rows[0]);
  }

  async listVersions(promptId: string, q: { after?: number; limit: number; order: 'asc' | 'desc' }): Promise<PromptVersionRecord[]> {
    const args: unknown[] = [promptId];
    let after = '';
    if (q.after !== undefined) {
      args.push(q.after);
      after = `AND version ${q.order === 'desc' ? '<' : '>'} $2`;
    }
    args.push(q.limit);
    const { rows } = await this.pool.query<VRow>(`SELECT ${VCOLS} FROM prompt_versions WHERE prompt_id = $1 ${after}
      ORDER BY version ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length}`, args);
    return rows.map(toVersion);
  }

  async setActiveVersion(promptId: string, version: number, now: number): Promise<PromptRecord | undefined> {
    const { rows } = await this.pool.query<PRow>(`UPDATE prompts SET active_version = $1, updated_at = $2 WHERE id = $3 RETURNING ${PCOLS}`, [version, now, promptId]);
    return rows[0] && toPrompt(rows[0]);
  }

  async deletePrompt(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM prompts WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }
}
