// Local GGUF models through node-llama-cpp (llama.cpp), in-process.
// One provider serves one model file: the model is loaded once (lazily, or eagerly via `load()`),
// and one context with `parallel` sequences lets that many requests decode together in shared
// batches; further requests wait in a fair FIFO queue. See generate.ts for the abort/error contract.

import type { LlamaEmbeddingContext } from 'node-llama-cpp';
import { ProviderError, type EmbedResult } from '../types.js';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ChatMessage, FunctionToolDef, GenerateEvent, GenerateRequest, ModelCapabilities, ModelInfo, Provider } from '../types.js';
import type { ChatWrapperName } from './chat-wrappers.js';
import { startGeneration } from './generate.js';
import { renderPrompt } from './prompt.js';
import { LlamaRuntime } from './runtime.js';

export const DEFAULT_STREAM_INTERVAL_MS = 20;

export interface LlamaProviderOptions {
  id: string;
  modelPath: string;
  /** llama.cpp threads. Always set explicitly: the library default oversubscribes small machines. */
  threads: number;
  /** Tokens per sequence (prompt + output). Default: the model's training context, at most 4096. */
  contextSize?: number;
  /** Concurrent generations (context sequences). Default 4. */
  parallel?: number;
  /**
   * Deltas are sent at most this often (ms); tokens generated faster are merged into one delta.
   * Default 20 (50 a second, about a display frame): a model slower than that is never held back,
   * and for a fast one every delivery costs an event, an SSE write and a wake-up of the client
   * (how the interval moved the bench's token rate: bench/README.md, history).
   */
  streamIntervalMs?: number;
  /** The chat format (LLAMA_CHAT_WRAPPER); default 'auto', the one recognised from the file. */
  chatWrapper?: ChatWrapperName;
  /**
   * Earlier reasoning is given back in the prompt, as a thought segment of the chat format
   * (LLAMA_REASONING_INPUT; ModelCapabilities.reasoningInput). Default false, like the upstreams'.
   */
  reasoningInput?: boolean;
  log?: (msg: string) => void;
}

export interface LlamaProvider extends Provider {
  /** Loads the model now (server start). Rejects with a ProviderError if it cannot. */
  load(): Promise<void>;
  /** The name `listModels` reports: the file name without `.gguf`. */
  readonly modelName: string;
}

export function createLlamaProvider(opts: LlamaProviderOptions): LlamaProvider {
  const threads = Math.max(1, Math.floor(opts.threads));
  const parallel = Math.max(1, Math.floor(opts.parallel ?? 4));
  const streamIntervalMs = Math.max(0, opts.streamIntervalMs ?? DEFAULT_STREAM_INTERVAL_MS);
  const log = opts.log ?? (() => {});
  const modelName = basename(opts.modelPath).replace(/\.gguf$/i, '');
  const reasoningInput = opts.reasoningInput ?? false;
  const runtime = new LlamaRuntime({
    modelPath: opts.modelPath, threads, parallel, contextSize: opts.contextSize, chatWrapper: opts.chatWrapper, reasoningInput, log,
  });
  const createdAt = Math.floor(Date.now() / 1000);
  let embedding: Promise<LlamaEmbeddingContext> | undefined;

  return {
    id: opts.id,
    modelName,

    async load(): Promise<void> {
      await runtime.load();
    },

    async listModels(): Promise<ModelInfo[]> {
      // Listing must not force a (possibly slow) model load; the window is known once loaded.
      const created = await stat(opts.modelPath).then(
        (s) => Math.floor(s.mtimeMs / 1000),
        () => createdAt,
      );
      const contextWindow = runtime.current?.contextSize ?? opts.contextSize;
      return [{ id: modelName, created, ownedBy: 'local', ...(contextWindow ? { contextWindow } : {}) }];
    },

    capabilities(): ModelCapabilities {
      // The engine renders the prompt itself, so it can always leave the last model turn open to continue.
      return { images: false, files: false, jsonSchema: true, grammar: true, reasoningInput, continuation: true };
    },

    /** Any model name is accepted: this provider has exactly one model. */
    generate(req: GenerateRequest): AsyncIterable<GenerateEvent> {
      return startGeneration(runtime, req, streamIntervalMs);
    },

    async countTokens(_model: string, messages: ChatMessage[], tools?: FunctionToolDef[]): Promise<number> {
      const m = await runtime.load();
      return renderPrompt(m.chatWrapper, messages, tools).text.tokenize(m.model.tokenizer).length;
    },

    /** The chat model's own embedding context: any GGUF gives vectors of its hidden size. */
    async embed(_model: string, inputs: string[]): Promise<EmbedResult> {
      const m = await runtime.load();
      embedding ??= m.model.createEmbeddingContext({ threads }).catch((err: unknown) => {
        embedding = undefined;
        throw new ProviderError(`Could not create an embedding context: ${err instanceof Error ? err.message : String(err)}`, 503, false, 'model_load_failed');
      });
      const ctx = await embedding;
      const vectors: number[][] = [];
      let promptTokens = 0;
      // One at a time: the context evaluates one sequence; its queue would serialise them anyway.
      for (const text of inputs) {
        promptTokens += m.model.tokenize(text).length;
        vectors.push([...(await ctx.getEmbeddingFor(text)).vector]);
      }
      return { vectors, promptTokens };
    },

    async contextWindow(): Promise<number | undefined> {
      return (await runtime.load()).contextSize;
    },

    async close(): Promise<void> {
      const e = embedding;
      embedding = undefined;
      await e?.then((c) => c.dispose(), () => {});
      return runtime.close();
    },
  };
}
