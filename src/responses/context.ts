// What the model sees: this request's instructions, then every earlier turn of the chain (inputs and
// outputs, oldest first), then the new input. Earlier instructions are deliberately not carried over.
import type { ChatMessage, ContentPart, ToolCall } from '../providers/types.js';
import { historyCall, historyResult } from '../tools/client-tools.js';
import { builtinCall, deniedApproval } from '../tools/history.js';
import type { Item } from '../wire/types.js';
import { reasoningTextOf } from './reasoning.js';

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: any) => p?.text ?? p?.refusal ?? '').join('');
}

function userParts(content: unknown): string | ContentPart[] {
  if (typeof content === 'string') return content;
  const parts: ContentPart[] = [];
  for (const p of (content as any[]) ?? []) {
    if (p.type === 'input_text' || p.type === 'output_text') parts.push({ type: 'text', text: p.text });
    else if (p.type === 'input_image') parts.push({ type: 'image', url: p.image_url ?? `file:${p.file_id}`, detail: p.detail });
    else if (p.type === 'input_file') parts.push({ type: 'file', filename: p.filename, data: p.file_data, url: p.file_url, fileId: p.file_id });
  }
  return parts.length === 1 && parts[0].type === 'text' ? parts[0].text : parts;
}

/**
 * `approvalRequests` is shared across calls so an approval answered in the input finds its request in
 * history. `withReasoning`: reasoning items become the `reasoning` of the assistant message that follows
 * them (the model's own turn), for models that take it back; else they are left out.
 */
export function itemsToMessages(items: Item[], approvalRequests = new Map<string, Item>(), withReasoning = false): ChatMessage[] {
  const out: ChatMessage[] = [];
  let pendingCalls: ToolCall[] | null = null;
  let reasoning = '';
  const assistant = (m: Extract<ChatMessage, { role: 'assistant' }>) => {
    if (reasoning) m.reasoning = reasoning;
    reasoning = '';
    out.push(m);
  };
  const flushCalls = () => {
    if (pendingCalls) assistant({ role: 'assistant', content: null, toolCalls: pendingCalls });
    pendingCalls = null;
  };
  for (const it of items) {
    const builtin = builtinCall(it); // mcp_call, sleep_call: a call and its result, run by the server
    const clientCall = builtin ? undefined : historyCall(it); // function, custom, shell, patch, computer calls
    if (clientCall || builtin) {
      // Consecutive calls of one turn become one assistant message with several tool calls.
      (pendingCalls ??= []).push(builtin?.call ?? clientCall!);
      if (builtin) {
        flushCalls();
        out.push({ role: 'tool', toolCallId: builtin.call.id, content: builtin.result });
      }
      continue;
    }
    flushCalls();
    const result = historyResult(it); // function_call_output and the other *_call_output items
    if (result) {
      out.push({ role: 'tool', toolCallId: result.callId, content: result.content });
      continue;
    }
    switch (it.type) {
      case 'message':
        if (it.role === 'assistant') {
          assistant({ role: 'assistant', content: textOf(it.content) });
          break;
        }
        reasoning = ''; // reasoning that led to no answer of its own stays out
        if (it.role === 'user') out.push({ role: 'user', content: userParts(it.content) });
        else out.push({ role: it.role === 'developer' ? 'developer' : 'system', content: textOf(it.content) });
        break;
      case 'reasoning':
        if (withReasoning) reasoning += reasoningTextOf(it);
        break;
      case 'mcp_approval_request':
        approvalRequests.set(it.id!, it);
        break;
      case 'mcp_approval_response':
        out.push(...deniedApproval(it, approvalRequests));
        break;
      case 'compaction':
        out.push({ role: 'system', content: `Summary of the earlier conversation: ${it.encrypted_content ?? ''}` });
        break;
      default:
        // mcp_list_tools, approvals and other bookkeeping items carry nothing the model reads.
        break;
    }
  }
  flushCalls();
  return out;
}

export function buildMessages(instructions: string | null, history: Item[], input: Item[], withReasoning = false): ChatMessage[] {
  const approvalRequests = new Map<string, Item>();
  const msgs = itemsToMessages(history, approvalRequests, withReasoning);
  const fresh = itemsToMessages(input, approvalRequests, withReasoning);
  // Built for every request: concatenated in place rather than spread into a third array.
  if (instructions) msgs.unshift({ role: 'system', content: instructions });
  for (const m of fresh) msgs.push(m);
  return msgs;
}
