// Guardrails (MKA1 `/guardrails`): per-tenant settings, compiled once and cached in process, checked
// against every request of the tenant before the model runs (responses/service.ts) and by
// POST /guardrails/test.
//
// The cache holds the compiled rules of each tenant seen, `null` for a tenant without any, so a request
// of a key with no guardrails costs one Map lookup. A PUT on this instance replaces its entry at once;
// other instances (scale-out) re-read the store when their entry is older than GUARDRAILS_CACHE_MS.
import { errors } from '../wire/errors.js';
import type { Item } from '../wire/types.js';
import type { GuardrailStore } from '../store/guardrails.js';
import { banWordsMatcher, injectionScore, leakageScore, type Detection } from './detect.js';
import { DEFAULT_MESSAGE, DEFAULT_THRESHOLD, parseGuardrails, type Guardrail, type Mode } from './settings.js';

interface Check { mode: Mode; threshold: number; message: string; detect: (text: string) => Detection }

/** A tenant's enabled guardrails, in checking order (ban_words, prompt_injection, leakage). */
export interface Rules { checks: Check[] }

export interface Verdict {
  passed: boolean;
  triggered_guardrail: Mode | null;
  rejection_message: string | null;
  details: Record<string, unknown>;
}

const ORDER: Mode[] = ['ban_words', 'prompt_injection', 'leakage'];

export function compile(list: Guardrail[]): Rules | null {
  const checks: Check[] = [];
  for (const mode of ORDER) {
    const g = list.find((x) => x.mode === mode);
    if (!g?.enabled) continue;
    const detect = mode === 'ban_words' ? banWordsMatcher(g.config.words ?? []) : mode === 'prompt_injection' ? injectionScore : leakageScore;
    checks.push({ mode, threshold: g.config.threshold ?? DEFAULT_THRESHOLD[mode], message: g.config.rejection_message ?? DEFAULT_MESSAGE[mode], detect });
  }
  return checks.length ? { checks } : null;
}

/** Runs the rules over the text; the first guardrail whose score reaches its threshold blocks. */
export function evaluate(rules: Rules | null, text: string): Verdict {
  const details: Record<string, unknown> = {};
  for (const c of rules?.checks ?? []) {
    const d = c.detect(text);
    details[c.mode] = c.mode === 'ban_words' ? { matched: d.matched } : { score: d.score, threshold: c.threshold, matched: d.matched };
    // A threshold of 0 would block everything, including a text nothing matched: only evidence blocks.
    if (d.matched.length && d.score >= c.threshold) {
      return { passed: false, triggered_guardrail: c.mode, rejection_message: c.message, details };
    }
  }
  return { passed: true, triggered_guardrail: null, rejection_message: null, details };
}

interface Entry { rules: Rules | null; until: number }

export class GuardrailsService {
  private readonly cache = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Rules | null>>();

  constructor(private readonly store: GuardrailStore | undefined, private readonly cacheMs = 5000) {}

  private get s(): GuardrailStore {
    if (!this.store) throw errors.invalid('This store does not support guardrails.', null, 'not_implemented');
    return this.store;
  }

  /**
   * The tenant's rules, synchronously once cached. Only a tenant's first request waits for the store;
   * an entry past GUARDRAILS_CACHE_MS is still answered while one refresh (per tenant) re-reads it.
   */
  rulesFor(tenant: string): Rules | null | Promise<Rules | null> {
    if (!this.store) return null;
    const e = this.cache.get(tenant);
    if (!e) return this.load(tenant);
    if (e.until <= Date.now()) this.load(tenant).catch(() => {}); // kept until a read succeeds
    return e.rules;
  }

  private load(tenant: string): Promise<Rules | null> {
    let p = this.loading.get(tenant);
    if (p) return p;
    p = this.s.getGuardrails(tenant).then((row) => {
      const rules = row ? compile(JSON.parse(row.settings) as Guardrail[]) : null;
      // A PUT made meanwhile on this instance is newer than what this read may have seen.
      if (this.loading.get(tenant) === p) this.cache.set(tenant, { rules, until: Date.now() + this.cacheMs });
      return rules;
    }).finally(() => {
      if (this.loading.get(tenant) === p) this.loading.delete(tenant);
    });
    this.loading.set(tenant, p);
    return p;
  }

  async get(tenant: string) {
    const row = await this.s.getGuardrails(tenant);
    return present(row ? JSON.parse(row.settings) : [], row?.updatedAt ?? null);
  }

  async put(tenant: string, body: unknown) {
    const list = parseGuardrails(body);
    const updatedAt = Math.floor(Date.now() / 1000);
    await this.s.putGuardrails(tenant, { settings: JSON.stringify(list), updatedAt });
    this.loading.delete(tenant);
    this.cache.set(tenant, { rules: compile(list), until: Date.now() + this.cacheMs });
    return present(list, updatedAt);
  }

  async test(tenant: string, body: unknown) {
    const b = body as Record<string, unknown> | null;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) throw errors.invalid('The body must be a JSON object: {"content": "..."}.', null);
    for (const k of Object.keys(b)) if (k !== 'content') throw errors.invalid(`Unknown parameter: '${k.slice(0, 64)}'.`, k.slice(0, 64), 'unknown_parameter');
    if (b.content === undefined) throw errors.missing('content');
    if (typeof b.content !== 'string' || !b.content || b.content.length > 1_000_000) throw errors.invalid(`'content' must be a string of 1 to 1000000 characters.`, 'content');
    const v = evaluate(await this.rulesFor(tenant), b.content);
    return { object: 'guardrails_test_result' as const, ...v, user_input: b.content };
  }
}

const present = (list: Guardrail[], updatedAt: number | null) => ({ object: 'guardrails_settings' as const, guardrails: list, updated_at: updatedAt });

/** The text of a request's new input that guardrails check: messages' text and tool outputs (not the instructions). */
export function inputText(items: Item[], extra = ''): string {
  const out: string[] = [];
  const parts = (c: unknown) => {
    if (typeof c === 'string') out.push(c);
    else if (Array.isArray(c)) for (const p of c) if (typeof p?.text === 'string') out.push(p.text);
  };
  for (const it of items) {
    if (it.type === 'message') parts(it.content);
    else if (it.type === 'function_call_output' || it.type === 'custom_tool_call_output') parts(it.output);
  }
  if (extra) out.push(extra);
  return out.join('\n');
}
