// JSON-schema validation of tool arguments and structured outputs (ajv 8, the validator Fastify already
// ships). Compiled validators are cached by schema text: agents send the same tools on every turn.
import { Ajv, type ValidateFunction } from 'ajv';

// `validateFormats: false`: formats are annotations here (ajv-formats is not a runtime dependency).
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
const cache = new Map<string, ValidateFunction>();
const MAX_CACHED = 256;

/** Compiles `schema`; throws with ajv's message when it is not a valid JSON schema. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = cache.get(key);
  if (hit) return hit;
  const fn = ajv.compile(schema);
  cache.set(key, fn);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value as string);
  return fn;
}

/** Why `text` is not a JSON value matching `schema`, or null when it is. */
export function schemaViolation(schema: Record<string, unknown>, text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the arguments are not valid JSON';
  }
  let validate: ValidateFunction;
  try {
    validate = compileSchema(schema);
  } catch (err) {
    return `the schema cannot be compiled: ${(err as Error).message}`;
  }
  if (validate(value)) return null;
  const e = validate.errors?.[0];
  return e ? `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}` : 'the arguments do not match the schema';
}

/** Parses tool arguments that must be a JSON object (MCP and sleep calls). */
export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}
