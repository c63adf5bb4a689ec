// Wire shapes of the Response object and its items. Field names follow the `openai` package's
// responses.d.ts; where the Open Responses schema requires a value OpenAI leaves optional, a concrete
// value is always emitted so both validate.
import type { ResponseError } from './errors.js';
import type { ResponseStatus } from './status.js';

// Items are open-ended JSON (24 kinds in the reference); the runner builds the ones it emits explicitly.
export type Item = { type: string; id?: string; [k: string]: any };

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs?: unknown[];
}

/** A reasoning item's text part, or a part of its summary. */
export interface ReasoningPart {
  type: 'reasoning_text' | 'summary_text';
  text: string;
}

export interface UsageObject {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** A failed Response's `error`: a code from the catalogue. */
export type ErrorObject = ResponseError;

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  background: boolean;
  error: ErrorObject | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number;
  metadata: Record<string, string>;
  model: string;
  output: Item[];
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  conversation: { id: string } | null;
  /** The prompt template used (issue 23): present only when the request named one. */
  prompt?: { id: string; version: string | null; variables: Record<string, unknown> | null };
  prompt_cache_key: string | null;
  reasoning: { effort: string | null; summary: string | null };
  safety_identifier: string | null;
  service_tier: string;
  store: boolean;
  temperature: number;
  top_p: number;
  presence_penalty: number;
  frequency_penalty: number;
  top_logprobs: number;
  text: { format: Record<string, unknown>; verbosity: string };
  tool_choice: unknown;
  tools: Item[];
  truncation: 'auto' | 'disabled';
  usage: UsageObject | null;
  user: string | null;
}

export const emptyUsage = (): UsageObject => ({
  input_tokens: 0,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 0,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 0,
});
