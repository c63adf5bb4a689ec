// One parsed `chat.completion.chunk` -> GenerateEvents. Chunks are validated field by field at
// this boundary: anything malformed or unknown is skipped rather than crashing the turn, because
// OpenAI-compatible servers differ in the extras they send (reasoning_content, usage on every
// chunk, empty keep-alive chunks…). Usage and finish are held back until the stream ends so the
// consumer always sees `usage` before `finish`, whichever order the upstream sent them in.

import { randomUUID } from 'node:crypto';
import { ProviderError, type FinishReason, type GenerateEvent, type TokenLogprob, type TopLogprob, type Usage } from '../types.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls', // legacy functions API
  content_filter: 'content_filter',
};

function topLogprob(v: unknown): TopLogprob | undefined {
  if (!isObj(v) || typeof v.token !== 'string') return undefined;
  const logprob = num(v.logprob);
  if (logprob === undefined) return undefined;
  // Some servers send `bytes: null`; the UTF-8 of the token is what OpenAI would have sent.
  const bytes = Array.isArray(v.bytes) && v.bytes.every((b) => typeof b === 'number') ? (v.bytes as number[]) : [...Buffer.from(v.token, 'utf8')];
  return { token: v.token, logprob, bytes };
}

function tokenLogprobs(v: unknown): TokenLogprob[] | undefined {
  if (!isObj(v) || !Array.isArray(v.content)) return undefined;
  const out: TokenLogprob[] = [];
  for (const item of v.content) {
    const base = topLogprob(item);
    if (!base) continue;
    const tops = isObj(item) && Array.isArray(item.top_logprobs) ? item.top_logprobs : [];
    const top_logprobs: TopLogprob[] = [];
    for (const t of tops) {
      const mapped = topLogprob(t);
      if (mapped) top_logprobs.push(mapped);
    }
    out.push({ ...base, top_logprobs });
  }
  return out.length > 0 ? out : undefined;
}

function usage(v: unknown): Usage | undefined {
  if (!isObj(v)) return undefined;
  const inputTokens = num(v.prompt_tokens);
  const outputTokens = num(v.completion_tokens);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  const u: Usage = { inputTokens, outputTokens };
  const cached = isObj(v.prompt_tokens_details) ? num(v.prompt_tokens_details.cached_tokens) : undefined;
  if (cached !== undefined) u.cachedTokens = cached;
  const reasoning = isObj(v.completion_tokens_details) ? num(v.completion_tokens_details.reasoning_tokens) : undefined;
  if (reasoning !== undefined) u.reasoningTokens = reasoning;
  return u;
}

interface ToolState {
  index: number; // our index: order of first appearance in this turn
  id?: string;
  name?: string;
  started: boolean;
  /** Argument fragments that arrived before the name (emitted once the call can be started). */
  pending: string;
}

export class ChunkMapper {
  private readonly tools = new Map<number, ToolState>();
  private finishReason: FinishReason | undefined;
  private lastUsage: Usage | undefined;

  /** True once the upstream sent a finish_reason (so a missing [DONE] is tolerable). */
  get finished(): boolean {
    return this.finishReason !== undefined;
  }

  /** Map one parsed JSON chunk, appending events to `out`. Throws only for upstream error chunks. */
  push(chunk: unknown, out: GenerateEvent[]): void {
    if (!isObj(chunk)) return;
    if (chunk.error !== undefined && chunk.error !== null) {
      // vLLM / llama.cpp report failures after the 200 as an `{error:{...}}` data line.
      const err = chunk.error;
      const message = isObj(err) && typeof err.message === 'string' ? err.message : typeof err === 'string' ? err : 'upstream reported an error mid-stream';
      const status = isObj(err) ? num(err.code) ?? 0 : 0;
      throw new ProviderError(message, status, false);
    }
    const u = usage(chunk.usage);
    if (u) this.lastUsage = u; // servers with continuous usage send it per chunk; the last one wins

    if (!Array.isArray(chunk.choices)) return;
    for (const choice of chunk.choices) {
      if (!isObj(choice)) continue;
      // Only the first choice is a turn; n>1 is not something the Responses API produces.
      if (choice.index !== undefined && choice.index !== 0) continue;
      const delta = choice.delta;
      if (isObj(delta)) {
        this.content(delta, choice.logprobs, out);
        if (Array.isArray(delta.tool_calls)) this.toolCalls(delta.tool_calls, out);
      }
      if (typeof choice.finish_reason === 'string') {
        this.finishReason = FINISH[choice.finish_reason] ?? 'stop';
      }
    }
  }

  /**
   * Map a whole (non-streamed) `chat.completion`: its message is the sum of all deltas, so it is
   * mapped as one chunk whose delta is the message. Call `end()` afterwards, as after a stream.
   */
  pushCompletion(completion: unknown, out: GenerateEvent[]): void {
    if (!isObj(completion) || (!Array.isArray(completion.choices) && completion.error == null)) {
      throw new ProviderError('upstream sent a reply that is not a chat completion', 0, false, 'upstream_bad_response');
    }
    const choices = Array.isArray(completion.choices)
      ? completion.choices.map((c) => (isObj(c) ? { index: c.index, delta: c.message, logprobs: c.logprobs, finish_reason: c.finish_reason ?? 'stop' } : c))
      : undefined;
    this.push({ ...completion, choices }, out);
  }

  /** Events to emit when the stream ended cleanly: usage first, then finish. */
  end(out: GenerateEvent[]): void {
    // Calls whose name never arrived cannot be executed; flush them under an empty name rather
    // than silently losing the arguments, so the runner can report a malformed call.
    for (const t of this.tools.values()) if (!t.started) this.start(t, out);
    if (this.lastUsage) out.push({ type: 'usage', usage: this.lastUsage });
    let reason = this.finishReason ?? 'stop';
    // Some servers say 'stop' after emitting tool calls; the turn did end in tool calls.
    if (reason === 'stop' && this.tools.size > 0) reason = 'tool_calls';
    out.push({ type: 'finish', reason });
  }

  /**
   * Reasoning arrives as `reasoning_content` (vLLM, DeepSeek, llama.cpp server) or `reasoning` (Ollama,
   * OpenRouter, newer vLLM); servers in transition send both with the same text, so one is taken.
   * OpenRouter marks a summary (rather than the thoughts themselves) in `reasoning_details`, and then
   * `reasoning` repeats the summary: it is a summary, not reasoning text.
   */
  private reasoning(delta: Obj, out: GenerateEvent[]): void {
    let summarised = false;
    if (Array.isArray(delta.reasoning_details)) {
      for (const d of delta.reasoning_details) {
        if (!isObj(d) || d.type !== 'reasoning.summary' || typeof d.summary !== 'string') continue;
        summarised = true;
        if (d.summary) out.push({ type: 'reasoning_summary', delta: d.summary });
      }
    }
    const text = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' && !summarised ? delta.reasoning : '';
    if (text) out.push({ type: 'reasoning', delta: text });
  }

  private content(delta: Obj, rawLogprobs: unknown, out: GenerateEvent[]): void {
    if (delta.reasoning_content !== undefined || delta.reasoning !== undefined || delta.reasoning_details !== undefined) this.reasoning(delta, out);
    if (typeof delta.content !== 'string') return;
    const logprobs = rawLogprobs === undefined || rawLogprobs === null ? undefined : tokenLogprobs(rawLogprobs);
    if (delta.content.length === 0 && !logprobs) return;
    out.push(logprobs ? { type: 'text', delta: delta.content, logprobs } : { type: 'text', delta: delta.content });
  }

  private toolCalls(calls: unknown[], out: GenerateEvent[]): void {
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i];
      if (!isObj(call)) continue;
      // `index` is required by the spec but some servers omit it when sending whole calls.
      const upstreamIndex = num(call.index) ?? i;
      let state = this.tools.get(upstreamIndex);
      if (!state) {
        state = { index: this.tools.size, started: false, pending: '' };
        this.tools.set(upstreamIndex, state);
      }
      if (typeof call.id === 'string' && call.id && state.id === undefined) state.id = call.id;
      const fn = isObj(call.function) ? call.function : undefined;
      if (fn && typeof fn.name === 'string' && fn.name && state.name === undefined) state.name = fn.name;
      const args = fn && typeof fn.arguments === 'string' ? fn.arguments : '';
      if (!state.started) {
        state.pending += args;
        if (state.name !== undefined) this.start(state, out);
      } else if (args) {
        out.push({ type: 'tool_call_delta', index: state.index, delta: args });
      }
    }
  }

  private start(state: ToolState, out: GenerateEvent[]): void {
    state.started = true;
    const id = state.id ?? `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    out.push({ type: 'tool_call_start', index: state.index, id, name: state.name ?? '' });
    if (state.pending) out.push({ type: 'tool_call_delta', index: state.index, delta: state.pending });
    state.pending = '';
  }
}
