// Structured outputs: can `text.format` be honoured exactly? Every provider gets a valid JSON schema
// (ajv must compile it). The embedded engine enforces the schema with a grammar (see
// providers/llama/json-schema.ts), which expresses structure, types, enums, lengths and item counts
// but not value constraints such as `pattern` or `minimum`. "Cannot enforce" therefore means: the schema
// uses a keyword the grammar would drop, so output could parse yet fail validation. With `strict: true`
// (what the SDK helpers such as zodTextFormat send) that is a 400 naming `text.format`; without it
// (OpenAI's default, strict false: adherence is not guaranteed) the grammar still enforces structure and
// types, and the constraints it cannot express are dropped.
import { errors } from '../wire/errors.js';
import { compileSchema } from './args.js';

const UNSUPPORTED = new Set([
  'pattern', 'patternProperties', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'not', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas', 'dependencies', 'uniqueItems', 'contains',
  'minContains', 'maxContains', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems',
]);
const GRAMMAR_FORMATS = new Set(['date-time', 'date', 'time']);
const SCHEMA_MAPS = ['properties', '$defs', 'definitions'];
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** The first construct of `schema` a grammar cannot enforce, as "path: reason", or null. */
export function grammarGap(schema: unknown, path = 'schema'): string | null {
  if (schema === false) return `${path}: a 'false' schema cannot be generated`;
  if (!isObj(schema)) return null;
  for (const key of Object.keys(schema)) {
    if (UNSUPPORTED.has(key)) return `${path}.${key}: the '${key}' keyword cannot be enforced by the grammar`;
  }
  if (typeof schema.format === 'string' && !GRAMMAR_FORMATS.has(schema.format)) {
    return `${path}.format: format '${schema.format}' cannot be enforced by the grammar (date-time, date and time can)`;
  }
  if (Array.isArray(schema.enum) && !schema.enum.every(isPrimitive)) return `${path}.enum: only string, number, boolean and null values can be enforced`;
  if ('const' in schema && !isPrimitive(schema.const)) return `${path}.const: only a string, number, boolean or null can be enforced`;
  if (Array.isArray(schema.required) && isObj(schema.properties)) {
    const missing = schema.required.find((r: unknown) => typeof r === 'string' && !(r in schema.properties));
    if (missing !== undefined) return `${path}.required: '${missing}' is required but not declared in properties`;
  }
  for (const key of SCHEMA_MAPS) {
    if (!isObj(schema[key])) continue;
    for (const [name, sub] of Object.entries(schema[key])) {
      const gap = grammarGap(sub, `${path}.${key}.${name}`);
      if (gap) return gap;
    }
  }
  for (const key of SCHEMA_LISTS) {
    if (!Array.isArray(schema[key])) continue;
    for (let i = 0; i < schema[key].length; i++) {
      const gap = grammarGap(schema[key][i], `${path}.${key}[${i}]`);
      if (gap) return gap;
    }
  }
  for (const key of ['items', 'additionalProperties', 'additionalItems']) {
    if (!isObj(schema[key])) continue;
    const gap = grammarGap(schema[key], `${path}.${key}`);
    if (gap) return gap;
  }
  return null;
}

/** Throws a 400 naming `param` when `schema` is not a valid JSON schema. */
export function assertValidSchema(schema: Record<string, unknown>, param: string, what: string): void {
  try {
    compileSchema(schema);
  } catch (err) {
    throw errors.invalid(`${what} is not a valid JSON schema: ${(err as Error).message}`, param, 'invalid_json_schema');
  }
}

/**
 * Create-time check of `text.format`. `byGrammar`: the provider enforces the schema by a grammar
 * (ModelCapabilities.grammar); otherwise it gets the schema as is and enforces it its own way.
 */
export function checkTextFormat(format: Record<string, any>, byGrammar: boolean): void {
  if (format?.type !== 'json_schema') return;
  assertValidSchema(format.schema ?? {}, 'text.format', `The schema of text.format '${format.name}'`);
  if (!byGrammar || format.strict !== true) return;
  const gap = grammarGap(format.schema ?? {});
  if (gap) {
    throw errors.invalid(
      `This model cannot enforce the JSON schema of text.format '${format.name}': ${gap}. ` +
        `Remove that constraint, or leave text.format.strict unset/false to accept output that may violate it.`,
      'text.format', 'unsupported_json_schema',
    );
  }
}
