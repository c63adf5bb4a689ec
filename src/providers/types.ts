// The one streaming interface every model backend implements. The Responses runner and the
// chat-completions route only ever talk to this: differences between backends live in their folders.
import type { CancelSignal } from '../util/cancel.js';

/** A content part the model may read. Providers that cannot read a kind report it in `capabilities`. */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; url: string; detail?: 'low' | 'high' | 'auto' }
  | { type: 'file'; filename?: string; data?: string; url?: string; fileId?: string };

export interface ToolCall {
  id: string; // call_id
  name: string;
  arguments: string; // JSON text
}

/** Chat-style messages: the normalised form every provider consumes. */
export type ChatMessage =
  | { role: 'system' | 'developer'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  /** `reasoning`: what the model thought before this turn's answer, given back where the model takes it (see ModelCapabilities.reasoningInput). */
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[]; reasoning?: string }
  | { role: 'tool'; toolCallId: string; content: string };

export interface FunctionToolDef {
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
  /**
   * The arguments are `{"input": string}` and the string must match this grammar (a custom tool's
   * format). A backend that samples under grammars enforces it; others get it in the description.
   */
  inputGrammar?: { syntax: 'regex' | 'lark'; definition: string };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean | null };

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

export interface GenerateRequest {
  /** Provider-local model name (the part after `provider:`). */
  model: string;
  messages: ChatMessage[];
  tools?: FunctionToolDef[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  temperature?: number;
  topP?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  maxOutputTokens?: number;
  responseFormat?: ResponseFormat;
  /** How hard a reasoning model thinks (chat-completions `reasoning_effort`); only when the client set it. */
  reasoningEffort?: ReasoningEffort;
  /** When true, text deltas carry token logprobs with up to `topLogprobs` alternatives. */
  logprobs?: boolean;
  topLogprobs?: number;
  user?: string;
  /**
   * The last message is an assistant message the model must continue (an assistant prefix): the output
   * is what follows its text, in the same message. Only sent to providers whose capabilities declare
   * `continuation`.
   */
  continueFinal?: boolean;
  signal: CancelSignal;
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}
export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedTokens?: number;
  reasoningTokens?: number;
}

/** `context_length`: the model's context window filled before the turn ended (not a limit the client set). */
export type FinishReason = 'stop' | 'length' | 'context_length' | 'tool_calls' | 'content_filter';

/** What a provider yields while generating. Tool calls are identified by their index in the turn. */
export type GenerateEvent =
  | { type: 'text'; delta: string; logprobs?: TokenLogprob[] }
  /** The model's own reasoning text (chain of thought), before or between its answers. */
  | { type: 'reasoning'; delta: string }
  /** A summary of the reasoning, only when the backend itself gives one. */
  | { type: 'reasoning_summary'; delta: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; delta: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; reason: FinishReason };

export interface ModelInfo {
  /** Provider-local name. */
  id: string;
  created: number;
  ownedBy: string;
  contextWindow?: number;
}

export interface ModelCapabilities {
  images: boolean;
  files: boolean;
  /** The provider can enforce a JSON schema exactly (grammar or upstream support). */
  jsonSchema: boolean;
  /**
   * The provider itself constrains output by a grammar built from the schema, so a strict schema with
   * constructs a grammar cannot express is refused at create time (an upstream enforces its own way).
   */
  grammar: boolean;
  /**
   * The model takes its earlier reasoning back (an assistant message's `reasoning`), e.g. gpt-oss across
   * tool calls. When false, earlier reasoning is not sent: several servers reject it.
   */
  reasoningInput?: boolean;
  /**
   * The provider continues a trailing assistant message (GenerateRequest.continueFinal): the output
   * goes on right after that message's text. A response cut off when its instance died is taken over
   * and continued only when this holds (see responses/continuation.ts); otherwise it fails as before.
   */
  continuation?: boolean;
}

/** Raw pass-through result for OpenAI-compatible chat-completions proxying. */
export interface ProxyResult {
  status: number;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
}

export interface EmbedOptions {
  /** Output size, for backends that can shorten their vectors. */
  dimensions?: number;
  signal?: AbortSignal;
}

export interface EmbedResult {
  vectors: number[][];
  promptTokens: number;
}

export interface Provider {
  readonly id: string;
  listModels(): Promise<ModelInfo[]>;
  capabilities(model: string): ModelCapabilities;
  /** Stream one model turn. Must stop promptly (within one token) when `req.signal` aborts. */
  generate(req: GenerateRequest): AsyncIterable<GenerateEvent>;
  /**
   * Optional: the same events as `generate`, grouped as they arrive (e.g. one read of an upstream
   * stream), so a streamed turn pays one async step per group instead of one per event.
   */
  generateBatches?(req: GenerateRequest): AsyncIterable<GenerateEvent[]>;
  /**
   * Optional: one model turn in one piece, for turns nobody follows live (a blocking response, see
   * LiveLog.blocking). Same events in the same order as `generate`, text as one delta per item; a provider
   * offers it when it is cheaper (e.g. a non-streamed upstream call: one JSON document instead of a
   * frame per token, and no async iteration per event). Resolves to [] when `req.signal` aborts.
   */
  complete?(req: GenerateRequest): Promise<GenerateEvent[]>;
  /**
   * Optional: loads now what the first request would otherwise wait for (a model file on this machine).
   * Called once at start; rejects with a ProviderError when it cannot.
   */
  load?(): Promise<void>;
  /**
   * Optional: one embedding vector per input, in order (POST /embeddings, vector store ingestion). A provider
   * without it cannot embed; the caller answers 400 naming the model.
   */
  embed?(model: string, inputs: string[], opts?: EmbedOptions): Promise<EmbedResult>;
  /** Token count of a prompt with the model's own tokenizer, when the provider has one. */
  countTokens?(model: string, messages: ChatMessage[], tools?: FunctionToolDef[]): Promise<number>;
  /** The model's context window, when known; a plain value when the provider knows it without waiting. */
  contextWindow?(model: string): number | undefined | Promise<number | undefined>;
  /**
   * Optional byte-level proxy of `/chat/completions` for backends that speak it natively.
   * `body` is the client's JSON with `model` already rewritten to the provider-local name.
   */
  proxyChatCompletions?(body: Record<string, unknown>, signal: CancelSignal): Promise<ProxyResult>;
  close(): Promise<void>;
}

/** A failure from a backend. `status` is what the backend said (0 for network failures). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    readonly code: string = 'upstream_error',
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
