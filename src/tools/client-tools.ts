// Tools the client executes: function tools, the functions of a `namespace`, `custom` tools, `local_shell`,
// `shell` with a local environment, `apply_patch` and `computer_use_preview`. Every backend only knows
// function calling, so each is offered to the model as a function (a custom tool takes one string `input`;
// a shell tool takes its action's fields; apply_patch its operation; the computer its action), and the
// model's call is mapped back to the tool's own item type. The same mapping runs backwards when a chain
// is replayed: a `*_call` item becomes the function call the model made, its `*_call_output` the result.
import type { FunctionToolDef, ToolCall } from '../providers/types.js';
import type { Item } from '../wire/types.js';

export type ClientKind = 'function' | 'custom' | 'local_shell' | 'shell' | 'apply_patch' | 'computer';

export interface ClientTool {
  kind: ClientKind;
  /** The function the model is offered (and calls). */
  def: FunctionToolDef;
  /** The tool's own name (function and custom tools). */
  name: string;
  namespace?: string;
  /** The tool as declared (normalised). */
  tool: Item;
}

/** Namespaced functions reach the model as `<namespace>__<name>` (function names allow no dots). */
export const namespacedName = (namespace: string | undefined, name: string) => (namespace ? `${namespace}__${name}` : name);

const str = { type: 'string' };
const int = { type: 'integer' };
const obj = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

const CUSTOM_PARAMS = obj({ input: { type: 'string', description: 'The tool input, free-form text.' } }, ['input']);
const LOCAL_SHELL_PARAMS = obj({
  command: { type: 'array', items: str, description: 'The command and its arguments (argv).' },
  working_directory: str, timeout_ms: int, env: { type: 'object', additionalProperties: str }, user: str,
}, ['command']);
const SHELL_PARAMS = obj({
  commands: { type: 'array', items: str, description: 'Shell commands to run in order.' },
  timeout_ms: int, max_output_length: int,
}, ['commands']);
const APPLY_PATCH_PARAMS = obj({
  type: { type: 'string', enum: ['create_file', 'update_file', 'delete_file'] },
  path: { type: 'string', description: 'Path of the file, relative to the workspace.' },
  diff: { type: 'string', description: 'For create_file and update_file: the V4A diff to apply.' },
}, ['type', 'path']);
const COMPUTER_PARAMS = obj({
  type: { type: 'string', enum: ['click', 'double_click', 'drag', 'keypress', 'move', 'screenshot', 'scroll', 'type', 'wait'] },
  x: int, y: int,
  button: { type: 'string', enum: ['left', 'right', 'wheel', 'back', 'forward'] },
  path: { type: 'array', items: obj({ x: int, y: int }, ['x', 'y']) },
  keys: { type: 'array', items: str }, text: str, scroll_x: int, scroll_y: int,
}, ['type']);

function customDescription(t: Item): string {
  const f = t.format;
  const about = t.description ? `${t.description}\n` : '';
  if (f?.type === 'grammar') return `${about}Put the tool input in \`input\`; it must match this ${f.syntax} grammar:\n${f.definition}`;
  return `${about}Put the tool input, free-form text, in \`input\`.`;
}

function fn(name: string, description: string, parameters: Record<string, unknown>): FunctionToolDef {
  // Not `strict` upstream (optional fields are not all required); the arguments are validated here.
  return { name, description, parameters, strict: false };
}

/** The client-executed tools among a response's (normalised) tools, each with the function it is offered as. */
export function clientTools(tools: Item[]): ClientTool[] {
  const out: ClientTool[] = [];
  const add = (t: Item, namespace?: string) => {
    if (t.type === 'function') {
      const def = { name: namespacedName(namespace, t.name), description: t.description, parameters: t.parameters, strict: t.strict };
      out.push({ kind: 'function', def, name: t.name, namespace, tool: t });
    } else if (t.type === 'custom') {
      const def = fn(namespacedName(namespace, t.name), customDescription(t), CUSTOM_PARAMS);
      if (t.format?.type === 'grammar') def.inputGrammar = { syntax: t.format.syntax, definition: t.format.definition };
      out.push({ kind: 'custom', def, name: t.name, namespace, tool: t });
    }
  };
  for (const t of tools) {
    switch (t.type) {
      case 'function': case 'custom': add(t); break;
      case 'namespace': for (const inner of t.tools ?? []) add(inner, t.name); break;
      case 'local_shell':
        out.push({ kind: 'local_shell', name: 'local_shell', tool: t, def: fn('local_shell', 'Runs a command on the user\'s machine and returns its output.', LOCAL_SHELL_PARAMS) });
        break;
      case 'shell':
        if (isLocalShell(t)) out.push({ kind: 'shell', name: 'shell', tool: t, def: fn('shell', 'Runs shell commands on the user\'s machine and returns their output.', SHELL_PARAMS) });
        break;
      case 'apply_patch':
        out.push({ kind: 'apply_patch', name: 'apply_patch', tool: t, def: fn('apply_patch', 'Creates, updates (with a V4A diff) or deletes a file in the user\'s workspace.', APPLY_PATCH_PARAMS) });
        break;
      case 'computer_use_preview':
      case 'computer': {
        const size = t.display_width ? ` (${t.display_width}×${t.display_height} pixels)` : '';
        out.push({
          kind: 'computer', name: 'computer', tool: t,
          def: fn('computer', `Acts on the user's ${t.environment ?? 'computer'} screen${size}; a screenshot comes back.`, COMPUTER_PARAMS),
        });
        break;
      }
    }
  }
  return out;
}

/** A `shell` tool the client runs: no environment, or a local one (containers are hosted). */
export const isLocalShell = (t: Item) => !t.environment || t.environment.type === 'local';

const parse = (args: string): Record<string, any> => {
  try {
    const v = JSON.parse(args || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
};
const dropNull = (o: Record<string, any>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

/**
 * The item of a (validated) call to a client tool, as it is emitted when done; for `function` and
 * `custom` the runner streams the arguments / input first. Field names follow the openai package.
 */
export function callItem(tool: ClientTool, id: string, callId: string, args: string): Item {
  const a = parse(args);
  switch (tool.kind) {
    case 'function':
      return { id, type: 'function_call', status: 'completed', arguments: args, call_id: callId, name: tool.name, ...(tool.namespace ? { namespace: tool.namespace } : {}) };
    case 'custom':
      return { id, type: 'custom_tool_call', status: 'completed', call_id: callId, name: tool.name, input: String(a.input ?? ''), ...(tool.namespace ? { namespace: tool.namespace } : {}) };
    case 'local_shell':
      return {
        id, type: 'local_shell_call', status: 'completed', call_id: callId,
        action: { type: 'exec', command: a.command ?? [], env: a.env ?? {}, ...dropNull({ timeout_ms: a.timeout_ms, working_directory: a.working_directory, user: a.user }) },
      };
    case 'shell':
      return {
        id, type: 'shell_call', status: 'completed', call_id: callId,
        action: { commands: a.commands ?? [], timeout_ms: a.timeout_ms ?? null, max_output_length: a.max_output_length ?? null },
        environment: tool.tool.environment ?? null,
      };
    case 'apply_patch':
      return { id, type: 'apply_patch_call', status: 'completed', call_id: callId, operation: dropNull({ type: a.type, path: a.path, diff: a.type === 'delete_file' ? undefined : a.diff ?? '' }) };
    case 'computer':
      return { id, type: 'computer_call', status: 'completed', call_id: callId, action: dropNull(a), pending_safety_checks: [] };
  }
}

/** Id prefixes of the call items (OpenAI's: fc_, ctc_, lsh_, sh_, apc_, cu_). */
export const ID_PREFIX: Record<ClientKind, string> = {
  function: 'fc', custom: 'ctc', local_shell: 'lsh', shell: 'sh', apply_patch: 'apc', computer: 'cu',
};

/** A client tool's call item of an earlier turn as the function call the model made, or undefined. */
export function historyCall(it: Item): ToolCall | undefined {
  const id = it.call_id ?? it.id;
  switch (it.type) {
    case 'function_call': return { id, name: namespacedName(it.namespace, it.name), arguments: it.arguments ?? '{}' };
    case 'custom_tool_call': return { id, name: namespacedName(it.namespace, it.name), arguments: JSON.stringify({ input: it.input ?? '' }) };
    case 'local_shell_call': {
      const { type: _t, ...action } = it.action ?? {};
      return { id, name: 'local_shell', arguments: JSON.stringify(action) };
    }
    case 'shell_call': return { id, name: 'shell', arguments: JSON.stringify(dropNull(it.action ?? {})) };
    case 'apply_patch_call': return { id, name: 'apply_patch', arguments: JSON.stringify(it.operation ?? {}) };
    case 'computer_call': return { id, name: 'computer', arguments: JSON.stringify(it.action ?? {}) };
  }
  return undefined;
}

const OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output', 'local_shell_call_output', 'shell_call_output', 'apply_patch_call_output', 'computer_call_output']);

/** A `*_call_output` item as the tool result the model reads, or undefined for other items. */
export function historyResult(it: Item): { callId: string; content: string } | undefined {
  if (!OUTPUT_TYPES.has(it.type)) return undefined;
  const o = it.output;
  let content: string;
  if (it.type === 'shell_call_output' && Array.isArray(o)) {
    content = o.map((r: any) => {
      const outcome = r?.outcome?.type === 'timeout' ? 'timed out' : `exit code ${r?.outcome?.exit_code ?? '?'}`;
      return `${outcome}\nstdout:\n${r?.stdout ?? ''}\nstderr:\n${r?.stderr ?? ''}`;
    }).join('\n\n');
  } else if (it.type === 'apply_patch_call_output') {
    content = `${it.status === 'failed' ? 'failed' : 'applied'}${o ? `: ${o}` : ''}`;
  } else if (it.type === 'computer_call_output') {
    content = o?.image_url ? `screenshot: ${o.image_url}` : `screenshot: file ${o?.file_id ?? ''}`;
  } else {
    content = typeof o === 'string' ? o : JSON.stringify(o);
  }
  // local_shell_call_output names its call by `id` in the openai types; `call_id` is accepted too.
  return { callId: it.call_id ?? it.id, content };
}
