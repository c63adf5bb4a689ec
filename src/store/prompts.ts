// Persistence of the prompt repository (MKA1 `/prompts`): a prompt record per template, owned like every
// other resource (tenant + end user), and its immutable numbered versions. A new version and the record's
// `latest_version`/`active_version` change in one transaction, so two concurrent new versions cannot
// take the same number (the (prompt_id, version) key refuses the second, which is retried).
import type { Owner } from './types.js';

export interface PromptRecord {
  id: string;
  tenant: string;
  endUser: string;
  name: string;
  description: string | null;
  /** JSON object of string pairs. */
  metadata: string;
  activeVersion: number;
  latestVersion: number;
  /** Unix milliseconds. */
  createdAt: number;
  updatedAt: number;
}

export interface PromptVersionRecord {
  id: string;
  promptId: string;
  version: number;
  template: string;
  /** Unix milliseconds. */
  createdAt: number;
}

export interface PromptListQuery {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export interface PromptStore {
  /** The record and its version 1, atomically. */
  createPrompt(rec: PromptRecord, first: PromptVersionRecord): Promise<void>;
  /** The owner's prompt only: another owner's id answers like an unknown one. */
  getPrompt(id: string, owner: Owner): Promise<PromptRecord | undefined>;
  listPrompts(owner: Owner, q: PromptListQuery): Promise<PromptRecord[]>;
  /** name/description/metadata/updatedAt; undefined = the prompt is gone. */
  updatePrompt(id: string, patch: Pick<PromptRecord, 'name' | 'description' | 'metadata' | 'updatedAt'>): Promise<PromptRecord | undefined>;
  /** Appends version latest+1 and makes it active; undefined = the prompt is gone. */
  addVersion(promptId: string, versionId: string, template: string, now: number): Promise<{ prompt: PromptRecord; version: PromptVersionRecord } | undefined>;
  getVersion(promptId: string, version: number): Promise<PromptVersionRecord | undefined>;
  /** Versions by number (after = a version number). */
  listVersions(promptId: string, q: { after?: number; limit: number; order: 'asc' | 'desc' }): Promise<PromptVersionRecord[]>;
  /** Sets the active version (it must exist: checked by the caller); undefined = the prompt is gone. */
  setActiveVersion(promptId: string, version: number, now: number): Promise<PromptRecord | undefined>;
  /** The record and every version. */
  deletePrompt(id: string): Promise<boolean>;
}

// Rows as both adapters read them: PostgreSQL returns BIGINT columns as strings, SQLite as numbers,
// so the mappers convert with Number() and serve both.
type Big = number | string;
export interface PromptRow {
  id: string; tenant: string; end_user: string; name: string; description: string | null; metadata: string;
  active_version: number; latest_version: number; created_at: Big; updated_at: Big;
}
export interface PromptVersionRow { id: string; prompt_id: string; version: number; template: string; created_at: Big }
export const PROMPT_COLS = 'id, tenant, end_user, name, description, metadata, active_version, latest_version, created_at, updated_at';
export const PROMPT_VERSION_COLS = 'id, prompt_id, version, template, created_at';
export const toPrompt = (r: PromptRow): PromptRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, name: r.name, description: r.description, metadata: r.metadata,
  activeVersion: r.active_version, latestVersion: r.latest_version, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});
export const toVersion = (r: PromptVersionRow): PromptVersionRecord => ({ id: r.id, promptId: r.prompt_id, version: r.version, template: r.template, createdAt: Number(r.created_at) });
