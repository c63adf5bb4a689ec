// What the tool runtime needs from the earlier turns of a chain, computed once at create time and
// stored with the run request (JSON, no credentials): the MCP tool lists already fetched (so a chain
// lists each server once) and the approval answers in this request's input, joined with the
// mcp_approval_request items they answer.
import { errors } from '../wire/errors.js';
import type { Item } from '../wire/types.js';
import type { McpToolInfo } from './mcp/client.js';

export interface ApprovalAnswer {
  requestId: string;
  serverLabel: string;
  name: string;
  arguments: string;
  approve: boolean;
  reason: string | null;
}

export interface ChainToolState {
  /** server_label -> tools listed earlier in the chain (the mcp_list_tools cache). */
  listed: Record<string, McpToolInfo[]>;
  approvals: ApprovalAnswer[];
  /** The network policy in force when the request was accepted (MCP_ALLOW_PRIVATE). */
  allowPrivateMcp: boolean;
}

const isMcpItem = (it: Item) => typeof it.type === 'string' && it.type.startsWith('mcp_');

export function chainToolState(history: Item[], input: Item[], allowPrivateMcp: boolean): ChainToolState {
  // Most chains never used MCP: nothing to collect (this runs for every response).
  if (!history.some(isMcpItem) && !input.some(isMcpItem)) return { listed: {}, approvals: [], allowPrivateMcp };
  const all = [...history, ...input];
  const listed: Record<string, McpToolInfo[]> = {};
  for (const it of all) {
    if (it.type === 'mcp_list_tools' && !it.error && typeof it.server_label === 'string' && Array.isArray(it.tools)) {
      listed[it.server_label] = it.tools;
    }
  }
  const requests = new Map(all.filter((it) => it.type === 'mcp_approval_request').map((it) => [it.id, it]));
  const answered = new Set(history.filter((it) => it.type === 'mcp_call' && it.approval_request_id).map((it) => it.approval_request_id));
  for (const it of history) if (it.type === 'mcp_approval_response') answered.add(it.approval_request_id);

  const approvals: ApprovalAnswer[] = [];
  input.forEach((it, i) => {
    if (it.type !== 'mcp_approval_response') return;
    const param = `input[${i}].approval_request_id`;
    const req = requests.get(it.approval_request_id);
    if (!req) throw errors.invalid(`No mcp_approval_request with id '${String(it.approval_request_id).slice(0, 100)}' in this request or the previous responses.`, param);
    if (answered.has(req.id) || approvals.some((a) => a.requestId === req.id)) {
      throw errors.invalid(`The approval request '${req.id}' was already answered.`, param);
    }
    approvals.push({
      requestId: req.id!, serverLabel: req.server_label, name: req.name, arguments: req.arguments ?? '{}',
      approve: it.approve === true, reason: it.reason ?? null,
    });
  });
  return { listed, approvals, allowPrivateMcp };
}
