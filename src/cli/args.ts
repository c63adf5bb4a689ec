// Argument parsing for the CLI: node's util.parseArgs (strict), plus the few checks it does not make
// (how many positionals, integers). Any mistake is a UsageError: the command's usage and exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(argv: string[], options: O, positionals: { names: string[]; optional?: number }) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    // ERR_PARSE_ARGS_UNKNOWN_OPTION, …_INVALID_OPTION_VALUE, …_UNEXPECTED_POSITIONAL: its message says which.
    throw new UsageError((err as Error).message);
  }
  const required = positionals.names.length - (positionals.optional ?? 0);
  const got = parsed.positionals.length;
  if (got < required) throw new UsageError(`missing <${positionals.names[got]}>`);
  if (got > positionals.names.length) throw new UsageError(`unexpected argument '${parsed.positionals[positionals.names.length]}'`);
  return parsed;
}

/** An integer option (digits, optionally a leading '-'), at least `min`; undefined when absent. */
export function intOption(name: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}
