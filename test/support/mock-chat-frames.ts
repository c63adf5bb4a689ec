// The chat.completion(.chunk) shapes the mock upstream sends, as plain functions of their inputs.
import type { Scenario } from './mock-upstream.js';

export type Json = Record<string, any>;

const LOREM = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ';
export const ID = 'chatcmpl-mock';
export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
export const DONE = 'data: [DONE]\n\n';

export function frame(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

export function chunkObj(created: number, model: string, delta: Json, finish: string | null, logprobs: Json | null = null): Json {
  return { id: ID, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs, finish_reason: finish }] };
}

export function tokenLogprob(token: string, i: number, top: number): Json {
  const logprob = -0.01 - (i % 5) * 0.1;
  const tops = [];
  for (let k = 0; k < top; k++) {
    const t = k === 0 ? token : `alt${k}`;
    tops.push({ token: t, logprob: logprob - k, bytes: [...Buffer.from(t)] });
  }
  return { token, logprob, bytes: [...Buffer.from(token)], top_logprobs: tops };
}

export function splitText(s: Extract<Scenario, { kind: 'text' }>): string[] {
  const size = Math.max(1, s.chunkSize ?? 8);
  if (s.text !== undefined) {
    const n = s.chunks ?? Math.max(1, Math.ceil(s.text.length / size));
    const per = Math.max(1, Math.ceil(s.text.length / n));
    const out = [];
    for (let i = 0; i < s.text.length; i += per) out.push(s.text.slice(i, i + per));
    return out.length ? out : [''];
  }
  const n = Math.max(1, s.chunks ?? 10);
  let text = LOREM;
  while (text.length < n * size) text += LOREM;
  const out = [];
  for (let i = 0; i < n; i++) out.push(text.slice(i * size, (i + 1) * size));
  return out;
}

export function lastUserText(body: Json): string {
  const msgs: Json[] = Array.isArray(body.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.filter((p: Json) => p?.type === 'text').map((p: Json) => p.text).join('');
  }
  return '';
}

/** Usage with the prompt estimated from the request body's size (4 bytes a token). */
export function usageObj(bodyBytes: number, completionTokens: number): Json {
  const prompt = Math.max(1, Math.ceil(bodyBytes / 4));
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}

/**
 * What a reasoning model thinks before it answers, as an upstream sends it: in `reasoning_content`
 * (vLLM, DeepSeek, llama.cpp server) or `reasoning` (Ollama, OpenRouter, newer vLLM). `summary`: an
 * OpenRouter-style summary instead (`reasoning_details` of type reasoning.summary, repeated in `reasoning`).
 */
export interface ReasoningSpec {
  text?: string;
  field?: 'reasoning_content' | 'reasoning';
  summary?: string;
  /** Reported as usage.completion_tokens_details.reasoning_tokens. */
  tokens?: number;
}

const pieces = (s: string) => s.match(/.{1,6}/gs) ?? [];

/** The stream deltas of the reasoning, in order. */
export function reasoningDeltas(r: ReasoningSpec | undefined): Json[] {
  if (!r) return [];
  const out: Json[] = pieces(r.text ?? '').map((p) => ({ [r.field ?? 'reasoning_content']: p }));
  for (const p of pieces(r.summary ?? '')) {
    out.push({ reasoning: p, reasoning_details: [{ type: 'reasoning.summary', summary: p, format: 'openai-responses-v1', index: 0 }] });
  }
  return out;
}

/** The reasoning fields of a non-streamed reply's message. */
export function reasoningMessage(r: ReasoningSpec | undefined): Json {
  if (!r?.text) return {};
  return { [r.field ?? 'reasoning_content']: r.text };
}

/** Usage with reasoning tokens, when the spec reports them. */
export function usageWithReasoning(bodyBytes: number, completionTokens: number, r: ReasoningSpec | undefined): Json {
  const u = usageObj(bodyBytes, completionTokens + (r?.tokens ?? 0));
  if (r?.tokens !== undefined) u.completion_tokens_details = { reasoning_tokens: r.tokens };
  return u;
}
