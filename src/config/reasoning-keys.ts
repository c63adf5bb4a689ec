// REASONING_KEYS: the keys that seal encrypted reasoning (see responses/sealed-reasoning.ts), parsed
// with the rest of the configuration so a bad value stops the server at start.

export interface ReasoningKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** REASONING_KEYS: `id:base64key,…` (32-byte keys; the first one seals). */
export function parseReasoningKeys(raw: string): ReasoningKey[] {
  const keys: ReasoningKey[] = [];
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf(':');
    const id = at > 0 ? entry.slice(0, at) : '';
    if (!KEY_ID.test(id)) throw new Error(`each entry must be id:base64key with an id matching ${KEY_ID}`);
    const key = Buffer.from(entry.slice(at + 1), 'base64');
    if (key.length !== 32) throw new Error(`key '${id}' must be 32 bytes of base64 (e.g. openssl rand -base64 32), got ${key.length}`);
    if (keys.some((k) => k.id === id)) throw new Error(`key id '${id}' appears twice`);
    keys.push({ id, key });
  }
  if (!keys.length) throw new Error('no keys given');
  return keys;
}
