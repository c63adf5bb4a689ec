// WEBHOOKS_FILE: webhook endpoints per API key (README "Webhooks"). A JSON array of
//   { "api_key_sha256": "<hex>" | "api_key_env": "NAME", "url": "https://…", "secret": "whsec_…", "events": [...] }
// An endpoint belongs to the tenant of its key (the tenant id is a prefix of the key's SHA-256, as in
// http/auth.ts), so the file never needs the key itself.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, int } from './env.js';

export const WEBHOOK_EVENTS = ['response.completed', 'response.failed', 'response.incomplete', 'response.cancelled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookEndpoint {
  tenant: string;
  url: string;
  /** whsec_<base64>: the secret the receiver passes to the SDK's webhooks.unwrap(). */
  secret: string;
  events: WebhookEventType[];
}

export interface WebhookConfig {
  endpoints: WebhookEndpoint[];
  /** First retry delay; doubles per attempt (with jitter) up to capMs. */
  retryBaseMs: number;
  retryCapMs: number;
  /** After this long since the event, a failing endpoint is given up on. */
  giveUpMs: number;
  timeoutMs: number;
  pollMs: number;
  /** Delivered and given-up rows are deleted this long after delivery (or the event); 0 keeps them. */
  keepMs: number;
  /** How often each instance prunes. */
  pruneIntervalMs: number;
}

const KNOWN = ['api_key_sha256', 'api_key_env', 'url', 'secret', 'events'];

export function parseWebhookEndpoints(path: string, env: NodeJS.ProcessEnv, fail: (msg: string) => Error): WebhookEndpoint[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw fail(`WEBHOOKS_FILE ${path}: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw fail(`WEBHOOKS_FILE ${path} must hold a JSON array of endpoints`);
  return raw.map((e: unknown, i) => {
    const where = `WEBHOOKS_FILE ${path}: endpoint ${i}`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw fail(`${where} must be an object`);
    const o = e as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => !KNOWN.includes(k));
    if (unknown) throw fail(`${where}: unknown key '${unknown}' (known: ${KNOWN.join(', ')})`);
    let hash: string;
    if (typeof o.api_key_sha256 === 'string' && /^[0-9a-f]{64}$/i.test(o.api_key_sha256)) hash = o.api_key_sha256.toLowerCase();
    else if (typeof o.api_key_env === 'string' && env[o.api_key_env]) hash = createHash('sha256').update(env[o.api_key_env]!.trim()).digest('hex');
    else throw fail(`${where} needs 'api_key_sha256' (64 hex digits) or 'api_key_env' (a set environment variable holding the key)`);
    let url: URL;
    try {
      url = new URL(String(o.url));
    } catch {
      throw fail(`${where}: 'url' must be an http(s) URL, got ${JSON.stringify(o.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail(`${where}: 'url' must be an http(s) URL, got ${JSON.stringify(o.url)}`);
    const secret = o.secret;
    if (typeof secret !== 'string' || !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret) || Buffer.from(secret.slice(6), 'base64').length < 16) {
      throw fail(`${where}: 'secret' must be whsec_ followed by the base64 of at least 16 random bytes`);
    }
    let events: WebhookEventType[] = [...WEBHOOK_EVENTS];
    if (o.events !== undefined) {
      if (!Array.isArray(o.events) || !o.events.length || o.events.some((t) => !WEBHOOK_EVENTS.includes(t))) {
        throw fail(`${where}: 'events' must be a non-empty list of ${WEBHOOK_EVENTS.join(', ')}`);
      }
      events = o.events as WebhookEventType[];
    }
    return { tenant: hash.slice(0, 32), url: url.href, secret, events };
  });
}

/** WEBHOOKS_FILE and the WEBHOOK_* settings; undefined when the file names no endpoint. */
export function loadWebhooks(env: NodeJS.ProcessEnv, cwd: string): WebhookConfig | undefined {
  const endpoints = env.WEBHOOKS_FILE ? parseWebhookEndpoints(resolve(cwd, env.WEBHOOKS_FILE), env, (m) => new ConfigError(m)) : [];
  if (!endpoints.length) return undefined;
  return {
    endpoints,
    retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 5000, 1),
    retryCapMs: int(env, 'WEBHOOK_RETRY_CAP_MS', 3_600_000, 1),
    giveUpMs: int(env, 'WEBHOOK_GIVE_UP_MS', 72 * 3_600_000, 1),
    timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 1),
    pollMs: int(env, 'WEBHOOK_POLL_MS', 1000, 1),
    keepMs: int(env, 'WEBHOOK_KEEP_MS', 7 * 24 * 3_600_000, 0),
    pruneIntervalMs: int(env, 'WEBHOOK_PRUNE_INTERVAL_MS', 3_600_000, 1000),
  };
}
