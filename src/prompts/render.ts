// Rendering a prompt template: `{{name}}` placeholders (spaces inside the braces allowed) are replaced by
// the variable of that name; a placeholder without a variable is left as it is (MKA1: "Unmatched
// placeholders are left as-is"), and a variable the template does not use is ignored.
import { errors } from '../wire/errors.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]{1,128})\s*\}\}/g;

/** A variable of the Responses `prompt` parameter: a string, or an input_text/input_image/input_file part. */
export type VariableValue = string | { type: 'input_text'; text: string } | { type: 'input_image' | 'input_file'; [k: string]: unknown };

export function renderText(template: string, vars: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (m, name: string) => (Object.hasOwn(vars, name) ? vars[name] : m));
}

export interface Rendered {
  /** The template with text variables substituted; an image or file variable becomes "[image: name]" / "[file: name]". */
  text: string;
  /** The image and file parts the template referenced, in order (they reach the model as a user message). */
  media: Array<Record<string, unknown>>;
  /** The variables' own text, which guardrails check as user input (the template is the operator's). */
  variableText: string;
}

/** Checks `prompt.variables` (400 naming the variable) and renders the template with them. */
export function renderPrompt(template: string, variables: unknown): Rendered {
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    throw errors.invalid(`'prompt.variables' must be an object mapping names to strings or input parts.`, 'prompt.variables');
  }
  const text: Record<string, string> = {};
  const media = new Map<string, Record<string, unknown>>();
  const said: string[] = [];
  for (const [name, v] of Object.entries((variables ?? {}) as Record<string, unknown>)) {
    const p = `prompt.variables.${name.slice(0, 64)}`;
    if (typeof v === 'string') {
      text[name] = v;
      said.push(v);
      continue;
    }
    const o = v as Record<string, unknown> | null;
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw errors.invalid(`'${p}' must be a string or an input_text, input_image or input_file object.`, p);
    if (o.type === 'input_text') {
      if (typeof o.text !== 'string') throw errors.invalid(`'${p}.text' must be a string.`, `${p}.text`);
      text[name] = o.text;
      said.push(o.text);
    } else if (o.type === 'input_image') {
      if (typeof o.image_url !== 'string' && typeof o.file_id !== 'string') throw errors.invalid(`'${p}' needs an image_url or a file_id.`, p);
      media.set(name, { type: 'input_image', detail: o.detail ?? 'auto', ...(o.image_url ? { image_url: o.image_url } : {}), ...(o.file_id ? { file_id: o.file_id } : {}) });
      text[name] = `[image: ${name}]`;
    } else if (o.type === 'input_file') {
      if (typeof o.file_id !== 'string' && typeof o.file_data !== 'string' && typeof o.file_url !== 'string') throw errors.invalid(`'${p}' needs a file_id, file_data or file_url.`, p);
      const { type: _t, ...rest } = o;
      media.set(name, { type: 'input_file', ...rest });
      text[name] = `[file: ${name}]`;
    } else {
      throw errors.invalid(`'${p}.type' must be input_text, input_image or input_file.`, `${p}.type`);
    }
  }
  const used = new Set<string>();
  for (const m of template.matchAll(PLACEHOLDER)) used.add(m[1]);
  return {
    text: renderText(template, text),
    media: [...media].filter(([name]) => used.has(name)).map(([, part]) => part),
    variableText: said.join('\n'),
  };
}
