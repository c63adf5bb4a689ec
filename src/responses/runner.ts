// The runner: drives one response from in_progress to a terminal event through the provider's
// streaming interface. It knows nothing about HTTP, storage or which backend it talks to.
import type { ChatMessage, FunctionToolDef, GenerateRequest, Provider, ResponseFormat, ToolChoice, Usage } from '../providers/types.js';
import { ProviderError } from '../providers/types.js';
import type { LiveLog } from './live-log.js';
import { TurnOutput } from './turn-output.js';
import { emptyUsage, type ErrorObject, type ResponseObject } from './types.js';

export interface RunInput {
  log: LiveLog;
  provider: Provider;
  /** Provider-local model name. */
  model: string;
  messages: ChatMessage[];
  include: string[];
  signal: AbortSignal;
}

/** Why a run was aborted: a user cancel, a client that left a foreground stream, or shutdown. */
export type AbortReason = 'cancelled' | 'client_disconnected' | 'shutdown';

const now = () => Math.floor(Date.now() / 1000);

function toolDefs(r: ResponseObject): FunctionToolDef[] {
  return r.tools.filter((t) => t.type === 'function')
    .map((t) => ({ name: t.name, description: t.description, parameters: t.parameters, strict: t.strict }));
}

function toolChoice(r: ResponseObject): ToolChoice | undefined {
  const c = r.tool_choice as any;
  if (typeof c === 'string') return c as ToolChoice;
  if (c?.type === 'function') return { name: c.name };
  return undefined;
}

function responseFormat(r: ResponseObject): ResponseFormat | undefined {
  const f = r.text.format as any;
  if (f.type === 'json_schema') return { type: 'json_schema', name: f.name, schema: f.schema, strict: f.strict };
  if (f.type === 'json_object') return { type: 'json_object' };
  return undefined;
}

export function finalize(log: LiveLog, type: string, patch: Partial<ResponseObject>): void {
  log.append({ type, response: { ...log.state, completed_at: now(), ...patch } });
}

export async function runResponse(input: RunInput): Promise<void> {
  const { log, provider, signal } = input;
  log.append({ type: 'response.in_progress', response: { ...log.state, status: 'in_progress' } });
  const r = log.state;
  const withLogprobs = input.include.includes('message.output_text.logprobs');
  const usage = emptyUsage();
  const addUsage = (u: Usage) => {
    usage.input_tokens += u.inputTokens;
    usage.output_tokens += u.outputTokens;
    usage.input_tokens_details.cached_tokens += u.cachedTokens ?? 0;
    usage.output_tokens_details.reasoning_tokens += u.reasoningTokens ?? 0;
    usage.total_tokens = usage.input_tokens + usage.output_tokens;
  };
  const out = new TurnOutput(log, withLogprobs);
  const tools = toolDefs(r);
  const req: GenerateRequest = {
    model: input.model,
    messages: input.messages,
    tools: tools.length ? tools : undefined,
    toolChoice: tools.length ? toolChoice(r) : undefined,
    parallelToolCalls: r.parallel_tool_calls,
    temperature: r.temperature,
    topP: r.top_p,
    presencePenalty: r.presence_penalty || undefined,
    frequencyPenalty: r.frequency_penalty || undefined,
    maxOutputTokens: r.max_output_tokens ?? undefined,
    responseFormat: responseFormat(r),
    logprobs: withLogprobs || undefined,
    topLogprobs: withLogprobs ? r.top_logprobs : undefined,
    user: r.safety_identifier ?? r.user ?? undefined,
    signal,
  };

  let finish: string | undefined;
  try {
    for await (const ev of provider.generate(req)) {
      if (signal.aborted) break;
      switch (ev.type) {
        case 'text': out.text(ev.delta, ev.logprobs); break;
        case 'tool_call_start':
          if (!r.parallel_tool_calls && out.callCount >= 1) break;
          out.toolStart(ev.index, ev.id, ev.name);
          break;
        case 'tool_call_delta': out.toolDelta(ev.index, ev.delta); break;
        case 'usage': addUsage(ev.usage); break;
        case 'finish': finish = ev.reason; break;
      }
    }
  } catch (err) {
    if (!signal.aborted) {
      out.finish('incomplete');
      const error: ErrorObject = err instanceof ProviderError
        ? { code: err.code, message: err.message }
        : { code: 'server_error', message: `The model run failed: ${(err as Error).message}` };
      finalize(log, 'response.failed', { status: 'failed', error, usage });
      return;
    }
  }

  if (signal.aborted) {
    out.finish('incomplete');
    const reason = signal.reason as AbortReason;
    const message = reason === 'shutdown' ? 'The server shut down while this response was running.' : undefined;
    if (message) finalize(log, 'response.failed', { status: 'failed', error: { code: 'server_shutdown', message }, usage });
    else finalize(log, 'response.cancelled', { status: 'cancelled', usage });
    return;
  }
  if (finish === 'length') {
    out.finish('incomplete');
    finalize(log, 'response.incomplete', { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage });
    return;
  }
  if (finish === 'content_filter') {
    out.finish('incomplete');
    finalize(log, 'response.incomplete', { status: 'incomplete', incomplete_details: { reason: 'content_filter' }, usage });
    return;
  }
  out.finish('completed');
  finalize(log, 'response.completed', { status: 'completed', usage });
}
