// The tools of one response run, as the runner's tool loop sees them: which functions the model is
// offered on a turn (client functions, MCP tools, sleep), how `tool_choice` maps onto them, whether a
// call is valid, and how built-in calls run. Client function calls are never run here: they end the
// response so the client can answer them with function_call_output.
import type { ChatMessage, FunctionToolDef, ToolChoice } from '../providers/types.js';
import type { WebSearchBackend } from './web-search/backend.js';
import { runWebSearch, WEB_SEARCH_FUNCTION, WEB_SEARCH_TYPES, webSearchFunctionDef, type UrlCitable } from './web-search/tool.js';
import type { EventSink } from '../wire/events.js';
import type { Item, ResponseObject } from '../wire/types.js';
import { parseObject, schemaViolation } from './args.js';
import type { ChainToolState } from './chain.js';
import { clientTools, type ClientTool } from './client-tools.js';
import { credentialVault } from './mcp/credentials.js';
import { McpRuntime, McpSetupError, mcpResultText, type McpExposure } from './mcp/runtime.js';
import type { SleepRegistry } from './sleep/registry.js';
import { runSleep, SLEEP_FUNCTION, sleepFunctionDef, sleepResultText } from './sleep/tool.js';
import type { CancelSignal } from '../util/cancel.js';
import type { FileSearchBackend } from './file-search/backend.js';
import type { ImagesBackend } from './image-generation/backend.js';
import { IMAGE_GENERATION_FUNCTION, IMAGE_GENERATION_TYPE, imageGenerationFunctionDef, runImageGeneration } from './image-generation/tool.js';
import { FILE_SEARCH_FUNCTION, fileSearchFunctionDef, fileSearchResultText, runFileSearch, type Citable } from './file-search/tool.js';
import { CODE_INTERPRETER_FUNCTION, codeInterpreterFunctionDef, runCodeInterpreter, type CodeInterpreterBackend, type ContainerCitable } from './code-interpreter/tool.js';
import type { Owner } from '../store/types.js';

/** A tool call of one model turn, buffered until the turn ends (see responses/turn-output.ts). */
export interface BufferedCall {
  callId: string;
  name: string;
  fragments: string[];
  arguments: string;
}

export type CallKind =
  | { kind: 'function'; def: FunctionToolDef; client: ClientTool }
  | { kind: 'mcp'; exposure: McpExposure }
  | { kind: 'sleep' }
  | { kind: 'file_search' }
  | { kind: 'web_search' }
  | { kind: 'code_interpreter' }
  | { kind: 'image_generation' };

/**
 * `citable`: files a later message of the response may cite (file_search results); `urls`: web pages it
 * may cite (web_search); `failed`: the call's item ended failed.
 */
export type BuiltinResult = { approvalRequested: true } | {
  approvalRequested: false; resultText: string; citable?: Citable[]; urls?: UrlCitable[]; containerFiles?: ContainerCitable[]; failed?: boolean;
};

export interface ToolSessionOptions {
  log: EventSink;
  response: ResponseObject;
  chain?: ChainToolState;
  /** Labels of MCP servers whose headers were given at create (kept in memory only). */
  credentialLabels?: string[];
  sleepers: SleepRegistry;
  signal: CancelSignal;
  fileSearch?: FileSearchBackend;
  /** The configured search engine; absent = web_search is not offered. */
  webSearch?: WebSearchBackend;
  /** The code_interpreter sandbox; absent = the tool is not offered. */
  codeInterpreter?: CodeInterpreterBackend;
  /** Who the response belongs to: the owner of the containers code runs in. */
  owner?: Owner;
  /** The configured images endpoint; absent = image_generation is not offered. */
  images?: ImagesBackend;
}

/** computer_use_preview, computer and computer_use name the same client tool in tool_choice. */
const sameType = (a: string, b: string) => a === b || (a.startsWith('computer') && typeof b === 'string' && b.startsWith('computer'));

/** Arguments of a call to a custom / shell / patch / computer tool: the offered schema, and a regex grammar. */
function clientCallViolation(tool: ClientTool, args: string): string | null {
  const why = schemaViolation(tool.def.parameters!, args || '{}');
  if (why) return `the arguments of '${tool.def.name}' do not match its schema: ${why}`;
  const f = tool.tool.format;
  if (tool.kind === 'custom' && f?.type === 'grammar' && f.syntax === 'regex') {
    const input = String(JSON.parse(args).input);
    if (!new RegExp(`^(?:${f.definition})$`, 'u').test(input)) return `the input of '${tool.name}' does not match its regex grammar`;
  }
  return null;
}

export class ToolSession {
  private constructor(
    private readonly opts: ToolSessionOptions,
    private readonly functions: FunctionToolDef[],
    private readonly clients: ClientTool[],
    private readonly mcp: McpRuntime,
    private readonly sleepTool: Item | undefined,
    private readonly fileSearchTool: Item | undefined,
    private readonly webSearchTool: Item | undefined,
    private readonly codeTool: Item | undefined,
    private readonly imageTool: Item | undefined,
  ) {}

  /** The container a `{type:"auto"}` code_interpreter made for this response (one per response). */
  private readonly codeState: { auto?: string } = {};

  /**
   * Lists MCP tools (emitting mcp_list_tools items). Throws (or rejects with) McpSetupError when that
   * is impossible. Without MCP servers there is nothing to wait for, and the session is returned as is:
   * this runs for every response, most of which have no tools at all.
   */
  static open(opts: ToolSessionOptions): ToolSession | Promise<ToolSession> {
    const tools = opts.response.tools;
    const clients = clientTools(tools);
    const functions = clients.map((c) => c.def);
    const headers = credentialVault.get(opts.log.id) ?? {};
    const lost = (opts.credentialLabels ?? []).find((label) => !headers[label]);
    if (lost) {
      throw new McpSetupError(
        `The credentials (headers) for MCP server '${lost}' are kept only in the memory of the server instance that ` +
        'accepted this request, and they are gone (it restarted, or another instance ran the job). Create the response again.',
        'mcp_credentials_unavailable',
      );
    }
    const chain = opts.chain ?? { listed: {}, approvals: [], allowPrivateMcp: false };
    const mcp = new McpRuntime(opts.log, tools.filter((t) => t.type === 'mcp'), headers, chain, opts.signal);
    const sleepTool = tools.find((t) => t.type === 'sleep');
    // Checked at create; a store without vector stores never accepts the tool, so this is belt and braces.
    const fileSearchTool = opts.fileSearch ? tools.find((t) => t.type === 'file_search') : undefined;
    // Without a configured engine the tool is accepted and echoed but never offered (tools/hosted.ts).
    const webSearchTool = opts.webSearch ? tools.find((t) => WEB_SEARCH_TYPES.has(t.type)) : undefined;
    const codeTool = opts.codeInterpreter && opts.owner ? tools.find((t) => t.type === 'code_interpreter') : undefined;
    const imageTool = opts.images ? tools.find((t) => t.type === IMAGE_GENERATION_TYPE) : undefined;
    const session = new ToolSession({ ...opts, chain }, functions, clients, mcp, sleepTool, fileSearchTool, webSearchTool, codeTool, imageTool);
    if (!mcp.hasServers) return session;
    const taken = [...functions.map((f) => f.name), ...(sleepTool ? [SLEEP_FUNCTION] : []), ...(fileSearchTool ? [FILE_SEARCH_FUNCTION] : []),
      ...(webSearchTool ? [WEB_SEARCH_FUNCTION] : []), ...(codeTool ? [CODE_INTERPRETER_FUNCTION] : []), ...(imageTool ? [IMAGE_GENERATION_FUNCTION] : [])];
    return mcp.prepare(new Set(taken)).then(() => session);
  }

  /** Functions offered on a turn; built-in tools only while the max_tool_calls budget lasts. */
  offered(withBuiltins: boolean): FunctionToolDef[] {
    if (!withBuiltins) return this.functions;
    return [
      ...this.functions, ...this.mcp.functionDefs(), ...(this.sleepTool ? [sleepFunctionDef(this.sleepTool)] : []),
      ...(this.fileSearchTool ? [fileSearchFunctionDef] : []), ...(this.webSearchTool ? [webSearchFunctionDef] : []),
      ...(this.codeTool ? [codeInterpreterFunctionDef] : []),
      ...(this.imageTool ? [imageGenerationFunctionDef] : []),
    ];
  }

  /**
   * The response's tool_choice over `defs` (narrowed for `allowed_tools` and `{type:"mcp"}`). A forced
   * choice applies to the first turn only: after a built-in call the model decides whether to go on.
   */
  choice(defs: FunctionToolDef[], firstTurn: boolean): { defs: FunctionToolDef[]; choice: ToolChoice | undefined } {
    if (!defs.length) return { defs, choice: undefined };
    const c = this.opts.response.tool_choice as any;
    const force = (choice: ToolChoice): ToolChoice => (firstTurn ? choice : 'auto');
    if (c === 'none' || c === 'auto') return { defs, choice: c };
    if (c === 'required') return { defs, choice: force('required') };
    if (c?.type === 'function') return { defs, choice: force({ name: c.name }) };
    if (c?.type === 'file_search' && this.fileSearchTool) return { defs, choice: force({ name: FILE_SEARCH_FUNCTION }) };
    if (WEB_SEARCH_TYPES.has(c?.type) && this.webSearchTool) return { defs, choice: force({ name: WEB_SEARCH_FUNCTION }) };
    if (c?.type === 'code_interpreter' && this.codeTool) return { defs, choice: force({ name: CODE_INTERPRETER_FUNCTION }) };
    if (c?.type === IMAGE_GENERATION_TYPE && this.imageTool) return { defs, choice: force({ name: IMAGE_GENERATION_FUNCTION }) };
    if (c?.type === 'custom') return { defs, choice: force({ name: this.clients.find((t) => t.kind === 'custom' && !t.namespace && t.name === c.name)!.def.name }) };
    const builtinType = this.clients.find((t) => t.kind !== 'function' && t.kind !== 'custom' && sameType(t.tool.type, c?.type));
    if (builtinType) return { defs, choice: force({ name: builtinType.def.name }) };
    const ofServer = (label: string) => (d: FunctionToolDef) => this.mcp.exposures.some((x) => x.fn === d.name && x.label === label);
    if (c?.type === 'mcp') {
      const e = this.mcp.exposures.find((x) => x.label === c.server_label && x.tool.name === c.name);
      if (c.name && e) return { defs, choice: force({ name: e.fn }) };
      const keep = defs.filter(ofServer(c.server_label));
      return { defs: keep, choice: keep.length ? force('required') : undefined };
    }
    if (c?.type === 'allowed_tools' && Array.isArray(c.tools)) {
      const client = (d: FunctionToolDef) => this.clients.find((x) => x.def === d);
      const keep = defs.filter((d) => c.tools.some((t: any) =>
        ((t.type === 'function' || t.type === 'custom') && t.name === client(d)?.name && !client(d)?.namespace) ||
        (t.type === 'namespace' && t.name !== undefined && client(d)?.namespace === t.name) ||
        (client(d) && client(d)!.kind !== 'function' && client(d)!.kind !== 'custom' && sameType(client(d)!.tool.type, t.type)) ||
        (t.type === 'sleep' && d.name === SLEEP_FUNCTION) || (t.type === 'file_search' && d.name === FILE_SEARCH_FUNCTION && this.fileSearchTool) ||
        (WEB_SEARCH_TYPES.has(t.type) && d.name === WEB_SEARCH_FUNCTION && this.webSearchTool) ||
        (t.type === 'code_interpreter' && d.name === CODE_INTERPRETER_FUNCTION && this.codeTool) ||
        (t.type === IMAGE_GENERATION_TYPE && d.name === IMAGE_GENERATION_FUNCTION && this.imageTool) ||
        (t.type === 'mcp' && ofServer(t.server_label)(d))));
      return { defs: keep, choice: keep.length ? (c.mode === 'required' ? force('required') : 'auto') : undefined };
    }
    return { defs, choice: 'auto' };
  }

  classify(name: string, offered: FunctionToolDef[]): CallKind | undefined {
    const def = offered.find((d) => d.name === name);
    if (!def) return undefined;
    const client = this.clients.find((c) => c.def === def);
    if (client) return { kind: 'function', def, client };
    if (name === SLEEP_FUNCTION && this.sleepTool) return { kind: 'sleep' };
    if (name === FILE_SEARCH_FUNCTION && this.fileSearchTool) return { kind: 'file_search' };
    if (name === WEB_SEARCH_FUNCTION && this.webSearchTool) return { kind: 'web_search' };
    if (name === CODE_INTERPRETER_FUNCTION && this.codeTool) return { kind: 'code_interpreter' };
    if (name === IMAGE_GENERATION_FUNCTION && this.imageTool) return { kind: 'image_generation' };
    const exposure = this.mcp.exposure(name);
    return exposure ? { kind: 'mcp', exposure } : undefined;
  }

  /** Why a call must not be used, or null. Strict function tools are validated against their schema. */
  violation(call: BufferedCall, offered: FunctionToolDef[]): string | null {
    const kind = this.classify(call.name, offered);
    if (!kind) return `the model called '${call.name.slice(0, 64)}', which is not one of the offered tools`;
    if (kind.kind === 'function') {
      if (kind.client.kind !== 'function') return clientCallViolation(kind.client, call.arguments);
      if (!kind.def.strict) return null;
      const why = schemaViolation(kind.def.parameters ?? { type: 'object', properties: {} }, call.arguments || '{}');
      return why && `the arguments of '${call.name}' do not match its schema: ${why}`;
    }
    return parseObject(call.arguments) ? null : `the arguments of '${call.name}' are not a JSON object`;
  }

  /** This request's input answers approval requests (see runApprovals). */
  get hasApprovals(): boolean {
    return Boolean(this.opts.chain?.approvals.length);
  }

  /** Runs the calls the client approved in this request's input; returns how many ran. */
  async runApprovals(messages: ChatMessage[]): Promise<number> {
    let ran = 0;
    for (const a of this.opts.chain?.approvals ?? []) {
      if (!a.approve) continue; // a denial is rendered for the model by responses/context.ts
      const item = await this.mcp.call(a.serverLabel, a.name, a.arguments, a.requestId);
      messages.push({ role: 'assistant', content: null, toolCalls: [{ id: item.id!, name: a.name, arguments: a.arguments }] });
      messages.push({ role: 'tool', toolCallId: item.id!, content: mcpResultText(item) });
      ran++;
    }
    return ran;
  }

  /** Runs one built-in call (or asks for its approval), emitting its items. */
  async runBuiltin(kind: CallKind, call: BufferedCall): Promise<BuiltinResult> {
    if (kind.kind === 'sleep') {
      const item = await runSleep(this.opts.log, this.opts.sleepers, this.sleepTool!, {
        callId: call.callId, arguments: call.arguments, args: parseObject(call.arguments) ?? {},
      }, this.opts.signal);
      return { approvalRequested: false, resultText: sleepResultText(item) };
    }
    if (kind.kind === 'file_search') {
      const { item, citable } = await runFileSearch(this.opts.log, this.opts.fileSearch!, this.fileSearchTool!, parseObject(call.arguments) ?? {});
      return { approvalRequested: false, resultText: fileSearchResultText(item.results), citable, failed: item.status === 'failed' };
    }
    if (kind.kind === 'web_search') {
      const r = await runWebSearch(this.opts.log, this.opts.webSearch!, this.webSearchTool!, parseObject(call.arguments) ?? {});
      return { approvalRequested: false, resultText: r.resultText, urls: r.citable, failed: r.item.status === 'failed' };
    }
    if (kind.kind === 'code_interpreter') {
      const r = await runCodeInterpreter(this.opts.log, this.opts.codeInterpreter!, this.codeTool!, this.opts.owner!, this.codeState,
        parseObject(call.arguments) ?? {}, this.opts.signal);
      return { approvalRequested: false, resultText: r.resultText, containerFiles: r.files, failed: r.item.status === 'failed' };
    }
    if (kind.kind === 'image_generation') {
      const r = await runImageGeneration(this.opts.log, this.opts.images!, this.imageTool!, parseObject(call.arguments) ?? {}, this.opts.signal);
      return { approvalRequested: false, resultText: r.resultText, failed: r.item.status === 'failed' };
    }
    if (kind.kind !== 'mcp') throw new Error('client function calls are not run by the server');
    const e = kind.exposure;
    if (this.mcp.requiresApproval(e)) {
      this.mcp.requestApproval(e, call.arguments);
      return { approvalRequested: true };
    }
    const item = await this.mcp.call(e.label, e.tool.name, call.arguments, null);
    return { approvalRequested: false, resultText: mcpResultText(item), failed: item.status === 'failed' };
  }

  /** Closes MCP connections; undefined when there is nothing to close (no await needed). */
  close(): Promise<void> | undefined {
    return this.mcp.hasServers ? this.mcp.close() : undefined;
  }
}
