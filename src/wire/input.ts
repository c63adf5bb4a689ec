// Normalises and validates `input` into stored input items. The body schema checked the outer shape;
// here each item is checked with the param path OpenAI would name (e.g. `input[2].content[0].text`).
import { errors } from '../wire/errors.js';
import { newId } from '../wire/ids.js';
import type { Item } from '../wire/types.js';

export interface NormalizedInput {
  items: Item[];
  hasImages: boolean;
  hasFiles: boolean;
}

const ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(param: string, message: string): never {
  throw errors.invalid(message, param);
}

function normalizePart(p: unknown, param: string, role: string, flags: NormalizedInput): Record<string, unknown> {
  if (!isObj(p) || !isStr(p.type)) bad(param, `Invalid content part at '${param}': expected an object with a 'type'.`);
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      if (!isStr(p.text)) bad(`${param}.text`, `'${param}.text' must be a string.`);
      return p.type === 'output_text'
        ? { type: 'output_text', text: p.text, annotations: Array.isArray(p.annotations) ? p.annotations : [] }
        : { type: 'input_text', text: p.text };
    case 'refusal':
      if (!isStr(p.refusal)) bad(`${param}.refusal`, `'${param}.refusal' must be a string.`);
      return { type: 'refusal', refusal: p.refusal };
    case 'input_image': {
      if (role !== 'user') bad(param, `Images are only allowed in user messages.`);
      if (p.image_url !== undefined && p.image_url !== null && !isStr(p.image_url)) bad(`${param}.image_url`, `'${param}.image_url' must be a string.`);
      if (p.file_id !== undefined && p.file_id !== null && !isStr(p.file_id)) bad(`${param}.file_id`, `'${param}.file_id' must be a string.`);
      if (!p.image_url && !p.file_id) bad(param, `'${param}' needs an image_url or a file_id.`);
      const detail = p.detail ?? 'auto';
      if (!['low', 'high', 'auto'].includes(detail)) bad(`${param}.detail`, `'${param}.detail' must be one of low, high, auto.`);
      flags.hasImages = true;
      return { type: 'input_image', image_url: p.image_url ?? null, file_id: p.file_id ?? null, detail };
    }
    case 'input_file': {
      for (const k of ['file_data', 'file_url', 'file_id', 'filename']) {
        if (p[k] !== undefined && p[k] !== null && !isStr(p[k])) bad(`${param}.${k}`, `'${param}.${k}' must be a string.`);
      }
      if (!p.file_data && !p.file_url && !p.file_id) bad(param, `'${param}' needs file_data, file_url or file_id.`);
      flags.hasFiles = true;
      const out: Record<string, unknown> = { type: 'input_file' };
      for (const k of ['file_data', 'file_url', 'file_id', 'filename']) if (p[k]) out[k] = p[k];
      return out;
    }
    default:
      return bad(`${param}.type`, `Unsupported content type '${String(p.type)}' at '${param}'.`);
  }
}

const CALL_PREFIX: Record<string, string> = {
  custom_tool_call: 'ctc', local_shell_call: 'lsh', shell_call: 'sh', apply_patch_call: 'apc', computer_call: 'cu',
};

/** A call to a client-executed tool from an earlier turn, sent back as history (store: false chains). */
function clientCall(raw: Record<string, any>, type: string, param: string): Item {
  if (!isStr(raw.call_id)) bad(`${param}.call_id`, `'${param}.call_id' must be a string.`);
  const need = (k: string, ok: (v: any) => boolean, what: string) => {
    if (!ok(raw[k])) bad(`${param}.${k}`, `'${param}.${k}' must be ${what}.`);
  };
  if (type === 'custom_tool_call') {
    need('name', isStr, 'a string');
    need('input', isStr, 'a string');
  }
  if (type === 'local_shell_call') need('action', (a) => isObj(a) && Array.isArray(a.command), 'an exec action with a command array');
  if (type === 'shell_call') need('action', (a) => isObj(a) && Array.isArray(a.commands), 'an action with a commands array');
  if (type === 'apply_patch_call') need('operation', (o) => isObj(o) && isStr(o.type) && isStr(o.path), 'an operation with a type and a path');
  if (type === 'computer_call') need('action', isObj, 'an action object');
  return { ...raw, type, id: raw.id ?? newId(CALL_PREFIX[type]!), status: raw.status ?? 'completed' } as Item;
}

/** The client's result of a client-executed tool call (`*_call_output`). */
function clientCallOutput(raw: Record<string, any>, type: string, param: string): Item {
  // local_shell_call_output names its call by `id` in the openai types; `call_id` is accepted too.
  const callId = raw.call_id ?? (type === 'local_shell_call_output' ? raw.id : undefined);
  if (!isStr(callId)) bad(`${param}.call_id`, `'${param}.call_id' must be a string.`);
  const o = raw.output;
  switch (type) {
    case 'custom_tool_call_output':
      if (!isStr(o) && !Array.isArray(o)) bad(`${param}.output`, `'${param}.output' must be a string or an array.`);
      break;
    case 'local_shell_call_output':
      if (!isStr(o)) bad(`${param}.output`, `'${param}.output' must be a string.`);
      break;
    case 'shell_call_output':
      if (!Array.isArray(o) || !o.every((r) => isObj(r) && isObj(r.outcome))) bad(`${param}.output`, `'${param}.output' must be an array of {stdout, stderr, outcome}.`);
      break;
    case 'apply_patch_call_output':
      if (raw.status !== 'completed' && raw.status !== 'failed') bad(`${param}.status`, `'${param}.status' must be "completed" or "failed".`);
      if (o !== undefined && o !== null && !isStr(o)) bad(`${param}.output`, `'${param}.output' must be a string.`);
      break;
    case 'computer_call_output':
      if (!isObj(o) || o.type !== 'computer_screenshot') bad(`${param}.output`, `'${param}.output' must be a computer_screenshot.`);
      break;
  }
  const id = type === 'local_shell_call_output' && raw.call_id === undefined ? newId('lsho') : raw.id ?? newId(`${CALL_PREFIX[type.replace('_output', '')]}o`);
  return { ...raw, type, id, call_id: callId, status: raw.status ?? 'completed' } as Item;
}

/** A reasoning item sent back (Codex sends every one it got): summary and text parts, the sealed text as is. */
function normalizeReasoning(raw: Record<string, any>, param: string): Item {
  const parts = (v: unknown, key: string, type: string): Array<{ type: string; text: string }> => {
    if (!Array.isArray(v)) bad(`${param}.${key}`, `'${param}.${key}' must be an array.`);
    return v.map((p: unknown, j: number) => {
      if (!isObj(p) || p.type !== type || !isStr(p.text)) bad(`${param}.${key}[${j}]`, `'${param}.${key}[${j}]' must be {"type":"${type}","text":"…"}.`);
      return { type, text: p.text };
    });
  };
  const item: Item = { type: 'reasoning', id: raw.id ?? newId('rs'), summary: parts(raw.summary ?? [], 'summary', 'summary_text') };
  if (raw.content != null) item.content = parts(raw.content, 'content', 'reasoning_text');
  if (raw.encrypted_content != null) {
    if (!isStr(raw.encrypted_content)) bad(`${param}.encrypted_content`, `'${param}.encrypted_content' must be a string.`);
    item.encrypted_content = raw.encrypted_content;
  }
  return item;
}

function normalizeItem(raw: unknown, param: string, flags: NormalizedInput): Item {
  if (!isObj(raw)) bad(param, `Invalid item at '${param}': expected an object.`);
  const type = raw.type ?? (raw.role !== undefined ? 'message' : undefined);
  if (raw.id !== undefined && !isStr(raw.id)) bad(`${param}.id`, `'${param}.id' must be a string.`);
  switch (type) {
    case 'message': {
      if (!isStr(raw.role) || !ROLES.has(raw.role)) bad(`${param}.role`, `'${param}.role' must be one of user, assistant, system, developer.`);
      let content: Record<string, unknown>[];
      if (isStr(raw.content)) {
        content = [raw.role === 'assistant'
          ? { type: 'output_text', text: raw.content, annotations: [] }
          : { type: 'input_text', text: raw.content }];
      } else if (Array.isArray(raw.content)) {
        if (raw.content.length > 1000) bad(`${param}.content`, `'${param}.content' has too many parts.`);
        content = raw.content.map((p: unknown, j: number) => normalizePart(p, `${param}.content[${j}]`, raw.role, flags));
      } else {
        return bad(`${param}.content`, `'${param}.content' must be a string or an array of content parts.`);
      }
      return { type: 'message', id: raw.id ?? newId('msg'), role: raw.role, content, status: 'completed' };
    }
    case 'function_call':
      if (!isStr(raw.call_id)) bad(`${param}.call_id`, `'${param}.call_id' must be a string.`);
      if (!isStr(raw.name)) bad(`${param}.name`, `'${param}.name' must be a string.`);
      if (!isStr(raw.arguments)) bad(`${param}.arguments`, `'${param}.arguments' must be a JSON string.`);
      if (raw.namespace !== undefined && raw.namespace !== null && !isStr(raw.namespace)) bad(`${param}.namespace`, `'${param}.namespace' must be a string.`);
      return {
        type: 'function_call', id: raw.id ?? newId('fc'), call_id: raw.call_id, name: raw.name, arguments: raw.arguments, status: 'completed',
        ...(raw.namespace ? { namespace: raw.namespace } : {}),
      };
    case 'function_call_output': {
      if (!isStr(raw.call_id)) bad(`${param}.call_id`, `'${param}.call_id' must be a string.`);
      const output = raw.output;
      if (!isStr(output) && !Array.isArray(output)) bad(`${param}.output`, `'${param}.output' must be a string or an array.`);
      return { type: 'function_call_output', id: raw.id ?? newId('fco'), call_id: raw.call_id, output, status: 'completed' };
    }
    case 'custom_tool_call':
    case 'local_shell_call':
    case 'shell_call':
    case 'apply_patch_call':
    case 'computer_call':
      return clientCall(raw, type, param);
    case 'custom_tool_call_output':
    case 'local_shell_call_output':
    case 'shell_call_output':
    case 'apply_patch_call_output':
    case 'computer_call_output':
      return clientCallOutput(raw, type, param);
    case 'item_reference':
      if (!isStr(raw.id)) bad(`${param}.id`, `'${param}.id' must be a string.`);
      return { type: 'item_reference', id: raw.id };
    case 'reasoning':
      return normalizeReasoning(raw, param);
    case 'mcp_approval_response':
      if (!isStr(raw.approval_request_id)) bad(`${param}.approval_request_id`, `'${param}.approval_request_id' must be a string.`);
      if (typeof raw.approve !== 'boolean') bad(`${param}.approve`, `'${param}.approve' must be a boolean.`);
      return { type: 'mcp_approval_response', id: raw.id ?? newId('mcpr'), approval_request_id: raw.approval_request_id, approve: raw.approve, reason: isStr(raw.reason) ? raw.reason : null };
    case 'compaction':
      if (!isStr(raw.encrypted_content) && !isStr(raw.summary)) bad(param, `'${param}' needs encrypted_content.`);
      return { type: 'compaction', id: raw.id ?? newId('cmp'), encrypted_content: raw.encrypted_content ?? raw.summary };
    case 'mcp_list_tools':
    case 'mcp_call':
    case 'mcp_approval_request':
    case 'sleep_call':
      return { ...raw, type, id: raw.id ?? newId('mcp') } as Item;
    case 'code_interpreter_call':
      if (!isStr(raw.code)) bad(`${param}.code`, `'${param}.code' must be a string.`);
      return { ...raw, type, id: raw.id ?? newId('ci') } as Item;
    case 'image_generation_call':
      // OpenAI's input item: an image made earlier, given back for the conversation to go on from.
      if (!isStr(raw.id)) bad(`${param}.id`, `'${param}.id' must be a string.`);
      if (raw.result !== undefined && raw.result !== null && !isStr(raw.result)) bad(`${param}.result`, `'${param}.result' must be a base64 string or null.`);
      return { type, id: raw.id, status: isStr(raw.status) ? raw.status : 'completed', result: raw.result ?? null, ...(isStr(raw.revised_prompt) ? { revised_prompt: raw.revised_prompt } : {}) } as Item;
    default:
      return bad(`${param}.type`, `Unsupported input item type '${String(type)}' at '${param}'.`);
  }
}

export function normalizeInput(input: unknown): NormalizedInput {
  const flags: NormalizedInput = { items: [], hasImages: false, hasFiles: false };
  if (input === undefined || input === null) return flags;
  if (isStr(input)) {
    flags.items.push({ type: 'message', id: newId('msg'), role: 'user', content: [{ type: 'input_text', text: input }], status: 'completed' });
    return flags;
  }
  if (!Array.isArray(input)) bad('input', `'input' must be a string or an array of items.`);
  flags.items = input.map((it, i) => normalizeItem(it, `input[${i}]`, flags));
  return flags;
}
