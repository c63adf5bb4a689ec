// Create-time work for tools: every check that can be a clear 400 before the response exists (SSRF,
// sleep needs background, credentials shape, strict schemas compile, text.format enforceable, approval
// answers refer to real requests), plus what the run needs: the chain's tool state (stored with the
// request) and the MCP credentials (kept in memory only, never stored).
import { errors } from '../wire/errors.js';
import type { ModelCapabilities } from '../providers/types.js';
import type { Item, ResponseObject } from '../wire/types.js';
import { chainToolState, type ChainToolState } from './chain.js';
import { clientTools } from './client-tools.js';
import type { ServerHeaders } from './mcp/credentials.js';
import { refusalReason } from './mcp/ssrf.js';
import { MAX_SECONDS_LIMIT, SLEEP_FUNCTION } from './sleep/tool.js';
import { assertValidSchema, checkTextFormat } from './structured.js';
import type { FileSearchBackend } from './file-search/backend.js';
import { WEB_SEARCH_FUNCTION, WEB_SEARCH_TYPES } from './web-search/tool.js';
import { HOSTED_TOOL_TYPES } from './hosted.js';
import { CODE_INTERPRETER_FUNCTION } from './code-interpreter/tool.js';
import { IMAGE_GENERATION_FUNCTION, IMAGE_GENERATION_TYPE } from './image-generation/tool.js';

export interface ToolPolicy {
  /** MCP_ALLOW_PRIVATE: MCP servers on loopback/private/link-local addresses are allowed. */
  allowPrivateMcp: boolean;
  /** Runs file_search over vector stores; absent = the tool is refused (the store has no vector stores). */
  fileSearch?: FileSearchBackend;
  /** A search engine is configured: web_search is offered and run (else accepted, not offered, not forceable). */
  webSearch?: boolean;
  /** The code_interpreter sandbox runs here: the tool is offered and run (else accepted, not offered, not forceable). */
  codeInterpreter?: boolean;
  /** Checks a code_interpreter tool's container (the owner's, not expired) or its auto `file_ids` (the owner's files). */
  containers?: (owner: { tenant: string; endUser: string }, tool: Item, p: string) => Promise<void>;
  /** An images endpoint is configured: image_generation is offered and run (else accepted, not offered, not forceable). */
  images?: boolean;
}

export interface PreparedTools {
  chain: ChainToolState;
  headers: ServerHeaders;
  credentialLabels: string[];
}

export interface PrepareInput {
  /** The tools exactly as the client sent them (with credentials). */
  rawTools: Array<Record<string, any>>;
  response: ResponseObject;
  history: Item[];
  input: Item[];
  /** What the model's provider declares it can do. */
  capabilities: ModelCapabilities;
  policy: ToolPolicy;
  /** Who asks: a file_search tool may only name this owner's vector stores. */
  owner: { tenant: string; endUser: string };
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

function headersOf(t: Record<string, any>, p: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (t.headers !== undefined && t.headers !== null) {
    if (!isObj(t.headers)) throw errors.invalid(`'${p}.headers' must be an object of header names to string values.`, `${p}.headers`);
    for (const [k, v] of Object.entries(t.headers)) {
      if (typeof v !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n]/.test(v)) {
        throw errors.invalid(`'${p}.headers' must map valid header names to single-line string values.`, `${p}.headers`);
      }
      out[k] = v;
    }
  }
  if (t.authorization !== undefined && t.authorization !== null) {
    if (typeof t.authorization !== 'string' || /[\r\n]/.test(t.authorization)) throw errors.invalid(`'${p}.authorization' must be a string.`, `${p}.authorization`);
    out.Authorization = `Bearer ${t.authorization}`;
  }
  return out;
}

function checkApprovalShape(t: Record<string, any>, p: string): void {
  const r = t.require_approval;
  if (r !== undefined && r !== null && r !== 'always' && r !== 'never' && !isObj(r)) {
    throw errors.invalid(`'${p}.require_approval' must be "always", "never" or an object with always/never filters.`, `${p}.require_approval`);
  }
  const a = t.allowed_tools;
  const names = (v: unknown) => Array.isArray(v) && v.every((n) => typeof n === 'string');
  if (a !== undefined && a !== null && !names(a) && !(isObj(a) && (a.tool_names === undefined || names(a.tool_names)))) {
    throw errors.invalid(`'${p}.allowed_tools' must be a list of tool names or {tool_names, read_only}.`, `${p}.allowed_tools`);
  }
}

export async function prepareTools(x: PrepareInput): Promise<PreparedTools> {
  const headers: ServerHeaders = {};
  const labels = new Set<string>();
  let sleepSeen = false;
  let fileSearchSeen = false;
  let codeSeen = false;
  for (let i = 0; i < x.rawTools.length; i++) {
    const t = x.rawTools[i]!;
    const p = `tools[${i}]`;
    if (t.type === 'function' && t.strict !== false && isObj(t.parameters)) {
      assertValidSchema(t.parameters, `${p}.parameters`, `The parameters of function '${t.name}'`);
    }
    if (t.type === 'namespace' && Array.isArray(t.tools)) {
      t.tools.forEach((f: Record<string, any>, j: number) => {
        if (f?.type === 'function' && f.strict !== false && isObj(f.parameters)) {
          assertValidSchema(f.parameters, `${p}.tools[${j}].parameters`, `The parameters of function '${t.name}.${f.name}'`);
        }
      });
    }
    if (t.type === 'function' && t.name === SLEEP_FUNCTION && x.rawTools.some((o) => o.type === 'sleep')) {
      throw errors.invalid(`A function named '${SLEEP_FUNCTION}' conflicts with the sleep tool.`, `${p}.name`);
    }
    if (t.type === 'function' && t.name === 'file_search' && x.rawTools.some((o) => o.type === 'file_search')) {
      throw errors.invalid(`A function named 'file_search' conflicts with the file_search tool.`, `${p}.name`);
    }
    if (t.type === 'function' && t.name === WEB_SEARCH_FUNCTION && x.policy.webSearch && x.rawTools.some((o) => WEB_SEARCH_TYPES.has(o.type))) {
      throw errors.invalid(`A function named '${WEB_SEARCH_FUNCTION}' conflicts with the web_search tool.`, `${p}.name`);
    }
    if (t.type === 'function' && t.name === IMAGE_GENERATION_FUNCTION && x.policy.images && x.rawTools.some((o) => o.type === IMAGE_GENERATION_TYPE)) {
      throw errors.invalid(`A function named '${IMAGE_GENERATION_FUNCTION}' conflicts with the image_generation tool.`, `${p}.name`);
    }
    if (t.type === 'function' && t.name === CODE_INTERPRETER_FUNCTION && x.policy.codeInterpreter && x.rawTools.some((o) => o.type === 'code_interpreter')) {
      throw errors.invalid(`A function named '${CODE_INTERPRETER_FUNCTION}' conflicts with the code_interpreter tool.`, `${p}.name`);
    }
    if (t.type === 'code_interpreter') {
      if (codeSeen) throw errors.invalid('Declare the code_interpreter tool once.', p);
      codeSeen = true;
      if (x.policy.codeInterpreter && x.policy.containers) await x.policy.containers(x.owner, x.response.tools[i]!, p);
    }
    if (t.type === 'sleep') {
      if (sleepSeen) throw errors.invalid('Declare the sleep tool once.', p);
      sleepSeen = true;
      if (!x.response.background) {
        throw errors.invalid('The sleep tool only works in background responses (background: true), which POST /responses/{id}/wake can reach.', p, 'sleep_requires_background');
      }
      const m = t.max_seconds;
      if (m !== undefined && m !== null && (!Number.isInteger(m) || m < 1 || m > MAX_SECONDS_LIMIT)) {
        throw errors.invalid(`'${p}.max_seconds' must be an integer from 1 to ${MAX_SECONDS_LIMIT}.`, `${p}.max_seconds`);
      }
    }
    if (t.type === 'file_search') {
      if (fileSearchSeen) throw errors.invalid('Declare the file_search tool once (it takes up to two vector stores).', p);
      fileSearchSeen = true;
      if (!x.policy.fileSearch) throw errors.invalid('file_search is not available with this store.', p, 'unsupported_tool');
      await x.policy.fileSearch.check(x.owner, x.response.tools[i]!, p);
    }
    if (t.type !== 'mcp') continue;
    if (labels.has(t.server_label)) throw errors.invalid(`Two MCP tools have the server_label '${t.server_label}'.`, `${p}.server_label`);
    labels.add(t.server_label);
    if (typeof t.server_url !== 'string' || !t.server_url) {
      throw errors.invalid(`'${p}.server_url' is required: this server supports remote MCP servers by URL (not connectors).`, `${p}.server_url`);
    }
    const refused = await refusalReason(t.server_url, x.policy.allowPrivateMcp);
    if (refused) throw errors.invalid(refused, `${p}.server_url`, 'mcp_server_url_refused');
    checkApprovalShape(t, p);
    const h = headersOf(t, p);
    if (Object.keys(h).length) headers[t.server_label] = h;
  }
  // Every client tool reaches the model as a function: two of them must not share a name.
  const offered = new Set<string>();
  for (const c of clientTools(x.response.tools)) {
    if (offered.has(c.def.name)) throw errors.invalid(`Two tools are offered to the model as '${c.def.name}'; rename one.`, 'tools');
    offered.add(c.def.name);
  }
  const choice = x.response.tool_choice as any;
  // A hosted tool whose backend is not configured is accepted and echoed, never offered: forcing it is a 400 naming it.
  const why = (type: string) => (WEB_SEARCH_TYPES.has(type) && !x.policy.webSearch ? 'no search engine is configured'
    : type === 'code_interpreter' && !x.policy.codeInterpreter ? 'its Python sandbox is not configured (CODE_INTERPRETER)'
      : type === IMAGE_GENERATION_TYPE && !x.policy.images ? 'no images endpoint is configured (IMAGES_BASE_URL)' : undefined);
  const refuse = (type: string) => {
    throw errors.invalid(`tool_choice forces the hosted tool '${type}', which this server does not run (${why(type)}).`, 'tool_choice', 'unsupported_tool');
  };
  if (typeof choice?.type === 'string' && why(choice.type)) refuse(choice.type);
  const listed: any[] = choice?.type === 'allowed_tools' && Array.isArray(choice.tools) ? choice.tools : [];
  if (choice?.mode === 'required' && listed.length && listed.every((t) => why(t?.type) || HOSTED_TOOL_TYPES.has(t?.type))) {
    const named = listed.find((t) => why(t?.type));
    if (named) refuse(named.type);
  }
  if (choice?.type === 'mcp' && !labels.has(choice.server_label)) {
    throw errors.invalid(`tool_choice names MCP server '${String(choice.server_label)}', which is not among the tools.`, 'tool_choice');
  }
  checkTextFormat(x.response.text.format, x.capabilities.grammar);
  return {
    chain: chainToolState(x.history, x.input, x.policy.allowPrivateMcp),
    headers,
    credentialLabels: Object.keys(headers),
  };
}
