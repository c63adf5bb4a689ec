// One model turn: validate, render, wait for a sequence, generate, report usage and finish.
// Runs as an independent producer task that pushes events into a channel (see channel.ts), so the
// sequence is released on every path — finish, abort, error, or a consumer that stops reading.
//
// Abort contract: when `req.signal` aborts (or the consumer calls `return()` on the iterator), the
// producer stops within one token — also while still queued for a sequence — then emits `usage` for
// what was generated so far and `finish` with reason 'stop', and ends. Nothing is thrown for aborts.
// Real failures (bad request, missing model, llama.cpp errors) end the iterator with a ProviderError.

import { ProviderError, type FinishReason, type GenerateEvent, type GenerateRequest, type TokenLogprob, type Usage } from '../types.js';
import { EventChannel } from './channel.js';
import { runCompletion } from './completion.js';
import { renderPrompt } from './prompt.js';
import type { LlamaRuntime } from './runtime.js';
import { forcedTools, generateToolCall } from './tool-calls.js';
import { markerTokens, thoughtFormatOf, thoughtStart, wrapperForEffort } from './thought-format.js';
import { ThoughtSplitter } from './thought-splitter.js';
import { LlamaText } from 'node-llama-cpp';
import { Cancel, type CancelSignal } from '../../util/cancel.js';

/** Consecutive deltas (with their logprobs) waiting for the consumer become one delta. */
function mergeDeltas(last: GenerateEvent, next: GenerateEvent): GenerateEvent | undefined {
  if (last.type === 'tool_call_delta' && next.type === 'tool_call_delta' && last.index === next.index)
    return { type: 'tool_call_delta', index: last.index, delta: last.delta + next.delta };
  if (last.type === 'reasoning' && next.type === 'reasoning') return { type: 'reasoning', delta: last.delta + next.delta };
  if (last.type !== 'text' || next.type !== 'text') return undefined;
  const logprobs = last.logprobs || next.logprobs ? [...(last.logprobs ?? []), ...(next.logprobs ?? [])] : undefined;
  return { type: 'text', delta: last.delta + next.delta, ...(logprobs ? { logprobs } : {}) };
}

const isDelta = (e: GenerateEvent) => e.type === 'text' || e.type === 'tool_call_delta' || e.type === 'reasoning';

/**
 * Starts generation in the background and returns its event stream. Deltas reach the consumer at
 * most once per `streamIntervalMs` (faster tokens are merged; see channel.ts).
 */
export function startGeneration(runtime: LlamaRuntime, req: GenerateRequest, streamIntervalMs = 0): AsyncIterable<GenerateEvent> {
  // One cheap signal for both ways a turn stops: the request's signal or a consumer that stops reading.
  // Nothing here hands it to node-llama-cpp, so no real AbortSignal is needed.
  const signal = new Cancel();
  const onAbort = () => signal.abort(req.signal.reason);
  if (req.signal.aborted) onAbort();
  else req.signal.addEventListener('abort', onAbort);
  const channel = new EventChannel<GenerateEvent>({
    onCancel: () => signal.abort(),
    coalesce: mergeDeltas,
    holdable: isDelta,
    intervalMs: streamIntervalMs,
  });
  produce(runtime, req, signal, (e) => channel.push(e)).finally(() => req.signal.removeEventListener('abort', onAbort)).then(
    () => channel.close(),
    (err: unknown) =>
      channel.fail(
        err instanceof ProviderError
          ? err
          : new ProviderError(`llama provider failed: ${err instanceof Error ? err.message : String(err)}`, 500, false),
      ),
  );
  return channel;
}

async function produce(
  runtime: LlamaRuntime,
  req: GenerateRequest,
  signal: CancelSignal,
  push: (e: GenerateEvent) => void,
): Promise<void> {
  const finish = (usage: Usage, reason: FinishReason) => {
    push({ type: 'usage', usage });
    push({ type: 'finish', reason });
  };
  if (req.maxOutputTokens !== undefined && req.maxOutputTokens < 1)
    throw new ProviderError('max_output_tokens must be at least 1', 400, false, 'invalid_request');

  const m = await runtime.load();
  const candidates = forcedTools(req);
  // tool_choice "none": the model must not call tools, so they are not even described to it.
  const promptTools = req.toolChoice === 'none' ? undefined : req.tools;
  const wrapper = wrapperForEffort(m.chatWrapper, req.reasoningEffort);
  const rendered = renderPrompt(wrapper, req.messages, promptTools, req.continueFinal);
  const grammar = candidates ? undefined : await m.grammars.forResponseFormat(req.responseFormat);
  // A thought segment in the chat format: how this response's thought starts (README "Reasoning on
  // the embedded engine"); under a grammar the answer comes at once and nothing is split.
  const format = rendered.plain ? undefined : thoughtFormatOf(wrapper);
  const answerNow = candidates !== undefined || grammar !== undefined;
  // A continued answer goes on where its text stopped: no new thought segment in front of it.
  const start = format && !req.continueFinal && thoughtStart(format, req.reasoningEffort, req.maxOutputTokens, answerNow);
  if (start) rendered.text = LlamaText([rendered.text, start.append]);
  const prompt = rendered.text.tokenize(m.model.tokenizer);

  // Prefer the free sequence already holding the longest prefix of this prompt (multi-turn chats).
  const sequence = await m.pool.acquire(signal, (s) => s.compareContextTokens(prompt).firstDifferentIndex);
  if (!sequence) {
    // Aborted (or provider closed) while queued: nothing was evaluated.
    if (!signal.aborted) throw new ProviderError('The llama provider is closed', 503, false, 'provider_closed');
    finish({ inputTokens: prompt.length, outputTokens: 0 }, 'stop');
    return;
  }
  try {
    if (candidates) {
      const r = await generateToolCall(m, sequence, req, signal, rendered, candidates, push);
      finish(
        { inputTokens: r.inputTokens, outputTokens: r.outputTokens, cachedTokens: r.cachedTokens },
        r.reason === 'abort' ? 'stop' : r.reason,
      );
      return;
    }
    const wantLogprobs = req.logprobs === true;
    const thought = format && start && !answerNow
      ? {
          splitter: new ThoughtSplitter<TokenLogprob>(format.markers, start.open),
          budget: start.budget,
          closeTokens: format.close.tokenize(m.model.tokenizer, 'trimLeadingSpace'),
          markerTokens: markerTokens(m.model, format),
          onReasoning: (delta: string) => push({ type: 'reasoning', delta }),
        }
      : undefined;
    const r = await runCompletion({
      model: m.model,
      sequence,
      prompt,
      signal,
      maxTokens: req.maxOutputTokens,
      temperature: req.temperature,
      topP: req.topP,
      presencePenalty: req.presencePenalty,
      frequencyPenalty: req.frequencyPenalty,
      grammar,
      stopTriggers: rendered.stopTriggers,
      logprobs: wantLogprobs
        ? { top: Math.max(0, Math.min(20, Math.floor(req.topLogprobs ?? 0))), inspector: m.inspector }
        : undefined,
      onText: (delta, logprobs) => push(logprobs ? { type: 'text', delta, logprobs } : { type: 'text', delta }),
      thought,
    });
    finish(
      {
        inputTokens: r.inputTokens, outputTokens: r.outputTokens, cachedTokens: r.cachedTokens,
        ...(thought ? { reasoningTokens: r.reasoningTokens } : {}),
      },
      r.reason === 'abort' ? 'stop' : r.reason,
    );
  } finally {
    m.pool.release(sequence);
  }
}
