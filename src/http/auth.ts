// Bearer-key auth. Each key is its own tenant; keys are kept only as SHA-256 hashes and compared in
// constant time. `X-On-Behalf-Of` narrows ownership to one end user of that tenant.
// Keys come from API_KEYS (or the key generated into the data folder) and from the store (`respd keys`,
// issue 23): the store's digests are held in memory and re-read every KEYS_REFRESH_MS, so a request never
// waits on the store and a revoked key stops working on every instance within that interval.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiKeyStore } from '../store/api-keys.js';
import type { Owner } from '../store/types.js';
import { errors } from '../wire/errors.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const END_USER = /^[\x20-\x7E]{1,150}$/;

/** Most Authorization headers a ring remembers as valid (a few keys, each sent the same way). */
const MAX_REMEMBERED = 1024;
/** Unknown keys re-read the store's keys at most this often (a key just created works at once; a flood of bad keys costs the store one query a second). */
const MISS_RELOAD_GAP_MS = 1000;

export class KeyRing {
  /**
   * Authorization headers already found valid, with their tenant, so the key is not hashed again on every
   * request (a visible share of a proxied one). Only valid headers are remembered, so random keys
   * cannot grow it, and an unknown header still goes through the constant-time comparison.
   */
  private readonly known = new Map<string, string>();

  /** Digests (hex) of the store's keys that are not revoked, as of the last reload. */
  private stored = new Set<string>();
  private source?: ApiKeyStore;
  private lastMissReload = 0;
  private reloading?: Promise<void>;
  private timer?: NodeJS.Timeout;

  private constructor(private readonly hashes: Buffer[]) {}

  /**
   * Also accept the store's keys: read now, then every `refreshMs` (the bound on how long a revoked key
   * still works here). A failed reload keeps the last digests (reported to `onError`).
   */
  async attach(source: ApiKeyStore, refreshMs: number, onError: (err: unknown) => void): Promise<void> {
    this.source = source;
    await this.reload();
    this.timer = setInterval(() => this.reload().catch(onError), refreshMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private reload(): Promise<void> {
    this.reloading ??= this.source!.activeDigests().then((digests) => {
      const next = new Set(digests);
      const removed = [...this.stored].some((d) => !next.has(d));
      this.stored = next;
      // Remembered headers may name a key revoked since: forget them all (re-hashing is cheap).
      if (removed) this.known.clear();
    }).finally(() => { this.reloading = undefined; });
    return this.reloading;
  }

  /** After an unknown key: re-read the store's keys unless an unknown key did so less than MISS_RELOAD_GAP_MS ago; true if it did. */
  async reloadForUnknown(): Promise<boolean> {
    const now = Date.now();
    if (!this.source || now - this.lastMissReload < MISS_RELOAD_GAP_MS) return false;
    this.lastMissReload = now;
    try {
      await this.reload();
      return true;
    } catch {
      return false;
    }
  }

  static fromKeys(keys: string[]): KeyRing {
    return new KeyRing(keys.map(sha256));
  }

  /**
   * Without API_KEYS: the first start creates one key, stores only its hash in the data folder and
   * prints the key once; later starts reuse the stored hash.
   */
  static fromDataDir(dataDir: string, print: (msg: string) => void, storeHasKeys = false): KeyRing {
    const file = join(dataDir, 'api-keys.json');
    if (existsSync(file)) {
      const { hashes } = JSON.parse(readFileSync(file, 'utf8')) as { hashes: string[] };
      print(`API keys: ${hashes.length} stored key hash(es) in ${file} (set API_KEYS to use your own keys).`);
      return new KeyRing(hashes.map((h) => Buffer.from(h, 'hex')));
    }
    // Keys are managed with `respd keys`: no key the operator did not ask for.
    if (storeHasKeys) {
      print('API keys: the store\'s keys (respd keys list); none generated.');
      return new KeyRing([]);
    }
    const key = `sk-respd-${randomBytes(24).toString('base64url')}`;
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ hashes: [sha256(key).toString('hex')] }), { mode: 0o600 });
    print(`Created an API key; it is shown only once and only its hash is stored in ${file}`);
    // Plain text, not a JSON log line, so a person can copy it from the terminal.
    process.stderr.write(`\n  respd API key (shown once):  ${key}\n\n`);
    return new KeyRing([sha256(key)]);
  }

  /** Returns the tenant id (a hash prefix: never the key) or undefined. */
  tenantOf(authorization: string | undefined): string | undefined {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    const remembered = this.known.get(authorization);
    if (remembered !== undefined) return remembered;
    const h = sha256(authorization.slice(7).trim());
    let found = false;
    for (const k of this.hashes) if (timingSafeEqual(k, h)) found = true;
    const hex = h.toString('hex');
    // A set lookup by digest: its timing tells nothing usable about a key (finding one needs a preimage).
    if (!found && !this.stored.has(hex)) return undefined;
    // The same tenant whichever source the key is in, so a key moved between them keeps its data.
    const tenant = hex.slice(0, 32);
    if (this.known.size < MAX_REMEMBERED) this.known.set(authorization, tenant);
    return tenant;
  }
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * The request's owner. Synchronous for a known key (the hot path: no promise, no await); a promise only
 * for an unknown one, which may be a key created since the store's keys were last read.
 */
export function ownerOf(keys: KeyRing, headers: Headers): Owner | Promise<Owner> {
  const raw = headers.authorization;
  const auth = Array.isArray(raw) ? raw[0] : raw;
  const tenant = keys.tenantOf(auth);
  if (tenant) return withEndUser(tenant, headers);
  if (!auth?.startsWith('Bearer ')) throw errors.unauthorized();
  return keys.reloadForUnknown().then((reloaded) => {
    const t = reloaded ? keys.tenantOf(auth) : undefined;
    if (!t) throw errors.unauthorized();
    return withEndUser(t, headers);
  });
}

function withEndUser(tenant: string, headers: Headers): Owner {
  const raw = headers['x-on-behalf-of'];
  if (raw === undefined) return { tenant, endUser: '' };
  const endUser = Array.isArray(raw) ? raw[0] : raw;
  if (!END_USER.test(endUser) || endUser === '*') {
    throw errors.invalid("X-On-Behalf-Of must be 1-150 printable ASCII characters and not '*'.", 'X-On-Behalf-Of', 'invalid_header');
  }
  return { tenant, endUser };
}
