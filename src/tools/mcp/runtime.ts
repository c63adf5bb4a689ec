// The MCP servers of one response run: connects lazily (once per server per run), lists tools (or reuses
// the chain's earlier mcp_list_tools), exposes them to the model as functions, and runs calls, emitting
// mcp_list_tools, mcp_call and mcp_approval_request items with OpenAI's events.
import type { FunctionToolDef } from '../../providers/types.js';
import { newId } from '../../wire/ids.js';
import type { EventSink } from '../../wire/events.js';
import type { Item } from '../../wire/types.js';
import { parseObject } from '../args.js';
import type { ChainToolState } from '../chain.js';
import { closeItem, emitItem, itemEvent, openItem } from '../emit.js';
import { isAllowed, needsApproval } from './approval.js';
import { describeError, McpConnection, type McpToolInfo } from './client.js';
import type { ServerHeaders } from './credentials.js';
import { toAbortSignal, type CancelSignal } from '../../util/cancel.js';

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A failure that ends the response (the server could not be reached or listed). */
export class McpSetupError extends Error {
  constructor(message: string, readonly code = 'mcp_server_error') {
    super(message);
  }
}

export interface McpExposure {
  /** Name the model calls. */
  fn: string;
  label: string;
  tool: McpToolInfo;
}

interface Server {
  def: Item;
  headers: Record<string, string>;
  conn?: Promise<McpConnection>;
  tools: McpToolInfo[];
}

export class McpRuntime {
  private servers = new Map<string, Server>();
  readonly exposures: McpExposure[] = [];

  constructor(
    private readonly log: EventSink,
    defs: Item[],
    headers: ServerHeaders,
    private readonly chain: ChainToolState,
    private readonly signal: CancelSignal,
  ) {
    for (const def of defs) this.servers.set(def.server_label, { def, headers: headers[def.server_label] ?? {}, tools: [] });
  }

  get hasServers(): boolean {
    return this.servers.size > 0;
  }

  private connection(s: Server): Promise<McpConnection> {
    s.conn ??= McpConnection.open(s.def.server_url, s.headers, this.chain.allowPrivateMcp, toAbortSignal(this.signal));
    return s.conn;
  }

  /** Cached list when the chain has one covering the current allowed_tools, else a fresh listing. */
  private cachedTools(s: Server): McpToolInfo[] | undefined {
    const cached = this.chain.listed[s.def.server_label];
    if (!cached) return undefined;
    const a = s.def.allowed_tools;
    const named: string[] = Array.isArray(a) ? a : Array.isArray(a?.tool_names) ? a.tool_names : [];
    return named.every((n) => cached.some((t) => t.name === n)) ? cached : undefined;
  }

  /** Lists every server's tools; `taken` holds names already used by function tools. */
  async prepare(taken: Set<string>): Promise<void> {
    for (const s of this.servers.values()) {
      const cached = this.cachedTools(s);
      s.tools = (cached ?? (await this.list(s))).filter((t) => isAllowed(s.def, t));
      for (const tool of s.tools) {
        let fn = FUNCTION_NAME.test(tool.name) && !taken.has(tool.name) ? tool.name
          : `${s.def.server_label}__${tool.name}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
        for (let i = 2; taken.has(fn); i++) fn = `${fn.slice(0, 60)}_${i}`;
        taken.add(fn);
        this.exposures.push({ fn, label: s.def.server_label, tool });
      }
    }
  }

  private async list(s: Server): Promise<McpToolInfo[]> {
    const item: Item = { id: newId('mcpl'), type: 'mcp_list_tools', server_label: s.def.server_label, tools: [], error: null };
    const index = openItem(this.log, item);
    itemEvent(this.log, 'response.mcp_list_tools.in_progress', index, item.id!);
    try {
      const all = await (await this.connection(s)).listTools(toAbortSignal(this.signal));
      const tools = all.filter((t) => isAllowed(s.def, t));
      itemEvent(this.log, 'response.mcp_list_tools.completed', index, item.id!);
      closeItem(this.log, index, { ...item, tools });
      return tools;
    } catch (err) {
      if (this.signal.aborted) {
        closeItem(this.log, index, { ...item, error: 'interrupted' });
        throw err;
      }
      const message = `Could not list the tools of MCP server '${s.def.server_label}': ${describeError(err)}`;
      itemEvent(this.log, 'response.mcp_list_tools.failed', index, item.id!);
      closeItem(this.log, index, { ...item, error: message });
      throw new McpSetupError(message);
    }
  }

  functionDefs(): FunctionToolDef[] {
    return this.exposures.map((e) => ({ name: e.fn, description: e.tool.description, parameters: e.tool.input_schema, strict: false }));
  }

  exposure(fn: string): McpExposure | undefined {
    return this.exposures.find((e) => e.fn === fn);
  }

  requiresApproval(e: McpExposure): boolean {
    return needsApproval(this.servers.get(e.label)!.def, e.tool.name, e.tool);
  }

  requestApproval(e: McpExposure, args: string): Item {
    const item: Item = { id: newId('mcpr'), type: 'mcp_approval_request', server_label: e.label, name: e.tool.name, arguments: args };
    emitItem(this.log, item);
    return item;
  }

  /** Runs one call, emitting its mcp_call item; tool and transport failures end up in `error`. */
  async call(label: string, name: string, args: string, approvalRequestId: string | null): Promise<Item> {
    const item: Item = {
      id: newId('mcp'), type: 'mcp_call', status: 'in_progress', server_label: label, name, arguments: '',
      output: null, error: null, approval_request_id: approvalRequestId,
    };
    const index = openItem(this.log, item);
    if (args) itemEvent(this.log, 'response.mcp_call_arguments.delta', index, item.id!, { delta: args });
    itemEvent(this.log, 'response.mcp_call_arguments.done', index, item.id!, { arguments: args });
    itemEvent(this.log, 'response.mcp_call.in_progress', index, item.id!);
    let result: { output: string | null; error: string | null };
    const server = this.servers.get(label);
    const parsed = parseObject(args);
    try {
      if (!server) result = { output: null, error: `MCP server '${label}' is not among this request's tools.` };
      else if (!parsed) result = { output: null, error: 'The arguments are not a JSON object.' };
      else result = await (await this.connection(server)).callTool(name, parsed, toAbortSignal(this.signal));
    } catch (err) {
      if (this.signal.aborted) {
        closeItem(this.log, index, { ...item, arguments: args, status: 'incomplete' });
        throw err;
      }
      result = { output: null, error: describeError(err) };
    }
    const done: Item = { ...item, arguments: args, ...result, status: result.error === null ? 'completed' : 'failed' };
    itemEvent(this.log, result.error === null ? 'response.mcp_call.completed' : 'response.mcp_call.failed', index, item.id!);
    closeItem(this.log, index, done);
    return done;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map(async (s) => {
      if (s.conn) await (await s.conn.catch(() => undefined))?.close();
    }));
  }
}

/** What the model reads back from an mcp_call (also used to replay chains). */
export function mcpResultText(item: Item): string {
  return item.error ? `Error: ${item.error}` : String(item.output ?? '');
}
