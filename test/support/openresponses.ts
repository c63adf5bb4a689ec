/**
 * Open Responses conformance helpers for tests.
 *
 * Validates server output against the Open Responses OpenAPI document
 * (default location: `<repo>/../shared/reference/openresponses-openapi.json`,
 * override with the OPENRESPONSES_SPEC env var). If the file is missing the
 * module still loads: `openResponsesAvailable` is false and
 * `openResponsesSkipReason` says why (use it as the `skip` option of a test);
 * the validate* functions then throw.
 *
 * Errors are strings `"<instancePath> <message> (schema: <pointer>)"`, where
 * instancePath is a JSON pointer into the validated value ("/" = the root) and
 * pointer is the offending keyword's location in the spec file, e.g.
 * `/output/0/content/0 must have required property 'annotations'
 *  (schema: #/components/schemas/OutputTextContent/required)`.
 *
 * OpenAPI-isms handled before compiling: `discriminator` + `oneOf` (and any oneOf
 * whose object branches all carry a required enum/const `type`) is rewritten into
 * a tag check plus if/then per tag (same semantics, but errors only for the branch
 * the `type` selects); `nullable: true` (OAS 3.0) becomes a null-able
 * type; `example`, `xml`, `externalDocs`, `x-*` are dropped; unknown keywords are
 * ignored (strict: false). `anyOf: [{type: T}, {type: 'null'}]` is merged into
 * `type: [T, 'null']` for shorter messages.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, unknown>;

const SPEC_ENV = 'OPENRESPONSES_SPEC';
const SPEC_REL = path.join('..', 'shared', 'reference', 'openresponses-openapi.json');
const SCHEMA_ID = 'https://openresponses.invalid/openapi.json';
const COMPONENT_PREFIX = '#/components/schemas/';

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------
// Locate + load the spec (synchronously, at import time)
// ---------------------------------------------------------------------------

function candidatePaths(): string[] {
  const env = process.env[SPEC_ENV];
  if (env) return [path.resolve(env)];
  const out = [path.resolve(process.cwd(), SPEC_REL)];
  // From this file's directory upwards (works for test/support and dist/test/support).
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    out.push(path.resolve(dir, SPEC_REL));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return [...new Set(out)];
}

interface Spec {
  file: string;
  doc: Json;
  schemas: Json;
}

function loadSpec(): { spec?: Spec; reason?: string } {
  const candidates = candidatePaths();
  const file = candidates.find((p) => existsSync(p));
  if (!file) {
    return {
      reason: `Open Responses OpenAPI spec not found (looked in: ${candidates.join(', ')}; set ${SPEC_ENV} to override)`,
    };
  }
  try {
    const doc: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isObj(doc) || !isObj(doc.components) || !isObj(doc.components.schemas)) {
      return { reason: `Open Responses spec at ${file} has no components.schemas` };
    }
    return { spec: { file, doc, schemas: doc.components.schemas } };
  } catch (err) {
    return { reason: `Open Responses spec at ${file} is unreadable: ${(err as Error).message}` };
  }
}

const loaded = loadSpec();
const SPEC: Spec | undefined = loaded.spec;

export const openResponsesAvailable: boolean = SPEC !== undefined;
export const openResponsesSkipReason: string | undefined = loaded.reason;
export const openResponsesSpecPath: string | undefined = SPEC?.file;

function requireSpec(): Spec {
  if (!SPEC) throw new Error(`Open Responses spec unavailable: ${openResponsesSkipReason}`);
  return SPEC;
}

// ---------------------------------------------------------------------------
// Spec navigation: the Response component and the stream event union
// ---------------------------------------------------------------------------

function componentNameOfRef(ref: unknown): string | undefined {
  return typeof ref === 'string' && ref.startsWith(COMPONENT_PREFIX)
    ? decodePointerToken(ref.slice(COMPONENT_PREFIX.length))
    : undefined;
}

function decodePointerToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function encodePointerToken(t: string): string {
  return t.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Follows `$ref`-only aliases (e.g. `SpecificToolChoiceParam -> SpecificFunctionParam`). */
function resolveSchema(schemas: Json, s: unknown, depth = 0): Json | undefined {
  if (!isObj(s) || depth > 20) return undefined;
  const name = componentNameOfRef(s.$ref);
  if (name === undefined) return s;
  return resolveSchema(schemas, schemas[name], depth + 1);
}

interface Operation {
  path: string;
  method: string;
  op: Json;
}

function operations(doc: Json): Operation[] {
  const out: Operation[] = [];
  if (!isObj(doc.paths)) return out;
  for (const [p, item] of Object.entries(doc.paths)) {
    if (!isObj(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (isObj(op) && isObj(op.responses)) out.push({ path: p, method, op });
    }
  }
  return out;
}

function createResponseOperation(doc: Json): Json | undefined {
  const ops = operations(doc);
  return (
    ops.find((o) => o.op.operationId === 'createResponse')?.op ??
    ops.find((o) => o.method === 'post' && /\/responses$/.test(o.path))?.op
  );
}

function successContent(op: Json | undefined, mediaType: string): Json | undefined {
  if (!op || !isObj(op.responses)) return undefined;
  for (const code of ['200', '201', '2XX', 'default']) {
    const r = op.responses[code];
    if (isObj(r) && isObj(r.content)) {
      const c = r.content[mediaType];
      if (isObj(c) && isObj(c.schema)) return c.schema;
    }
  }
  return undefined;
}

let responseComponentCache: string | undefined;
function responseComponentName(): string {
  if (responseComponentCache) return responseComponentCache;
  const { doc, schemas } = requireSpec();
  const fromOp = componentNameOfRef(successContent(createResponseOperation(doc), 'application/json')?.$ref);
  const name =
    (fromOp && fromOp in schemas ? fromOp : undefined) ??
    ['ResponseResource', 'Response', 'ResponseObject'].find((n) => n in schemas);
  if (!name) throw new Error('Open Responses spec: cannot find the Response object component');
  responseComponentCache = name;
  return name;
}

/** Union members ($ref component names) of a `oneOf`/`anyOf` schema, flattening ref'd unions. */
function unionMembers(schemas: Json, s: unknown, seen = new Set<string>()): string[] {
  if (!isObj(s)) return [];
  const direct = componentNameOfRef(s.$ref);
  if (direct !== undefined) {
    if (seen.has(direct)) return [];
    seen.add(direct);
    const target = schemas[direct];
    if (isObj(target) && (Array.isArray(target.oneOf) || Array.isArray(target.anyOf))) {
      return unionMembers(schemas, target, seen);
    }
    return [direct];
  }
  const list = Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : [];
  return list.flatMap((m) => unionMembers(schemas, m, seen));
}

function tagValues(schema: Json | undefined, prop: string): string[] | undefined {
  if (!schema || !isObj(schema.properties)) return undefined;
  const p = schema.properties[prop];
  if (!isObj(p)) return undefined;
  if (typeof p.const === 'string') return [p.const];
  if (Array.isArray(p.enum) && p.enum.length > 0 && p.enum.every((v) => typeof v === 'string')) {
    return p.enum as string[];
  }
  return undefined;
}

let streamEventMapCache: Map<string, string> | undefined;
/** event `type` -> component name, from the create endpoint's `text/event-stream` 200 schema. */
function streamEventMap(): Map<string, string> {
  if (streamEventMapCache) return streamEventMapCache;
  const { doc, schemas } = requireSpec();
  let members = unionMembers(schemas, successContent(createResponseOperation(doc), 'text/event-stream'));
  if (members.length === 0) {
    // Any other operation streaming SSE
    for (const o of operations(doc)) {
      members = unionMembers(schemas, successContent(o.op, 'text/event-stream'));
      if (members.length > 0) break;
    }
  }
  if (members.length === 0) {
    // Last resort: naming convention.
    members = Object.keys(schemas).filter((n) => /Stream(ing)?Event$/.test(n));
  }
  const map = new Map<string, string>();
  for (const name of members) {
    for (const t of tagValues(resolveSchema(schemas, schemas[name]), 'type') ?? []) {
      if (!map.has(t)) map.set(t, name);
    }
  }
  if (map.size === 0) throw new Error('Open Responses spec: cannot find any streaming event schemas');
  streamEventMapCache = map;
  return map;
}

// ---------------------------------------------------------------------------
// OpenAPI -> JSON Schema preprocessing
// ---------------------------------------------------------------------------

const DROP_KEYS = new Set(['discriminator', 'example', 'xml', 'externalDocs', 'nullable']);
const SCHEMA_KEYS = new Set([
  'items', 'additionalItems', 'additionalProperties', 'unevaluatedItems', 'unevaluatedProperties',
  'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'contentSchema',
]);
const SCHEMA_ARRAY_KEYS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_MAP_KEYS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const ANNOTATION_KEYS = new Set([
  'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$comment',
]);
const COMBINING_KEYS = ['enum', 'const', 'not', 'allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', '$ref', '$dynamicRef'];

/** spec pointer of every schema object handed to Ajv (Ajv keeps object identity). */
const schemaPointers = new WeakMap<object, string>();

function label<T extends object>(o: T, ptr: string): T {
  schemaPointers.set(o, ptr);
  return o;
}

function isOnlyNullType(s: unknown): boolean {
  return isObj(s) && s.type === 'null' && Object.keys(s).every((k) => k === 'type' || ANNOTATION_KEYS.has(k));
}

function transformSchema(schemas: Json, s: unknown, ptr: string): unknown {
  if (!isObj(s)) return s;
  let out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (DROP_KEYS.has(k) || k.startsWith('x-')) continue;
    const at = `${ptr}/${encodePointerToken(k)}`;
    if (SCHEMA_MAP_KEYS.has(k) && isObj(v)) {
      const m: Json = {};
      for (const [name, sub] of Object.entries(v)) {
        m[name] = transformSchema(schemas, sub, `${at}/${encodePointerToken(name)}`);
      }
      out[k] = m;
    } else if (SCHEMA_ARRAY_KEYS.has(k) && Array.isArray(v)) {
      out[k] = v.map((sub, i) => transformSchema(schemas, sub, `${at}/${i}`));
    } else if (SCHEMA_KEYS.has(k)) {
      out[k] = Array.isArray(v) ? v.map((sub, i) => transformSchema(schemas, sub, `${at}/${i}`)) : transformSchema(schemas, v, at);
    } else {
      out[k] = v;
    }
  }
  label(out, ptr);

  // OAS 3.0 `nullable: true`.
  if (s.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (out.type === undefined) out = label({ anyOf: [out, label({ type: 'null' }, ptr)] }, ptr);
  }

  // discriminator + oneOf  ->  tag enum check + one if/then per tag. A oneOf without a
  // discriminator whose branches are all objects with a required enum/const `type` is
  // treated the same way (e.g. TextField.format); semantics are unchanged.
  if (Array.isArray(s.oneOf)) {
    const prop =
      isObj(s.discriminator) && typeof s.discriminator.propertyName === 'string' ? s.discriminator.propertyName : 'type';
    const rewritten = rewriteDiscriminated(schemas, s, out, prop, ptr);
    if (rewritten) out = rewritten;
  }

  // anyOf: [{type: T, ...}, {type: 'null'}]  ->  {type: [T, 'null'], ...}
  if (Array.isArray(out.anyOf) && out.anyOf.length === 2) {
    const nullIdx = out.anyOf.findIndex(isOnlyNullType);
    const other = out.anyOf[1 - nullIdx];
    if (
      nullIdx >= 0 &&
      isObj(other) &&
      (typeof other.type === 'string' || Array.isArray(other.type)) &&
      !COMBINING_KEYS.some((k) => k in other) &&
      !Object.keys(other).some((k) => k in out && k !== 'anyOf' && !ANNOTATION_KEYS.has(k))
    ) {
      const types = Array.isArray(other.type) ? (other.type as unknown[]) : [other.type];
      const { anyOf: _drop, ...rest } = out;
      out = label({ ...rest, ...other, type: types.includes('null') ? types : [...types, 'null'] }, ptr);
    }
  }
  return out;
}

function rewriteDiscriminated(schemas: Json, orig: Json, out: Json, prop: string, ptr: string): Json | undefined {
  const branchesOrig = orig.oneOf as unknown[];
  const branchesOut = out.oneOf as unknown[];
  const mapping = isObj(orig.discriminator) && isObj(orig.discriminator.mapping) ? orig.discriminator.mapping : undefined;
  const byTag = new Map<string, unknown[]>();
  for (let i = 0; i < branchesOrig.length; i++) {
    const b = branchesOrig[i];
    const resolved = resolveSchema(schemas, b);
    if (!resolved || resolved.type !== 'object') return undefined;
    if (!Array.isArray(resolved.required) || !resolved.required.includes(prop)) return undefined;
    let tags = tagValues(resolved, prop);
    if (mapping && isObj(b) && typeof b.$ref === 'string') {
      const mapped = Object.entries(mapping).filter(([, ref]) => ref === b.$ref).map(([tag]) => tag);
      if (mapped.length > 0) tags = mapped;
    }
    if (!tags) return undefined;
    for (const t of tags) byTag.set(t, [...(byTag.get(t) ?? []), branchesOut[i]]);
  }
  const discPtr = `${ptr}/discriminator`;
  const tagCheck = label(
    { type: 'object', required: [prop], properties: { [prop]: label({ enum: [...byTag.keys()] }, `${discPtr}/propertyName`) } },
    discPtr,
  );
  const conds = [...byTag.entries()].map(([tag, bs]) =>
    label(
      {
        if: label({ type: 'object', required: [prop], properties: { [prop]: { const: tag } } }, discPtr),
        then: bs.length === 1 ? bs[0] : label({ oneOf: bs }, `${ptr}/oneOf`),
      },
      `${ptr}/oneOf`,
    ),
  );
  const { oneOf: _drop, ...rest } = out;
  const allOf = Array.isArray(rest.allOf) ? rest.allOf : [];
  return label({ ...rest, allOf: [...allOf, tagCheck, ...conds] }, ptr);
}

// ---------------------------------------------------------------------------
// Ajv (lazy) + error formatting
// ---------------------------------------------------------------------------

interface AjvLike {
  addSchema(schema: object): unknown;
  compile(schema: object): ValidateFunction;
}

let ajvCache: AjvLike | undefined;
function getAjv(): AjvLike {
  if (ajvCache) return ajvCache;
  const { doc, schemas } = requireSpec();
  const is31 = typeof doc.openapi === 'string' && /^3\.[1-9]/.test(doc.openapi);
  // ajv is CommonJS: the default import is module.exports, whose `.default` is the class.
  const Ctor = is31 ? Ajv2020Module.default : AjvModule.default;
  const opts = { strict: false, allErrors: true, verbose: true, validateSchema: false } as const;
  const ajv = new Ctor(opts);
  addFormatsModule.default(ajv);
  const processed: Json = {};
  for (const [name, s] of Object.entries(schemas)) {
    processed[name] = transformSchema(schemas, s, `${COMPONENT_PREFIX}${encodePointerToken(name)}`);
  }
  ajv.addSchema({ $id: SCHEMA_ID, components: { schemas: processed } });
  ajvCache = ajv;
  return ajv;
}

const validators = new Map<string, ValidateFunction>();
function validatorFor(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const { schemas } = requireSpec();
    if (!(name in schemas)) throw new Error(`Open Responses spec has no component schema named "${name}"`);
    v = getAjv().compile({ $ref: `${SCHEMA_ID}${COMPONENT_PREFIX}${encodePointerToken(name)}` });
    validators.set(name, v);
  }
  return v;
}

function short(v: unknown, max = 60): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

const SUMMARY_KEYWORDS = new Set(['anyOf', 'oneOf', 'if']);

function isSummary(e: ErrorObject): boolean {
  // oneOf failing because several branches matched is a real error, not a summary.
  if (e.keyword === 'oneOf') return (e.params as { passingSchemas?: unknown }).passingSchemas == null;
  return SUMMARY_KEYWORDS.has(e.keyword);
}

/** "must be null" coming from the `{type: 'null'}` alternative of an anyOf/oneOf. */
function isNullBranch(e: ErrorObject): boolean {
  if (e.keyword !== 'type' || (e.params as { type?: unknown }).type !== 'null') return false;
  const base = e.parentSchema ? schemaPointers.get(e.parentSchema) : undefined;
  return /\/(anyOf|oneOf)\/\d+$/.test(base ?? e.schemaPath.replace(/\/type$/, ''));
}

function within(p: string, base: string): boolean {
  return p === base || p.startsWith(`${base}/`);
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  if (!errors || errors.length === 0) return [];
  const substantive = errors.filter((e) => !isSummary(e) && !isNullBranch(e));
  const covered = (e: ErrorObject) => substantive.some((s) => within(s.instancePath, e.instancePath));
  const nullablePaths = new Set(errors.filter((e) => isNullBranch(e) && covered(e)).map((e) => e.instancePath));
  const kept = errors.filter((e) => !((isSummary(e) || isNullBranch(e)) && covered(e)));
  const out: string[] = [];
  for (const e of kept) {
    const at = e.instancePath === '' ? '/' : e.instancePath;
    let msg = e.message ?? e.keyword;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'enum') msg += ` ${short(params.allowedValues, 400)}`;
    if (e.keyword === 'const') msg += ` ${short(params.allowedValue)}`;
    if (e.keyword === 'additionalProperties') msg += ` ('${String(params.additionalProperty)}')`;
    if (e.keyword === 'type' && nullablePaths.has(e.instancePath)) msg += ' or null';
    if (['type', 'enum', 'const', 'pattern', 'format', 'minimum', 'maximum', 'maxLength', 'minLength'].includes(e.keyword)) {
      msg += `, got ${short(e.data)}`;
    }
    const base = e.parentSchema ? schemaPointers.get(e.parentSchema) : undefined;
    const where = base ? `${base}/${e.keyword}` : e.schemaPath;
    const line = `${at} ${msg} (schema: ${where})`;
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** Validates `obj` against the named `#/components/schemas/<name>`. Throws if the spec or component is missing. */
export function validateComponent(name: string, obj: unknown): string[] {
  const v = validatorFor(name);
  return v(obj) ? [] : formatErrors(v.errors);
}

/** Validates a full Response object (the createResponse 200 `application/json` schema, i.e. ResponseResource). */
export function validateResponseObject(obj: unknown): string[] {
  return validateComponent(responseComponentName(), obj);
}

/** Stream event `type` values defined by the spec (members of the createResponse `text/event-stream` union). */
export function listStreamEventTypes(): string[] {
  return [...streamEventMap().keys()];
}

/** Component schema name for a stream event type, or undefined if the spec does not define that type. */
export function streamEventComponent(type: string): string | undefined {
  return streamEventMap().get(type);
}

/**
 * Validates one parsed SSE `data:` payload. An event whose `type` is not in the
 * spec yields a single error starting with `/type unknown stream event type`
 * (callers may choose to tolerate those).
 */
export function validateStreamEvent(ev: unknown): string[] {
  const map = streamEventMap();
  if (!isObj(ev)) return [`/ must be an object (stream event), got ${short(ev)}`];
  if (typeof ev.type !== 'string') return [`/type must be a string (stream event discriminator), got ${short(ev.type)}`];
  const name = map.get(ev.type);
  if (!name) return [`/type unknown stream event type "${ev.type}": not defined by the Open Responses spec`];
  return validateComponent(name, ev);
}

/** Where things were found in the spec (for diagnostics / test titles). */
export function openResponsesInfo(): {
  specPath: string;
  version: string | undefined;
  responseComponent: string;
  streamEvents: Record<string, string>;
} {
  const { file, doc } = requireSpec();
  return {
    specPath: file,
    version: isObj(doc.info) && typeof doc.info.version === 'string' ? doc.info.version : undefined,
    responseComponent: responseComponentName(),
    streamEvents: Object.fromEntries(streamEventMap()),
  };
}
