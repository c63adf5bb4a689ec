// `require_approval` and `allowed_tools` of an MCP tool definition, in OpenAI's forms:
//   require_approval: "always" (default) | "never" | { always?: {tool_names?, read_only?}, never?: {tool_names?, read_only?} }
//   allowed_tools:    string[] | { tool_names?: string[], read_only?: boolean } | null
import type { Item } from '../../wire/types.js';
import type { McpToolInfo } from './client.js';

type Filter = { tool_names?: string[]; read_only?: boolean } | undefined;

const readOnly = (t: McpToolInfo | undefined) => t?.annotations?.readOnlyHint === true;

function matches(f: Filter, name: string, tool: McpToolInfo | undefined): boolean {
  if (!f) return false;
  if (Array.isArray(f.tool_names) && f.tool_names.includes(name)) return true;
  return f.read_only === true && readOnly(tool);
}

export function needsApproval(server: Item, name: string, tool?: McpToolInfo): boolean {
  const r = server.require_approval;
  if (r === 'never') return false;
  if (r === undefined || r === null || r === 'always' || typeof r !== 'object') return true;
  if (matches(r.never, name, tool)) return false;
  // Object form: anything not listed under `never` needs approval (the safe default).
  return true;
}

export function isAllowed(server: Item, tool: McpToolInfo): boolean {
  const a = server.allowed_tools;
  if (a === undefined || a === null) return true;
  if (Array.isArray(a)) return a.includes(tool.name);
  if (typeof a !== 'object') return true;
  if (Array.isArray(a.tool_names) && !a.tool_names.includes(tool.name)) return false;
  if (a.read_only === true && !readOnly(tool)) return false;
  return true;
}
