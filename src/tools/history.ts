// How built-in tool items of earlier turns read to the model when a chain is replayed
// (responses/context.ts): each call becomes an assistant tool call followed by its result, the same
// messages the tool loop gave the model when the call ran.
import type { ChatMessage, ToolCall } from '../providers/types.js';
import type { Item } from '../wire/types.js';
import { mcpResultText } from './mcp/runtime.js';
import { SLEEP_FUNCTION, sleepResultText } from './sleep/tool.js';
import { CODE_INTERPRETER_FUNCTION } from './code-interpreter/tool.js';
import { IMAGE_GENERATION_FUNCTION, imageResultText } from './image-generation/tool.js';

/** The call and result of a built-in tool item, or undefined for other items. */
export function builtinCall(it: Item): { call: ToolCall; result: string } | undefined {
  if (it.type === 'mcp_call') {
    return { call: { id: it.id!, name: it.name, arguments: it.arguments || '{}' }, result: mcpResultText(it) };
  }
  if (it.type === 'sleep_call') {
    return { call: { id: it.call_id ?? it.id, name: SLEEP_FUNCTION, arguments: it.arguments || '{}' }, result: sleepResultText(it) };
  }
  if (it.type === 'code_interpreter_call') {
    const logs = (Array.isArray(it.outputs) ? it.outputs : []).filter((o: any) => o?.type === 'logs').map((o: any) => o.logs).join('\n');
    return { call: { id: it.id!, name: CODE_INTERPRETER_FUNCTION, arguments: JSON.stringify({ code: it.code ?? '' }) }, result: logs || (it.status === 'failed' ? '(failed)' : '(no output)') };
  }
  if (it.type === 'image_generation_call') {
    // The image itself stays out of the prompt (base64 text is no use to a text model): what it was asked to draw.
    return { call: { id: it.id!, name: IMAGE_GENERATION_FUNCTION, arguments: JSON.stringify({ prompt: it.revised_prompt ?? '' }) }, result: imageResultText(it) };
  }
  return undefined;
}

/**
 * A denied mcp_approval_response: the model sees the call it asked for and that the user refused it.
 * (An approved one needs nothing here: its mcp_call item follows in the response that ran it.)
 */
export function deniedApproval(response: Item, requests: Map<string, Item>): ChatMessage[] {
  const req = requests.get(response.approval_request_id);
  if (response.approve !== false || !req) return [];
  const reason = response.reason ? ` Reason: ${response.reason}` : '';
  return [
    { role: 'assistant', content: null, toolCalls: [{ id: req.id!, name: req.name, arguments: req.arguments || '{}' }] },
    { role: 'tool', toolCallId: req.id!, content: `The user did not approve this call.${reason}` },
  ];
}
