// Converts a client's JSON Schema into the subset node-llama-cpp's grammar generator understands.
// Why: `llama.createGrammarForJsonSchema` only knows its own GbnfJsonSchema dialect (`oneOf` but not
// `anyOf`, `$defs` but not `definitions`, no `allOf`, ...). Unknown keywords are not rejected there, they
// silently produce a wrong grammar (e.g. an `anyOf` property became `null`-only), so every schema is
// rewritten here first. Constraints a grammar cannot express (pattern, minimum, multipleOf, ...) are
// dropped: output then matches the schema's structure and types but may violate those constraints.

type Json = Record<string, unknown>;
export type GbnfSchema = Record<string, unknown>;

const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const STRING_FORMATS = new Set(['date-time', 'time', 'date']);

/** Any JSON value. */
const ANY: GbnfSchema = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', additionalProperties: true },
    { type: 'array' },
  ],
};

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function withDescription(out: GbnfSchema, s: Json): GbnfSchema {
  if (typeof s.description === 'string') out.description = s.description;
  return out;
}

class Converter {
  readonly defs: Record<string, GbnfSchema> = {};
  private readonly rawDefs = new Map<string, unknown>();
  private depth = 0;

  collectDefs(s: Json): void {
    for (const key of ['$defs', 'definitions'] as const) {
      const d = s[key];
      if (isObject(d)) for (const [name, def] of Object.entries(d)) if (!this.rawDefs.has(name)) this.rawDefs.set(name, def);
    }
  }

  /** Converts referenced definitions lazily (only those actually used end up in `$defs`). */
  private ref(ref: string): GbnfSchema {
    const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
    const name = m?.[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!name || !this.rawDefs.has(name)) return ANY;
    if (!(name in this.defs)) {
      this.defs[name] = ANY; // placeholder first: recursive definitions refer back to themselves
      this.defs[name] = this.convert(this.rawDefs.get(name));
    }
    return { $ref: `#/$defs/${name}` };
  }

  convert(input: unknown): GbnfSchema {
    if (!isObject(input)) return ANY; // `true`, `false` (cannot express "nothing") and garbage
    if (++this.depth > 64) throw new Error('JSON schema is nested too deeply');
    try {
      return this.convertObject(input);
    } finally {
      this.depth--;
    }
  }

  private convertObject(s: Json): GbnfSchema {
    this.collectDefs(s);
    if (typeof s.$ref === 'string') return withDescription(this.ref(s.$ref), s);
    if ('const' in s) return isPrimitiveValue(s.const) ? withDescription({ const: s.const }, s) : ANY;
    if (Array.isArray(s.enum)) {
      const values = s.enum.filter(isPrimitiveValue);
      return values.length > 0 ? withDescription({ enum: values }, s) : ANY;
    }
    const union = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
    if (union) {
      const options = union.map((o) => this.convert(isObject(o) ? mergeSiblings(s, o) : o));
      return options.length === 1 ? options[0]! : withDescription({ oneOf: options }, s);
    }
    if (Array.isArray(s.allOf) && s.allOf.length > 0) {
      const { allOf, ...rest } = s;
      return this.convert((allOf as unknown[]).filter(isObject).reduce<Json>((acc, part) => mergeAll(acc, part), rest));
    }

    let type = s.type;
    if (Array.isArray(type)) {
      const types = type.filter((t): t is string => typeof t === 'string');
      if (types.length === 0) return ANY;
      if (types.length > 1) {
        const hasStringRules = 'minLength' in s || 'maxLength' in s || 'format' in s;
        if (types.every((t) => PRIMITIVES.has(t)) && !hasStringRules) return withDescription({ type: types }, s);
        return withDescription({ oneOf: types.map((t) => this.convert({ ...s, type: t })) }, s);
      }
      type = types[0];
    }
    if (type === undefined) {
      if (isObject(s.properties) || 'additionalProperties' in s || Array.isArray(s.required)) type = 'object';
      else if ('items' in s || Array.isArray(s.prefixItems)) type = 'array';
      else return ANY;
    }

    switch (type) {
      case 'string': {
        const out: GbnfSchema = { type: 'string' };
        if (typeof s.format === 'string' && STRING_FORMATS.has(s.format)) out.format = s.format;
        else {
          if (typeof s.minLength === 'number') out.minLength = s.minLength;
          if (typeof s.maxLength === 'number') out.maxLength = s.maxLength;
        }
        return withDescription(out, s);
      }
      case 'number':
      case 'integer':
      case 'boolean':
      case 'null':
        return withDescription({ type }, s);
      case 'object':
        return withDescription(this.object(s), s);
      case 'array':
        return withDescription(this.array(s), s);
      default:
        return ANY;
    }
  }

  private object(s: Json): GbnfSchema {
    const props = isObject(s.properties) ? s.properties : {};
    const names = Object.keys(props);
    const properties: Record<string, GbnfSchema> = {};
    for (const name of names) properties[name] = this.convert(props[name]);
    const out: GbnfSchema = { type: 'object', properties };
    if (Array.isArray(s.required)) out.required = s.required.filter((r) => typeof r === 'string' && names.includes(r));
    // Without declared properties an object schema means "any object"; with them, emitting only the
    // declared ones is always valid, and keeps the model on the intended keys.
    const ap = s.additionalProperties;
    if (ap === true || (ap === undefined && names.length === 0)) out.additionalProperties = true;
    else if (isObject(ap)) out.additionalProperties = this.convert(ap);
    else out.additionalProperties = false;
    if (typeof s.minProperties === 'number') out.minProperties = s.minProperties;
    if (typeof s.maxProperties === 'number') out.maxProperties = s.maxProperties;
    return out;
  }

  private array(s: Json): GbnfSchema {
    const out: GbnfSchema = { type: 'array' };
    const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
    if (prefix) out.prefixItems = prefix.map((p) => this.convert(p));
    if (isObject(s.items)) out.items = this.convert(s.items);
    else if (s.items === undefined && isObject(s.additionalItems)) out.items = this.convert(s.additionalItems);
    if (typeof s.minItems === 'number') out.minItems = s.minItems;
    if (typeof s.maxItems === 'number') out.maxItems = s.maxItems;
    return out;
  }
}

function isPrimitiveValue(v: unknown): v is string | number | boolean | null {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** `{type:'object', anyOf:[{required:[...]}, ...]}`: each option inherits the sibling keywords. */
function mergeSiblings(parent: Json, option: Json): Json {
  const { anyOf: _a, oneOf: _o, description: _d, $defs: _defs, definitions: _defs2, ...siblings } = parent;
  return mergeAll(siblings, option);
}

/** Shallow `allOf` merge: properties and required lists are unioned, other keywords last-wins. */
function mergeAll(a: Json, b: Json): Json {
  const out: Json = { ...a, ...b };
  if (isObject(a.properties) || isObject(b.properties))
    out.properties = { ...(isObject(a.properties) ? a.properties : {}), ...(isObject(b.properties) ? b.properties : {}) };
  if (Array.isArray(a.required) || Array.isArray(b.required))
    out.required = [...new Set([...((a.required as unknown[]) ?? []), ...((b.required as unknown[]) ?? [])])];
  return out;
}

/**
 * Rewrites `schema` into node-llama-cpp's GbnfJsonSchema dialect. Referenced definitions are hoisted to
 * a root `$defs`; a root that cannot carry `$defs` is wrapped in a one-option `oneOf`.
 */
export function toGbnfSchema(schema: Record<string, unknown>): GbnfSchema {
  const c = new Converter();
  const root = c.convert(schema);
  if (Object.keys(c.defs).length === 0) return root;
  if ('$ref' in root || 'oneOf' in root || root.type === 'object' || root.type === 'array') return { ...root, $defs: c.defs };
  return { oneOf: [root], $defs: c.defs };
}
