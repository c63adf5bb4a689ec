// Guardrail settings as MKA1 shapes them: `{guardrails: [{mode, enabled, config}]}`, one entry per mode.
// A PUT replaces the whole list; each entry is checked here (400 naming the field) and stored as given,
// so GET answers what was PUT. Defaults are applied when the settings are compiled (service.ts).
import { errors } from '../wire/errors.js';

export const MODES = ['ban_words', 'prompt_injection', 'leakage'] as const;
export type Mode = (typeof MODES)[number];

export interface Guardrail {
  mode: Mode;
  enabled: boolean;
  config: {
    words?: string[];
    threshold?: number;
    rejection_message?: string;
  };
}

export const DEFAULT_THRESHOLD: Record<Mode, number> = { ban_words: 1, prompt_injection: 0.8, leakage: 0.5 };

export const DEFAULT_MESSAGE: Record<Mode, string> = {
  ban_words: 'Your request contains words that are not allowed.',
  prompt_injection: 'Your request appears to contain a prompt injection attempt.',
  leakage: 'Your request appears to try to extract the system prompt or contains a secret.',
};

const CONFIG_KEYS: Record<Mode, string[]> = {
  ban_words: ['words', 'rejection_message'],
  prompt_injection: ['threshold', 'rejection_message'],
  leakage: ['threshold', 'rejection_message'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body of PUT /guardrails, checked; throws a 400 naming the first bad field. */
export function parseGuardrails(body: unknown): Guardrail[] {
  if (!isObject(body)) throw errors.invalid('The body must be a JSON object: {"guardrails": [...]}.', null);
  for (const k of Object.keys(body)) if (k !== 'guardrails') throw errors.invalid(`Unknown parameter: '${k.slice(0, 64)}'.`, k.slice(0, 64), 'unknown_parameter');
  const list = body.guardrails;
  if (list === undefined) throw errors.missing('guardrails');
  if (!Array.isArray(list) || list.length > MODES.length * 4) throw errors.invalid(`'guardrails' must be an array of guardrail settings (one per mode).`, 'guardrails');
  const seen = new Set<string>();
  return list.map((g, i): Guardrail => {
    const p = `guardrails[${i}]`;
    if (!isObject(g)) throw errors.invalid(`'${p}' must be an object {mode, enabled, config}.`, p);
    for (const k of Object.keys(g)) if (!['mode', 'enabled', 'config'].includes(k)) throw errors.invalid(`Unknown parameter: '${p}.${k.slice(0, 64)}'.`, `${p}.${k.slice(0, 64)}`, 'unknown_parameter');
    if (g.mode === undefined) throw errors.missing(`${p}.mode`);
    if (!MODES.includes(g.mode as Mode)) throw errors.invalid(`'${p}.mode' must be one of ${MODES.join(', ')}.`, `${p}.mode`);
    const mode = g.mode as Mode;
    if (seen.has(mode)) throw errors.invalid(`'${p}.mode': '${mode}' is configured twice; send one entry per mode.`, `${p}.mode`);
    seen.add(mode);
    if (g.enabled !== undefined && typeof g.enabled !== 'boolean') throw errors.invalid(`'${p}.enabled' must be a boolean.`, `${p}.enabled`);
    const c = g.config ?? {};
    if (!isObject(c)) throw errors.invalid(`'${p}.config' must be an object.`, `${p}.config`);
    for (const k of Object.keys(c)) {
      if (!CONFIG_KEYS[mode].includes(k)) throw errors.invalid(`Unknown parameter: '${p}.config.${k.slice(0, 64)}' (${mode} takes ${CONFIG_KEYS[mode].join(', ')}).`, `${p}.config.${k.slice(0, 64)}`, 'unknown_parameter');
    }
    const config: Guardrail['config'] = {};
    if (mode === 'ban_words') {
      const w = c.words;
      if (w === undefined) throw errors.missing(`${p}.config.words`);
      if (!Array.isArray(w) || w.length < 1 || w.length > 1000 || !w.every((x) => typeof x === 'string' && x.trim().length > 0 && x.length <= 200)) {
        throw errors.invalid(`'${p}.config.words' must be an array of 1 to 1000 non-empty strings of at most 200 characters.`, `${p}.config.words`);
      }
      config.words = w as string[];
    }
    if (c.threshold !== undefined) {
      if (typeof c.threshold !== 'number' || !(c.threshold >= 0 && c.threshold <= 1)) throw errors.invalid(`'${p}.config.threshold' must be a number from 0 to 1.`, `${p}.config.threshold`);
      config.threshold = c.threshold;
    }
    if (c.rejection_message !== undefined) {
      if (typeof c.rejection_message !== 'string' || !c.rejection_message || c.rejection_message.length > 2000) {
        throw errors.invalid(`'${p}.config.rejection_message' must be a string of 1 to 2000 characters.`, `${p}.config.rejection_message`);
      }
      config.rejection_message = c.rejection_message;
    }
    return { mode, enabled: g.enabled ?? true, config };
  });
}
