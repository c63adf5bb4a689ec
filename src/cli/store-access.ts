// The store commands read the server's own configuration (src/config: the same env vars and RESPD_CONFIG
// file), so they open exactly the store the server uses.
import { loadConfig, ConfigError, type Config } from '../config/index.js';
import { createStore } from '../store/index.js';
import type { Store } from '../store/types.js';

export class CliFailure extends Error {}

export function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliFailure(`invalid configuration: ${err.message}`);
    throw err;
  }
}

/** Opens and migrates the store (as a server start would), runs `fn`, closes it. */
export async function withStore<T>(cfg: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await createStore(cfg);
  try {
    await store.init();
    return await fn(store);
  } finally {
    await store.close();
  }
}
