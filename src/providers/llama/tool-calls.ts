// Forced tool calls (tool_choice "required" or {name}) for a model that cannot be trusted to decide.
// How: the prompt is extended with the chat format's own function-call opening (e.g. `||call: ` or
// `<function=`), so a real chat model sees a call it is already making. With several candidate tools
// the name is first generated under a grammar that allows only the tool names; then, in the same
// sequence (the prefix is reused), the arguments are generated under the chosen tool's JSON-schema
// grammar, so they always parse and match the schema. Exactly one call is produced per turn, which
// satisfies both parallel_tool_calls settings.

import { randomBytes } from 'node:crypto';
import { LlamaText } from 'node-llama-cpp';
import { ProviderError, type FunctionToolDef, type GenerateEvent, type GenerateRequest } from '../types.js';
import { runCompletion, type CompletionResult } from './completion.js';
import { functionCallPrefix, type RenderedPrompt } from './prompt.js';
import type { LoadedModel } from './runtime.js';
import type { LlamaContextSequence } from 'node-llama-cpp';
import type { CancelSignal } from '../../util/cancel.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function newCallId(): string {
  const bytes = randomBytes(24);
  let id = 'call_';
  for (const b of bytes) id += ALNUM[b % ALNUM.length];
  return id;
}

/** The tool a forced call must use, or undefined when this request does not force a call. */
export function forcedTools(req: GenerateRequest): FunctionToolDef[] | undefined {
  const choice = req.toolChoice;
  if (choice === undefined || choice === 'auto' || choice === 'none') return undefined;
  const tools = req.tools ?? [];
  if (choice === 'required') {
    if (tools.length === 0) throw new ProviderError('tool_choice "required" needs at least one tool', 400, false, 'invalid_request');
    return tools;
  }
  const tool = tools.find((t) => t.name === choice.name);
  if (!tool) throw new ProviderError(`tool_choice names "${choice.name}", which is not among the tools`, 400, false, 'invalid_request');
  return [tool];
}

export interface ToolCallOutcome {
  /** 'abort' when the request signal fired part-way. */
  reason: 'tool_calls' | 'length' | 'context_length' | 'abort';
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
}

/** Generates one call to one of `candidates` on `sequence`, pushing tool_call events as it goes. */
export async function generateToolCall(
  m: LoadedModel,
  sequence: LlamaContextSequence,
  req: GenerateRequest,
  signal: CancelSignal,
  rendered: RenderedPrompt,
  candidates: FunctionToolDef[],
  push: (e: GenerateEvent) => void,
): Promise<ToolCallOutcome> {
  const sampling = {
    temperature: req.temperature,
    topP: req.topP,
    presencePenalty: req.presencePenalty,
    frequencyPenalty: req.frequencyPenalty,
  };
  let outputTokens = 0;
  let first: CompletionResult | undefined;
  let chosen = candidates[0]!;

  if (candidates.length > 1) {
    const prompt = LlamaText([rendered.text, functionCallPrefix(m.chatWrapper)]).tokenize(m.model.tokenizer);
    first = await runCompletion({
      ...sampling,
      model: m.model,
      sequence,
      prompt,
      signal,
      maxTokens: 256, // names are short; the grammar ends the name well before this
      grammar: await m.grammars.forToolName(candidates.map((t) => t.name)),
      onText: () => {},
    });
    outputTokens += first.outputTokens;
    if (first.reason === 'abort') return { reason: 'abort', inputTokens: first.inputTokens, cachedTokens: first.cachedTokens, outputTokens };
    chosen = candidates.find((t) => t.name === first!.text.trim()) ?? chosen;
  }

  const prompt = LlamaText([rendered.text, functionCallPrefix(m.chatWrapper, chosen.name)]).tokenize(m.model.tokenizer);
  const grammar = await m.grammars.forToolArguments(chosen);
  push({ type: 'tool_call_start', index: 0, id: newCallId(), name: chosen.name });
  const remaining = req.maxOutputTokens === undefined ? undefined : Math.max(1, req.maxOutputTokens - outputTokens);
  const args = await runCompletion({
    ...sampling,
    model: m.model,
    sequence,
    prompt,
    signal,
    maxTokens: remaining,
    grammar,
    onText: (delta) => push({ type: 'tool_call_delta', index: 0, delta }),
  });
  outputTokens += args.outputTokens;
  return {
    reason: args.reason === 'stop' ? 'tool_calls' : args.reason,
    inputTokens: first?.inputTokens ?? args.inputTokens,
    cachedTokens: first?.cachedTokens ?? args.cachedTokens,
    outputTokens,
  };
}
