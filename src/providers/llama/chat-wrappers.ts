// The chat format of the embedded engine: the one node-llama-cpp recognises from the GGUF (its Jinja
// template, architecture and name), or one named in the configuration for a GGUF whose template it
// does not recognise (LLAMA_CHAT_WRAPPER, README "Reasoning on the embedded engine").
import {
  DeepSeekChatWrapper,
  GeneralChatWrapper,
  HarmonyChatWrapper,
  QwenChatWrapper,
  resolveChatWrapper,
  type ChatWrapper,
  type LlamaModel,
} from 'node-llama-cpp';

import type { ChatWrapperName } from '../../config/index.js';

export type { ChatWrapperName };

const NAMED: Record<Exclude<ChatWrapperName, 'auto'>, () => ChatWrapper> = {
  general: () => new GeneralChatWrapper(),
  // Qwen 3: the model opens `<think>` itself when it thinks.
  qwen: () => new QwenChatWrapper(),
  // Qwen 3.5: every response starts inside `<think>` (the format opens it, the engine writes it).
  'qwen3.5': () => new QwenChatWrapper({ variation: '3.5' }),
  deepseek: () => new DeepSeekChatWrapper(),
  harmony: () => new HarmonyChatWrapper(),
};

/**
 * `reasoningInput`: earlier reasoning reaches the prompt (ModelCapabilities.reasoningInput), so the
 * wrapper must keep it too: the built-in ones drop all but the current response's thought by default.
 */
export function chooseChatWrapper(model: LlamaModel, name: ChatWrapperName = 'auto', reasoningInput = false): ChatWrapper {
  const wrapper = name === 'auto' ? resolveChatWrapper(model) ?? new GeneralChatWrapper() : NAMED[name]();
  if (reasoningInput && 'keepOnlyLastThought' in wrapper) (wrapper as { keepOnlyLastThought: boolean }).keepOnlyLastThought = false;
  return wrapper;
}
