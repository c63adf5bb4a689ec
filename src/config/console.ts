// CONSOLE_ADMIN_KEY: turns on the operator console (GET /console, README "Operator console") and the
// admin JSON endpoints under /admin it calls. Unset = both are off (404). The admin key is not a tenant
// key: it sees every tenant's responses and no tenant key opens /admin.

export interface ConsoleConfig {
  /** The bearer token /admin requires; compared as a digest in constant time, never logged. */
  adminKey: string;
}

/** At least 16 characters: the key reads and cancels every tenant's responses. */
const MIN_KEY = 16;

export function parseConsoleConfig(env: NodeJS.ProcessEnv, fail: (msg: string) => Error): ConsoleConfig | undefined {
  const key = env.CONSOLE_ADMIN_KEY;
  if (key === undefined || key === '') return undefined;
  if (key.length < MIN_KEY || /\s/.test(key)) throw fail(`CONSOLE_ADMIN_KEY must be at least ${MIN_KEY} characters without spaces`);
  return { adminKey: key };
}
