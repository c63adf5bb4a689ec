// Provider for any server speaking the OpenAI Chat Completions API (vLLM, llama.cpp server,
// SGLang, Ollama, LM Studio, OpenAI itself…). This file only wires the pieces together:
//   client.ts            pooled keep-alive HTTP + retry policy
//   to-chat-request.ts   GenerateRequest -> chat/completions body
//   parse-chat-stream.ts SSE -> GenerateEvents (chunk-mapper.ts does the per-chunk mapping)
//   generate.ts          one turn, streamed or whole; abort/timeout handling
//   proxy.ts             byte-level /chat/completions pass-through
//   models.ts            model listing with cache

import { embed } from './embed.js';
import type { EmbedOptions, EmbedResult } from '../types.js';
import type { GenerateEvent, GenerateRequest, ModelCapabilities, ModelInfo, Provider, ProxyResult } from '../types.js';
import { UpstreamClient } from './client.js';
import { complete, generate, generateBatches } from './generate.js';
import { ModelCatalog } from './models.js';
import { proxyChatCompletions } from './proxy.js';
import type { ContinuationStyle } from './to-chat-request.js';
import type { CancelSignal } from '../../util/cancel.js';

export interface OpenAICompatibleProviderOptions {
  id: string;
  /** Base URL including the API prefix, e.g. http://127.0.0.1:9000/v1 */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged or put in error messages. */
  apiKey?: string;
  /** Fixed model list; when absent GET {baseUrl}/models is used (cached 60 s). */
  models?: string[];
  /** Total time for one upstream call, streaming included. Default 600000. */
  timeoutMs?: number;
  /** Connect and response-headers timeout. Default min(30000, timeoutMs). */
  firstByteTimeoutMs?: number;
  /** Retries on 429/5xx/connection errors, before anything is returned. Default 2. */
  maxRetries?: number;
  /** Extra request headers (e.g. for gateways). */
  headers?: Record<string, string>;
  /**
   * Models that take their earlier reasoning back as the assistant message's `reasoning_content`: all
   * (true), none (false, the default: DeepSeek, for one, rejects it) or the models named.
   */
  reasoningInput?: boolean | string[];
  /**
   * How the upstream continues a trailing assistant message, when it can (see ContinuationStyle);
   * absent: it cannot, so responses cut off by a dead instance are not continued on it.
   */
  continuation?: ContinuationStyle;
}

const CAPABILITIES: ModelCapabilities = { images: true, files: true, jsonSchema: true, grammar: false };

export function createOpenAICompatibleProvider(opts: OpenAICompatibleProviderOptions): Provider {
  const totalTimeoutMs = opts.timeoutMs ?? 600_000;
  const client = new UpstreamClient({
    baseUrl: opts.baseUrl,
    apiKey: opts.apiKey,
    headers: opts.headers,
    totalTimeoutMs,
    firstByteTimeoutMs: opts.firstByteTimeoutMs ?? Math.min(30_000, totalTimeoutMs),
    maxRetries: opts.maxRetries ?? 2,
  });
  const catalog = new ModelCatalog(client, opts.id, opts.models);

  return {
    id: opts.id,
    listModels(): Promise<ModelInfo[]> {
      return catalog.list();
    },
    capabilities(model: string): ModelCapabilities {
      const r = opts.reasoningInput;
      return { ...CAPABILITIES, reasoningInput: Array.isArray(r) ? r.includes(model) : r ?? false, continuation: opts.continuation !== undefined };
    },
    generate(req: GenerateRequest): AsyncIterable<GenerateEvent> {
      return generate(client, req, opts.continuation);
    },
    embed(model: string, inputs: string[], embedOpts?: EmbedOptions): Promise<EmbedResult> {
      return embed(client, model, inputs, embedOpts);
    },
    generateBatches(req: GenerateRequest): AsyncIterable<GenerateEvent[]> {
      return generateBatches(client, req, opts.continuation);
    },
    complete(req: GenerateRequest): Promise<GenerateEvent[]> {
      return complete(client, req, opts.continuation);
    },
    contextWindow(model: string): number | undefined | Promise<number | undefined> {
      // Advisory only (from /models metadata such as vLLM's max_model_len): a failed listing
      // means "unknown", not an error for the turn. Usually the listing is cached: no waiting then.
      const windowOf = (models: ModelInfo[]) => models.find((m) => m.id === model)?.contextWindow;
      const cached = catalog.cached();
      return cached ? windowOf(cached) : catalog.list().then(windowOf, () => undefined);
    },
    proxyChatCompletions(body: Record<string, unknown>, signal: CancelSignal): Promise<ProxyResult> {
      return proxyChatCompletions(client, body, signal);
    },
    close(): Promise<void> {
      return client.close();
    },
  };
}
