// `respd keys create|list|revoke`: API keys kept in the store as SHA-256 digests (store/api-keys.ts). The
// server accepts them next to API_KEYS and re-reads them every KEYS_REFRESH_MS (http/auth.ts).
import { createHash, randomBytes } from 'node:crypto';
import { parse, UsageError } from './args.js';
import { printTable } from './list.js';
import { CliFailure, config, withStore } from './store-access.js';
import type { ApiKeyStore } from '../store/api-keys.js';

export const usage = `respd keys create [--name NAME]
  Print a new API key (shown once; only its SHA-256 digest is stored).
respd keys list [--json]
  The store's keys: id, name, tenant, created, revoked.
respd keys revoke <key_id>
  Revoke a key: every instance refuses it within KEYS_REFRESH_MS (API_KEYS keys are not in the store).`;

const NAME = /^[\x20-\x7E]{1,100}$/;
const ts = (s: number | null) => (s === null ? '' : new Date(s * 1000).toISOString().replace('.000', ''));

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'create') return create(rest);
  if (sub === 'list') return list(rest);
  if (sub === 'revoke') return revoke(rest);
  throw new UsageError(sub === undefined ? 'missing keys subcommand (create, list or revoke)' : `unknown keys subcommand '${sub}'`);
}

function keysOf(store: { apiKeys?: ApiKeyStore; kind: string }): ApiKeyStore {
  if (!store.apiKeys) throw new CliFailure(`the ${store.kind} store keeps no API keys`);
  return store.apiKeys;
}

async function create(argv: string[]): Promise<number> {
  const { values } = parse(argv, { name: { type: 'string' } }, { names: [] });
  const name = values.name ?? '';
  if (name && !NAME.test(name)) throw new UsageError('--name must be 1-100 printable ASCII characters');
  const cfg = config();
  // The same shape as the key a first start generates (http/auth.ts).
  const key = `sk-respd-${randomBytes(24).toString('base64url')}`;
  const rec = { id: `key_${randomBytes(12).toString('hex')}`, name, digest: createHash('sha256').update(key).digest('hex'), createdAt: Math.floor(Date.now() / 1000), revokedAt: null };
  await withStore(cfg, (s) => keysOf(s).create(rec));
  process.stderr.write(`Created ${rec.id}${name ? ` (${name})` : ''}, tenant ${rec.digest.slice(0, 32)}. The key is shown only once:\n`);
  // The key alone on stdout, so `KEY=$(respd keys create)` works.
  process.stdout.write(`${key}\n`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } }, { names: [] });
  const recs = await withStore(config(), (s) => keysOf(s).list());
  // The tenant (a digest prefix) says whose data is whose; the full digest is not shown.
  const rows = recs.map((r) => ({ id: r.id, name: r.name, tenant: r.digest.slice(0, 32), created_at: r.createdAt, revoked_at: r.revokedAt }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  printTable(['ID', 'NAME', 'TENANT', 'CREATED', 'REVOKED'], rows.map((r) => [r.id, r.name, r.tenant, ts(r.created_at), ts(r.revoked_at)]));
  return 0;
}

async function revoke(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, { names: ['key_id'] });
  const cfg = config();
  const rec = await withStore(cfg, (s) => keysOf(s).revoke(positionals[0]!, Math.floor(Date.now() / 1000)));
  if (!rec) {
    process.stderr.write(`respd keys revoke: no key '${positionals[0]}' (respd keys list shows them)\n`);
    return 1;
  }
  process.stderr.write(`Revoked ${rec.id} at ${ts(rec.revokedAt)}; every instance refuses it within KEYS_REFRESH_MS (${cfg.keysRefreshMs} ms).\n`);
  return 0;
}
