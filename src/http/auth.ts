// Bearer-key auth. Each key is its own tenant; keys are kept only as SHA-256 hashes and compared in
// constant time. `X-On-Behalf-Of` narrows ownership to one end user of that tenant.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Owner } from '../store/types.js';
import { errors } from '../wire/errors.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const END_USER = /^[\x20-\x7E]{1,150}$/;

/** Most Authorization headers a ring remembers as valid (a few keys, each sent the same way). */
const MAX_REMEMBERED = 1024;

export class KeyRing {
  /**
   * Authorization headers already found valid, with their tenant, so the key is not hashed again on every
   * request (a visible share of a proxied one). Only valid headers are remembered, so random keys
   * cannot grow it, and an unknown header still goes through the constant-time comparison.
   */
  private readonly known = new Map<string, string>();

  private constructor(private readonly hashes: Buffer[]) {}

  static fromKeys(keys: string[]): KeyRing {
    return new KeyRing(keys.map(sha256));
  }

  /**
   * Without API_KEYS: the first start creates one key, stores only its hash in the data folder and
   * prints the key once; later starts reuse the stored hash.
   */
  static fromDataDir(dataDir: string, print: (msg: string) => void): KeyRing {
    const file = join(dataDir, 'api-keys.json');
    if (existsSync(file)) {
      const { hashes } = JSON.parse(readFileSync(file, 'utf8')) as { hashes: string[] };
      print(`API keys: ${hashes.length} stored key hash(es) in ${file} (set API_KEYS to use your own keys).`);
      return new KeyRing(hashes.map((h) => Buffer.from(h, 'hex')));
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
    let found: Buffer | undefined;
    for (const k of this.hashes) if (timingSafeEqual(k, h)) found = k;
    if (!found) return undefined;
    const tenant = found.toString('hex').slice(0, 32);
    if (this.known.size < MAX_REMEMBERED) this.known.set(authorization, tenant);
    return tenant;
  }
}

export function ownerOf(keys: KeyRing, headers: Record<string, string | string[] | undefined>): Owner {
  const auth = headers.authorization;
  const tenant = keys.tenantOf(Array.isArray(auth) ? auth[0] : auth);
  if (!tenant) throw errors.unauthorized();
  const raw = headers['x-on-behalf-of'];
  if (raw === undefined) return { tenant, endUser: '' };
  const endUser = Array.isArray(raw) ? raw[0] : raw;
  if (!END_USER.test(endUser) || endUser === '*') {
    throw errors.invalid("X-On-Behalf-Of must be 1-150 printable ASCII characters and not '*'.", 'X-On-Behalf-Of', 'invalid_header');
  }
  return { tenant, endUser };
}
