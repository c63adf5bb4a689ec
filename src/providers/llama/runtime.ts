// Owns the native resources: the llama.cpp binding, the one shared model, and one context whose
// sequences are handed out through a FIFO pool. Loading is lazy and happens once; concurrent callers
// share the same load, and a failed load is forgotten so a later request can retry (e.g. after the
// file has been copied into place).

import { access, constants } from 'node:fs/promises';
import {
  getLlama,
  LlamaLogLevel,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from 'node-llama-cpp';
import { ProviderError } from '../types.js';
import { chooseChatWrapper, type ChatWrapperName } from './chat-wrappers.js';
import { GrammarCache } from './grammars.js';
import { TokenInspector } from './logprobs.js';
import { SequencePool } from './sequence-pool.js';

export interface RuntimeOptions {
  modelPath: string;
  threads: number;
  contextSize?: number;
  parallel: number;
  /** The chat format; 'auto' (default): the one node-llama-cpp recognises from the file. */
  chatWrapper?: ChatWrapperName;
  /** Earlier reasoning is given back in the prompt (see chat-wrappers.ts). */
  reasoningInput?: boolean;
  log: (msg: string) => void;
}

export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  pool: SequencePool<LlamaContextSequence>;
  chatWrapper: ChatWrapper;
  grammars: GrammarCache;
  inspector: TokenInspector;
  /** Tokens each sequence can hold (prompt + output). */
  contextSize: number;
}

/** Without an explicit size, use the model's training context capped to keep memory modest. */
const DEFAULT_MAX_CONTEXT = 4096;

export class LlamaRuntime {
  private loading: Promise<LoadedModel> | undefined;
  private loaded: LoadedModel | undefined;
  private closed = false;

  constructor(private readonly opts: RuntimeOptions) {}

  /** The loaded model, if loading has finished. */
  get current(): LoadedModel | undefined {
    return this.loaded;
  }

  load(): Promise<LoadedModel> {
    if (this.closed) return Promise.reject(new ProviderError('The llama provider is closed', 503, false, 'provider_closed'));
    if (!this.loading) {
      this.loading = this.doLoad().then(
        (m) => {
          if (!this.closed) this.loaded = m;
          return m;
        },
        (err: unknown) => {
          this.loading = undefined; // allow a retry on the next request
          throw err instanceof ProviderError
            ? err
            : new ProviderError(
                `Could not load model ${this.opts.modelPath}: ${err instanceof Error ? err.message : String(err)}`,
                503,
                false,
                'model_load_failed',
              );
        },
      );
    }
    return this.loading;
  }

  private async doLoad(): Promise<LoadedModel> {
    const { modelPath, threads, parallel, log } = this.opts;
    try {
      await access(modelPath, constants.R_OK);
    } catch {
      throw new ProviderError(`Model file not found or not readable: ${modelPath}`, 503, false, 'model_not_found');
    }
    const started = Date.now();
    // build: 'never' — use the prebuilt binary; never try to compile (or download) llama.cpp at runtime.
    // maxThreads caps the whole binding: the default thread count oversubscribes small machines badly.
    const llama = await getLlama({
      gpu: false,
      build: 'never',
      maxThreads: threads,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (text && (level === LlamaLogLevel.error || level === LlamaLogLevel.warn || level === LlamaLogLevel.fatal))
          log(`llama.cpp ${level}: ${text}`);
      },
    });
    let model: LlamaModel | undefined;
    try {
      let lastStep = -1;
      log(`loading model ${modelPath}`);
      model = await llama.loadModel({
        modelPath,
        onLoadProgress: (progress) => {
          const step = Math.floor(progress * 4); // report at 0/25/50/75/100 %
          if (step > lastStep) {
            lastStep = step;
            log(`loading model: ${Math.round(progress * 100)}%`);
          }
        },
      });
      if (this.closed) throw new ProviderError('The llama provider is closed', 503, false, 'provider_closed');
      const contextSize = this.opts.contextSize ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT);
      const context = await model.createContext({
        sequences: parallel,
        contextSize,
        threads,
        failedCreationRemedy: false,
        // The default ("nextCycle", setImmediate) waits behind all I/O callbacks of the loop turn before
        // decoding the next token whenever not every sequence has work. Dispatching after the current
        // microtasks still batches sequences that queue in the same tick, without that wait.
        batching: { dispatchSchedule: (dispatch) => queueMicrotask(dispatch) },
      });
      const sequences = Array.from({ length: parallel }, () => context.getSequence());
      const chatWrapper = chooseChatWrapper(model, this.opts.chatWrapper, this.opts.reasoningInput);
      log(
        `model ready in ${Date.now() - started} ms: context ${context.contextSize} tokens x ${parallel} sequences, ` +
          `${threads} thread(s), chat format ${chatWrapper.wrapperName}`,
      );
      return {
        llama,
        model,
        context,
        pool: new SequencePool(sequences),
        chatWrapper,
        grammars: new GrammarCache(llama),
        inspector: new TokenInspector(model),
        contextSize: context.contextSize,
      };
    } catch (err) {
      await model?.dispose().catch(() => {});
      await llama.dispose().catch(() => {});
      throw err;
    }
  }

  /** Ends queued requests, then frees context, model and binding. Safe to call more than once. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.loading;
    this.loading = undefined;
    this.loaded = undefined;
    const m = await pending?.catch(() => undefined);
    if (!m) return;
    m.pool.close();
    await m.context.dispose().catch(() => {});
    await m.model.dispose().catch(() => {});
    await m.llama.dispose().catch(() => {});
  }
}
