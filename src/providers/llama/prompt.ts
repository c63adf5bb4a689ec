// Renders the provider-neutral ChatMessage list into the model's own prompt format.
// Why node-llama-cpp's chat wrappers: they know each model family's template (Llama 3, ChatML, Qwen,
// Mistral, ...) including how function calls and their results are written, so a real chat model sees
// the format it was trained on. For models without a template (stories260K) the resolved wrapper is a
// generic one, which is fine. Tool calls and tool results become the wrapper's native function-call
// history items; anything that cannot be matched is rendered as plain text instead of failing.

import {
  LlamaText,
  type ChatHistoryItem,
  type ChatModelFunctionCall,
  type ChatModelFunctions,
  type ChatModelSegment,
  type ChatWrapper,
} from 'node-llama-cpp';
import type { ChatMessage, ContentPart, FunctionToolDef } from '../types.js';
import { toGbnfSchema } from './json-schema.js';

function contentToText(content: string | ContentPart[] | null): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  // Images/files cannot be read by this provider (capabilities say so); keep a marker so the prompt
  // still reflects that something was attached rather than silently dropping it.
  return content
    .map((part) => {
      if (part.type === 'text') return part.text;
      if (part.type === 'image') return '[image]';
      return `[file${part.filename ? `: ${part.filename}` : ''}]`;
    })
    .join('\n');
}

function parseJsonOr<T>(text: string, fallback: T): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/**
 * Converts chat messages to node-llama-cpp history, ending with an open model turn to complete.
 * `thoughts`: an assistant message's earlier reasoning becomes the wrapper's thought segment (only
 * for a format that has one: the others would show it as text).
 */
export function toChatHistory(messages: ChatMessage[], thoughts = false, continueFinal = false): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  // call id -> the history item's function call, so a later tool message can attach its result.
  const pendingCalls = new Map<string, ChatModelFunctionCall>();
  for (const msg of messages) {
    switch (msg.role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text: msg.content });
        break;
      case 'user':
        history.push({ type: 'user', text: contentToText(msg.content) });
        break;
      case 'assistant': {
        const response: (string | ChatModelFunctionCall | ChatModelSegment)[] = [];
        if (thoughts && msg.reasoning) response.push({ type: 'segment', segmentType: 'thought', text: msg.reasoning, ended: true });
        const text = contentToText(msg.content);
        if (text) response.push(text);
        for (const call of msg.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: 'functionCall',
            name: call.name,
            params: parseJsonOr(call.arguments, call.arguments),
            result: undefined, // rendered as "void" by the wrappers until a tool message fills it
          };
          pendingCalls.set(call.id, item);
          response.push(item);
        }
        history.push({ type: 'model', response });
        break;
      }
      case 'tool': {
        const call = pendingCalls.get(msg.toolCallId);
        if (call && call.result === undefined) {
          call.result = parseJsonOr(msg.content, msg.content);
        } else {
          // A result with no matching call in this conversation: still show it to the model.
          history.push({ type: 'user', text: `Result of tool call ${msg.toolCallId}:\n${msg.content}` });
        }
        break;
      }
      default:
        void (msg satisfies never);
    }
  }
  // continueFinal: the last assistant message is itself the open turn (node-llama-cpp renders the last
  // model item without its end-of-turn), so generation goes on right after its text.
  if (!(continueFinal && history.at(-1)?.type === 'model')) history.push({ type: 'model', response: [] });
  return history;
}

/** Tool definitions in the form the chat wrappers document in the system prompt. */
export function toChatFunctions(tools: FunctionToolDef[] | undefined): ChatModelFunctions | undefined {
  if (!tools || tools.length === 0) return undefined;
  const functions: Record<string, { description?: string; params?: unknown }> = {};
  for (const tool of tools) {
    let params: unknown;
    try {
      params = tool.parameters ? toGbnfSchema(tool.parameters) : undefined;
    } catch {
      params = undefined; // documentation only; an exotic schema must not break the prompt
    }
    functions[tool.name] = { description: tool.description ?? undefined, params };
  }
  return functions as ChatModelFunctions;
}

export interface RenderedPrompt {
  text: LlamaText;
  stopTriggers: LlamaText[];
  /** The last-resort plain transcript: the chat format (and its thought segment) does not apply. */
  plain?: boolean;
}

/** Renders messages (and tool docs) with the wrapper; falls back to no tool docs, then plain text. */
export function renderPrompt(wrapper: ChatWrapper, messages: ChatMessage[], tools?: FunctionToolDef[], continueFinal = false): RenderedPrompt {
  const chatHistory = toChatHistory(messages, wrapper.settings.segments?.thought !== undefined, continueFinal);
  const availableFunctions = toChatFunctions(tools);
  const attempts: (() => RenderedPrompt)[] = [
    () => {
      const s = wrapper.generateContextState({ chatHistory, availableFunctions, documentFunctionParams: true });
      return { text: s.contextText, stopTriggers: s.stopGenerationTriggers };
    },
    () => {
      const s = wrapper.generateContextState({ chatHistory });
      return { text: s.contextText, stopTriggers: s.stopGenerationTriggers };
    },
  ];
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch {
      // try the next, simpler rendering
    }
  }
  // Last resort, so odd histories never crash a request: a transcript the model can still continue.
  const transcript = messages
    .map((m) => {
      if (m.role === 'tool') return `tool (${m.toolCallId}): ${m.content}`;
      if (m.role === 'assistant') {
        const calls = (m.toolCalls ?? []).map((c) => `[call ${c.name}(${c.arguments})]`).join(' ');
        return `assistant: ${[contentToText(m.content), calls].filter(Boolean).join(' ')}`;
      }
      return `${m.role}: ${contentToText(m.content)}`;
    })
    .join('\n');
  return { text: LlamaText(continueFinal ? transcript : [transcript, '\nassistant: ']), stopTriggers: [LlamaText('\nuser:')], plain: true };
}

/**
 * The text a wrapper puts before a function call's JSON arguments (e.g. `||call: name(` or
 * `<function=name>`), used to force a call: the prompt is extended with it and the arguments are then
 * generated under a JSON-schema grammar. `name` undefined gives only the part before the name.
 */
export function functionCallPrefix(wrapper: ChatWrapper, name?: string): LlamaText {
  const call = wrapper.settings.functions.call;
  const fill = (t: string | LlamaText): LlamaText =>
    LlamaText(t).mapValues((v) => (typeof v === 'string' && name !== undefined ? v.replaceAll('{{functionName}}', name) : v));
  if (name === undefined) return fill(call.prefix);
  return LlamaText([fill(call.prefix), name, fill(call.paramsPrefix)]);
}
