// Fitting a request's context into the model's window (`truncation`). The prompt is instructions +
// history (earlier turns or conversation items) + the new input. With "auto", the oldest history items
// are dropped until it fits; the instructions and the new input are never dropped. With "disabled", a
// prompt that does not fit is a 400 here rather than a failed response later.
import { clientTools, historyCall, historyResult } from '../tools/client-tools.js';
import { errors } from '../wire/errors.js';
import type { ChatMessage, FunctionToolDef, Provider } from '../providers/types.js';
import { buildMessages } from './context.js';
import type { Item } from '../wire/types.js';

export interface FitRequest {
  provider: Provider;
  /** Provider-local model name. */
  model: string;
  truncation: 'auto' | 'disabled';
  instructions: string | null;
  history: Item[];
  input: Item[];
  tools?: Item[];
  maxOutputTokens?: number | null;
}

/**
 * Without the model's tokenizer (upstream providers): ~4 characters of text a token plus a few tokens
 * of framing per message, the usual rule of thumb. Counting text rather than JSON keeps it from
 * overestimating, so "disabled" does not refuse a prompt the backend would have taken.
 */
function estimateTokens(messages: ChatMessage[], tools?: FunctionToolDef[]): number {
  let chars = tools ? JSON.stringify(tools).length : 0;
  for (const m of messages) {
    const c = m.content;
    chars += 16 + (typeof c === 'string' ? c.length : Array.isArray(c) ? c.reduce((n, p) => n + (p.type === 'text' ? p.text.length : 0), 0) : 0);
    if (m.role === 'assistant') {
      for (const t of m.toolCalls ?? []) chars += t.name.length + t.arguments.length;
      chars += m.reasoning?.length ?? 0;
    }
  }
  return Math.ceil(chars / 4);
}

function functionTools(tools: Item[] | undefined): FunctionToolDef[] | undefined {
  const defs = clientTools(tools ?? []).map((c) => c.def);
  return defs.length ? defs : undefined;
}

/**
 * After dropping the first `k` history items, more may have to go so the rest is well formed: a tool
 * result whose call was dropped (backends reject orphan results) and bookkeeping items before it.
 */
function cutPoint(history: Item[], k: number): number {
  const calls = new Set(history.slice(k).map((it) => historyCall(it)?.id).filter((id) => id !== undefined));
  while (k < history.length) {
    const result = historyResult(history[k]!);
    if (!result || calls.has(result.callId)) break;
    k++;
  }
  return k;
}

/** Earlier reasoning is given back only to models that take it (see ModelCapabilities.reasoningInput). */
const withReasoning = (req: FitRequest) => req.provider.capabilities(req.model).reasoningInput ?? false;

/** The prompt as messages, fitted to the window. Returned as is when the window is not known at once. */
export function fitContext(req: FitRequest): ChatMessage[] | Promise<ChatMessage[]> {
  const full = buildMessages(req.instructions, req.history, req.input, withReasoning(req));
  let window: number | undefined | Promise<number | undefined>;
  try {
    window = req.provider.contextWindow?.(req.model);
  } catch {
    window = undefined;
  }
  if (window === undefined) return full; // unknown window: let the backend decide
  return fitWithin(req, full, window);
}

async function fitWithin(req: FitRequest, full: ChatMessage[], pending: number | Promise<number | undefined>): Promise<ChatMessage[]> {
  const window = await Promise.resolve(pending).catch(() => undefined);
  if (!window) return full;
  const tools = functionTools(req.tools);
  const count = (msgs: ChatMessage[]) => (req.provider.countTokens
    ? req.provider.countTokens(req.model, msgs, tools)
    : Promise.resolve(estimateTokens(msgs, tools)));
  // The prompt must leave room for at least one output token ("disabled": only what the backend
  // needs); "auto" keeps room for a reasonable answer too: max_output_tokens, at most a quarter.
  const hardLimit = window - 2;
  const tokens = await count(full);
  if (tokens <= hardLimit && (req.truncation === 'disabled' || tokens <= hardLimit - reserve(req, window))) return full;
  if (req.truncation === 'disabled') {
    throw errors.invalid(
      `The input is ${tokens} tokens but the model's context window is ${window} tokens. Shorten the input or conversation, or set truncation to 'auto'.`,
      'input', 'context_length_exceeded',
    );
  }
  const budget = hardLimit - reserve(req, window);
  const at = (k: number) => buildMessages(req.instructions, req.history.slice(cutPoint(req.history, k)), req.input, withReasoning(req));
  const minimal = await count(at(req.history.length));
  if (minimal > hardLimit) {
    throw errors.invalid(
      `The instructions and new input alone are ${minimal} tokens but the model's context window is ${window} tokens; truncation can only drop earlier items.`,
      'input', 'context_length_exceeded',
    );
  }
  if (minimal > budget) return at(req.history.length);
  // Binary search for the fewest dropped items that fit: O(log n) tokenizations, not one per item.
  let lo = 0;
  let hi = req.history.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await count(at(mid))) <= budget) hi = mid;
    else lo = mid + 1;
  }
  return at(lo);
}

function reserve(req: FitRequest, window: number): number {
  return Math.min(req.maxOutputTokens ?? Infinity, Math.floor(window / 4));
}
