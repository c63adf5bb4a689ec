// The prompt repository (MKA1 `/prompts`): versioned templates owned like every resource (tenant + end
// user; another owner's id is "not found"), and their use by the `prompt` parameter of a create.
// Versions are immutable; a new version becomes the active one; rollback only moves the active pointer.
import { errors } from '../wire/errors.js';
import { newId } from '../wire/ids.js';
import { toListPage } from '../store/paging.js';
import type { PromptRecord, PromptStore, PromptVersionRecord } from '../store/prompts.js';
import type { Owner } from '../store/types.js';
import { renderPrompt, renderText, type Rendered } from './render.js';

export const PROMPT_ID = /^prompt_[a-zA-Z0-9]{1,64}$/;
const MAX_VERSION = Number.MAX_SAFE_INTEGER;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const presentPrompt = (p: PromptRecord) => ({
  id: p.id, object: 'prompt' as const, name: p.name, description: p.description, active_version: p.activeVersion,
  latest_version: p.latestVersion, metadata: JSON.parse(p.metadata) as Record<string, unknown>, created_at: iso(p.createdAt), updated_at: iso(p.updatedAt),
});
export const presentVersion = (v: PromptVersionRecord) => ({
  id: v.id, prompt_id: v.promptId, version: v.version, object: 'prompt.version' as const, template: v.template, created_at: iso(v.createdAt),
});

function checkKeys(b: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(b)) if (!allowed.includes(k)) throw errors.invalid(`Unknown parameter: '${k.slice(0, 64)}'.`, k.slice(0, 64), 'unknown_parameter');
}
function body(b: unknown): Record<string, unknown> {
  if (!isObject(b)) throw errors.invalid('The body must be a JSON object.', null);
  return b;
}
function str(b: Record<string, unknown>, k: string, min: number, max: number, required: boolean): string | undefined {
  const v = b[k];
  if (v === undefined || (v === null && !required)) {
    if (required) throw errors.missing(k);
    return undefined;
  }
  if (typeof v !== 'string' || v.length < min || v.length > max) throw errors.invalid(`'${k}' must be a string of ${min} to ${max} characters.`, k);
  return v;
}
function metadataOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw errors.invalid(`'metadata' must be an object of key-value pairs.`, 'metadata');
  const entries = Object.entries(v);
  if (entries.length > 16) throw errors.invalid(`'metadata' can have at most 16 keys.`, 'metadata');
  for (const [k, x] of entries) {
    if (k.length > 64) throw errors.invalid(`'metadata' keys can be at most 64 characters.`, 'metadata');
    const ok = (typeof x === 'string' && x.length <= 512) || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
    if (!ok) throw errors.invalid(`'metadata.${k}' must be a string (at most 512 characters), a number or a boolean.`, 'metadata');
  }
  return JSON.stringify(v);
}
/** A version number from a path, query or body value (integers, also as strings). */
export function versionOf(v: unknown, param: string): number {
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_VERSION) throw errors.invalid(`'${param}' must be a positive integer version number.`, param);
  return n;
}

/** What a create takes from its `prompt` parameter. */
export interface ResolvedPrompt extends Rendered {
  /** The `prompt` the Response echoes: the id, the version used (a string, as OpenAI's), the variables as sent. */
  echo: { id: string; version: string; variables: Record<string, unknown> | null };
}

export class PromptsService {
  constructor(private readonly store: PromptStore | undefined) {}

  private get s(): PromptStore {
    if (!this.store) throw errors.invalid('This store does not support prompts.', null, 'not_implemented');
    return this.store;
  }

  async load(owner: Owner, id: string, param: string | null = null): Promise<PromptRecord> {
    const p = PROMPT_ID.test(id) ? await this.s.getPrompt(id, owner) : undefined;
    if (!p) throw errors.notFound('Prompt', id.slice(0, 100), param);
    return p;
  }

  private async version(p: PromptRecord, n: number, param: string | null): Promise<PromptVersionRecord> {
    const v = n <= p.latestVersion ? await this.s.getVersion(p.id, n) : undefined;
    if (!v) throw errors.notFound('Version', `${n}' of prompt '${p.id}`, param);
    return v;
  }

  async create(owner: Owner, raw: unknown) {
    const b = body(raw);
    checkKeys(b, ['name', 'template', 'description', 'metadata']);
    const name = str(b, 'name', 1, 255, true)!;
    const template = str(b, 'template', 1, 100_000, true)!;
    const description = str(b, 'description', 0, 2000, false) ?? null;
    const now = Date.now();
    const rec: PromptRecord = {
      id: newId('prompt'), tenant: owner.tenant, endUser: owner.endUser, name, description, metadata: metadataOf(b.metadata) ?? '{}',
      activeVersion: 1, latestVersion: 1, createdAt: now, updatedAt: now,
    };
    const v: PromptVersionRecord = { id: newId('pver'), promptId: rec.id, version: 1, template, createdAt: now };
    await this.s.createPrompt(rec, v);
    return { ...presentPrompt(rec), version: presentVersion(v) };
  }

  async get(owner: Owner, id: string, q: { version?: string; variables?: string }) {
    const p = await this.load(owner, id);
    const v = await this.version(p, q.version === undefined ? p.activeVersion : versionOf(q.version, 'version'), 'version');
    const out: Record<string, unknown> = { ...presentPrompt(p), active_template: v.template };
    if (q.variables !== undefined) {
      let vars: unknown;
      try {
        vars = JSON.parse(q.variables);
      } catch {
        throw errors.invalid(`'variables' must be a JSON-encoded object, e.g. {"name":"Alice"}.`, 'variables');
      }
      if (!isObject(vars) || !Object.values(vars).every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) {
        throw errors.invalid(`'variables' must be a JSON object of string values.`, 'variables');
      }
      out.rendered_template = renderText(v.template, Object.fromEntries(Object.entries(vars).map(([k, x]) => [k, String(x)])));
    }
    return out;
  }

  async list(owner: Owner, q: { after?: string; limit: number; order: 'asc' | 'desc' }) {
    const rows = await this.s.listPrompts(owner, { ...q, limit: q.limit + 1 });
    return toListPage(rows, q.limit, presentPrompt);
  }

  async update(owner: Owner, id: string, raw: unknown) {
    const b = body(raw);
    checkKeys(b, ['name', 'description', 'metadata']);
    const p = await this.load(owner, id);
    const name = str(b, 'name', 1, 255, false) ?? p.name;
    const description = b.description === null ? null : str(b, 'description', 0, 2000, false) ?? p.description;
    const metadata = b.metadata === null ? '{}' : metadataOf(b.metadata) ?? p.metadata;
    const next = await this.s.updatePrompt(p.id, { name, description, metadata, updatedAt: Date.now() });
    if (!next) throw errors.notFound('Prompt', id);
    return presentPrompt(next);
  }

  async delete(owner: Owner, id: string) {
    const p = await this.load(owner, id);
    await this.s.deletePrompt(p.id);
    return { id: p.id, object: 'prompt' as const, deleted: true };
  }

  async addVersion(owner: Owner, id: string, raw: unknown) {
    const b = body(raw);
    checkKeys(b, ['template']);
    const template = str(b, 'template', 1, 100_000, true)!;
    const p = await this.load(owner, id);
    // Two versions racing for the same number: the key refuses one, which takes the next number.
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.s.addVersion(p.id, newId('pver'), template, Date.now());
        if (!out) throw errors.notFound('Prompt', id);
        return presentVersion(out.version);
      } catch (err) {
        const msg = String((err as Error).message);
        if (attempt < 3 && /UNIQUE|duplicate key/i.test(msg)) continue;
        throw err;
      }
    }
  }

  async listVersions(owner: Owner, id: string, q: { after?: string; limit: number; order: 'asc' | 'desc' }) {
    const p = await this.load(owner, id);
    const after = q.after === undefined || q.after === '' ? undefined : versionOf(q.after, 'after');
    const rows = await this.s.listVersions(p.id, { after, limit: q.limit + 1, order: q.order });
    return toListPage(rows, q.limit, presentVersion);
  }

  async getVersion(owner: Owner, id: string, version: string) {
    const p = await this.load(owner, id);
    return presentVersion(await this.version(p, versionOf(version, 'version'), 'version'));
  }

  async rollback(owner: Owner, id: string, raw: unknown) {
    const b = body(raw);
    checkKeys(b, ['version']);
    if (b.version === undefined) throw errors.missing('version');
    const n = versionOf(b.version, 'version');
    const p = await this.load(owner, id);
    await this.version(p, n, 'version');
    const next = await this.s.setActiveVersion(p.id, n, Date.now());
    if (!next) throw errors.notFound('Prompt', id);
    return presentPrompt(next);
  }

  /** The `prompt` parameter of a create: the owner's prompt, the version asked (else the active one), rendered. */
  async resolve(owner: Owner, prompt: Record<string, unknown>): Promise<ResolvedPrompt> {
    checkParamKeys(prompt);
    if (typeof prompt.id !== 'string' || !prompt.id) throw errors.invalid(`'prompt.id' must be a prompt id string.`, 'prompt.id');
    const p = await this.load(owner, prompt.id, 'prompt.id');
    const n = prompt.version === undefined || prompt.version === null ? p.activeVersion : versionOf(prompt.version, 'prompt.version');
    const v = await this.version(p, n, 'prompt.version');
    const rendered = renderPrompt(v.template, prompt.variables);
    return { ...rendered, echo: { id: p.id, version: String(v.version), variables: (prompt.variables as Record<string, unknown> | undefined) ?? null } };
  }
}

function checkParamKeys(prompt: Record<string, unknown>): void {
  for (const k of Object.keys(prompt)) {
    if (!['id', 'version', 'variables'].includes(k)) throw errors.invalid(`Unknown parameter: 'prompt.${k.slice(0, 64)}'.`, `prompt.${k.slice(0, 64)}`, 'unknown_parameter');
  }
}
