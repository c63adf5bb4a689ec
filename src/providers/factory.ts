// Builds the configured providers. The only place that knows which folder implements which type.
import type { Config } from '../config/index.js';
import { createLlamaProvider } from './llama/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';
import { ProviderRouter } from './router.js';
import type { Provider } from './types.js';

export function createRouter(config: Config, log: (msg: string) => void): ProviderRouter {
  const providers = new Map<string, Provider>();
  for (const p of config.providers) {
    if (p.type === 'llama') {
      providers.set(p.id, createLlamaProvider({ id: p.id, modelPath: p.modelPath, threads: p.threads, contextSize: p.contextSize, parallel: p.parallel, streamIntervalMs: p.streamIntervalMs, chatWrapper: p.chatWrapper, reasoningInput: p.reasoningInput, log }));
    } else {
      providers.set(p.id, createOpenAICompatibleProvider({ id: p.id, baseUrl: p.baseUrl, apiKey: p.apiKey, models: p.models, timeoutMs: p.timeoutMs, maxRetries: p.maxRetries, reasoningInput: p.reasoningInput, continuation: p.continuation }));
    }
  }
  return new ProviderRouter(providers, config.defaultProvider, config.autoModel);
}

/** Loads local models up front so the first request does not pay for it. */
export async function preload(router: ProviderRouter): Promise<void> {
  for (const p of router.providers.values()) await p.load?.();
}
