// API keys managed with `respd keys` (issue 23): only a SHA-256 digest of each key is stored, never the
// key. The server accepts these next to API_KEYS (see http/key-source.ts); a key's tenant is derived from
// its digest exactly as for API_KEYS, so a key moved between the two keeps its data.

export interface ApiKeyRecord {
  /** key_… : what `respd keys revoke` takes; not secret. */
  id: string;
  name: string;
  /** SHA-256 of the key, hex. */
  digest: string;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds; null while the key is valid. */
  revokedAt: number | null;
}

export interface ApiKeyStore {
  create(rec: ApiKeyRecord): Promise<void>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked at `at`; returns the record as it now stands (undefined: no such key). An already revoked key keeps its first revocation time. */
  revoke(id: string, at: number): Promise<ApiKeyRecord | undefined>;
  /** Digests of the keys not revoked: what the server's key ring reloads. */
  activeDigests(): Promise<string[]>;
}
