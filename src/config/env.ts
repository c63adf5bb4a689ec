// The environment-variable readers every config module uses: each checks its variable and words the
// error with the variable's name, so a bad setting stops the server with a message that says what to fix.

export class ConfigError extends Error {}

export function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  // Digits only: Number() would also take ' ', '0x10' and '1e3'.
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

/** A delay for setTimeout, which fires at once past 2^31-1 ms (about 24.8 days). */
export function timer(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const n = int(env, name, dflt, min);
  if (n > 2 ** 31 - 1) throw new ConfigError(`${name} must be at most ${2 ** 31 - 1} (about 24.8 days), got '${env[name]}'`);
  return n;
}

export function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1, true, 0 or false, got '${raw}'`);
}

export function oneOf(env: NodeJS.ProcessEnv, name: string, allowed: readonly string[], dflt: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!allowed.includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw;
}

export function matching(env: NodeJS.ProcessEnv, name: string, re: RegExp, what: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!re.test(raw)) throw new ConfigError(`${name} must be ${what}, got '${raw}'`);
  return raw;
}
