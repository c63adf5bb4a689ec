// Encrypted reasoning (`include: ["reasoning.encrypted_content"]`): a reasoning item's text sealed with
// AES-256-GCM, so a client that keeps no state on the server (`store: false`, as Codex does) can hand
// the model its own reasoning back on the next turn without being able to read or change it. The tenant
// and the end user are authenticated data: another tenant's (or user's) blob fails to open, as does a
// changed or cut one. Blobs name their key, so keys can rotate: the first key seals, all of them open.
//
// Blob (base64): version 1 | key id length | key id | 12-byte nonce | ciphertext | 16-byte tag.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_ID, type ReasoningKey } from '../config/reasoning-keys.js';
import type { Owner } from '../store/types.js';

export { parseReasoningKeys, type ReasoningKey } from '../config/reasoning-keys.js';

const VERSION = 1;
const NONCE = 12;
const TAG = 16;
const KEYS_FILE = 'reasoning-keys.json';

export class SealError extends Error {}

export class ReasoningSealer {
  private readonly byId: Map<string, Buffer>;
  private readonly header: Buffer;

  constructor(private readonly keys: ReasoningKey[]) {
    if (!keys.length) throw new Error('ReasoningSealer needs at least one key');
    for (const k of keys) {
      if (!KEY_ID.test(k.id)) throw new Error(`reasoning key id '${k.id}' must match ${KEY_ID}`);
      if (k.key.length !== 32) throw new Error(`reasoning key '${k.id}' must be 32 bytes`);
    }
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    const id = Buffer.from(keys[0].id, 'utf8');
    this.header = Buffer.concat([Buffer.from([VERSION, id.length]), id]);
  }

  /**
   * REASONING_KEYS when configured; else the keys generated once into the data folder (mode 0600),
   * like the API key hash. Instances that share a store must share the keys: configure them there.
   */
  static fromDataDir(dataDir: string, print: (msg: string) => void): ReasoningSealer {
    const file = join(dataDir, KEYS_FILE);
    if (existsSync(file)) {
      const { keys } = JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ id: string; key: string }> };
      return new ReasoningSealer(keys.map((k) => ({ id: k.id, key: Buffer.from(k.key, 'base64') })));
    }
    const key = { id: `k${Date.now().toString(36)}`, key: randomBytes(32) };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ keys: [{ id: key.id, key: key.key.toString('base64') }] }), { mode: 0o600 });
    print(`Created the key that seals encrypted reasoning in ${file} (set REASONING_KEYS to use your own keys).`);
    return new ReasoningSealer([key]);
  }

  seal(text: string, owner: Owner): string {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0].key, nonce);
    cipher.setAAD(aad(this.header, owner));
    const body = cipher.update(text, 'utf8');
    const tail = cipher.final();
    return Buffer.concat([this.header, nonce, body, tail, cipher.getAuthTag()]).toString('base64');
  }

  /** The sealed text; throws SealError for a changed, cut or foreign blob, or one whose key is gone. */
  open(blob: string, owner: Owner): string {
    const buf = Buffer.from(blob, 'base64');
    if (buf.length < 2 || buf[0] !== VERSION) throw new SealError('not a sealed reasoning blob');
    const headerLength = 2 + buf[1];
    if (buf.length < headerLength + NONCE + TAG) throw new SealError('the blob is cut short');
    const key = this.byId.get(buf.subarray(2, headerLength).toString('utf8'));
    if (!key) throw new SealError('the blob was sealed with a key this server does not have');
    const nonce = buf.subarray(headerLength, headerLength + NONCE);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad(buf.subarray(0, headerLength), owner));
    decipher.setAuthTag(buf.subarray(buf.length - TAG));
    try {
      const body = decipher.update(buf.subarray(headerLength + NONCE, buf.length - TAG));
      return Buffer.concat([body, decipher.final()]).toString('utf8');
    } catch {
      throw new SealError('the blob does not authenticate');
    }
  }
}

/** The header (version, key id) and the owner: a blob opens only for the tenant and end user it was sealed for. */
function aad(header: Buffer, owner: Owner): Buffer {
  return Buffer.concat([header, Buffer.from(`\0${owner.tenant}\0${owner.endUser}`, 'utf8')]);
}

