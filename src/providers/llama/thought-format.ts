// What a chat wrapper declares about its thought segment (node-llama-cpp's `settings.segments.thought`),
// in the terms respd's own token loop needs: the markers to split on, the text that closes a thought
// early, and whether the thought is already open when generation starts.
import { HarmonyChatWrapper, LlamaText, SpecialTokensText, type ChatWrapper, type LlamaModel, type Token } from 'node-llama-cpp';
import type { ReasoningEffort } from '../types.js';
import type { ThoughtMarkers } from './thought-splitter.js';

export interface ThoughtFormat {
  /** Opens a thought; empty when only the template can (a prefix it pre-fills, `openedOnStart`). */
  prefix: LlamaText;
  /** Closes it, plus what the format writes between a thought and the answer (Harmony's final channel). */
  close: LlamaText;
  markers: ThoughtMarkers;
  /**
   * How a response starts: 'template' — the rendered prompt already ends inside the thought;
   * 'engine' — the format opens one on every response, so the engine appends the prefix (as LlamaChat
   * does for `openOnResponseStart`); 'model' — the model opens one itself, if it thinks at all.
   */
  opens: 'template' | 'engine' | 'model';
}

const text = (t: LlamaText) => t.values.map((v) => (typeof v === 'string' ? v : v instanceof SpecialTokensText ? v.value : '')).join('');

export function thoughtFormatOf(wrapper: ChatWrapper): ThoughtFormat | undefined {
  const thought = wrapper.settings.segments?.thought;
  if (!thought) return undefined;
  const templateOpened = !LlamaText.isLlamaText(thought.prefix) && typeof thought.prefix === 'object';
  const prefix = templateOpened ? LlamaText([]) : LlamaText(thought.prefix as string | LlamaText);
  const suffix = LlamaText(thought.suffix ?? '');
  if (wrapper instanceof HarmonyChatWrapper) {
    // gpt-oss writes each channel as its own message: `<|channel|>analysis<|message|>…<|end|>` then
    // `<|start|>assistant<|channel|>final<|message|>…`. The headers of the other channels are framing.
    const final = LlamaText(new SpecialTokensText('<|start|>assistant<|channel|>final<|message|>'));
    return {
      prefix,
      close: LlamaText([suffix, final]),
      markers: {
        open: text(prefix),
        close: text(suffix),
        drop: ['<|start|>assistant', '<|channel|>final<|message|>', '<|channel|>commentary<|message|>', '<|end|>'],
      },
      opens: 'model',
    };
  }
  return {
    prefix,
    close: suffix,
    markers: { open: text(prefix), close: text(suffix), drop: [] },
    opens: templateOpened ? 'template' : thought.openOnResponseStart ? 'engine' : 'model',
  };
}

/**
 * Thought tokens allowed per `reasoning.effort` before the engine closes the thought itself and the
 * model goes on with its answer (README "Reasoning on the embedded engine"). With max_output_tokens
 * set, a thought also takes at most a share of them, so the answer always has room.
 */
export const THOUGHT_BUDGETS: Record<Exclude<ReasoningEffort, 'none'>, { tokens?: number; share?: number }> = {
  minimal: { tokens: 128, share: 1 / 8 },
  low: { tokens: 512, share: 1 / 4 },
  medium: { tokens: 2048, share: 1 / 2 },
  high: { tokens: 8192, share: 3 / 4 },
  xhigh: {},
};

/** The thought-token budget of a request; undefined: the model decides. */
export function thoughtBudget(effort: ReasoningEffort | undefined, maxOutputTokens?: number): number | undefined {
  if (effort === undefined) return undefined;
  if (effort === 'none') return 0;
  const { tokens, share } = THOUGHT_BUDGETS[effort];
  const ofMax = maxOutputTokens !== undefined && share !== undefined ? Math.max(1, Math.floor(maxOutputTokens * share)) : undefined;
  return tokens === undefined ? ofMax : ofMax === undefined ? tokens : Math.min(tokens, ofMax);
}

/** Harmony's own effort levels (its system prompt says `Reasoning: low|medium|high`). */
export function harmonyEffort(effort: ReasoningEffort): 'low' | 'medium' | 'high' {
  if (effort === 'none' || effort === 'minimal' || effort === 'low') return 'low';
  return effort === 'medium' ? 'medium' : 'high';
}

/** A wrapper for this request: Harmony states the effort in its system prompt, so it gets its own copy. */
export function wrapperForEffort(wrapper: ChatWrapper, effort: ReasoningEffort | undefined): ChatWrapper {
  if (effort === undefined || !(wrapper instanceof HarmonyChatWrapper)) return wrapper;
  const level = harmonyEffort(effort);
  if (wrapper.reasoningEffort === level) return wrapper;
  const copy = Object.create(Object.getPrototypeOf(wrapper) as object) as HarmonyChatWrapper;
  Object.assign(copy, wrapper, { reasoningEffort: level });
  return copy;
}

/** Tokens whose text is part of a marker: the token loop renders them as text so the splitter sees them. */
export function markerTokens(model: LlamaModel, format: ThoughtFormat): Set<Token> {
  const tokens = new Set<Token>();
  const texts = [format.prefix, format.close, ...format.markers.drop.map((d) => LlamaText(new SpecialTokensText(d)))];
  for (const t of texts) for (const tok of t.tokenize(model.tokenizer)) if (model.isSpecialToken(tok)) tokens.add(tok);
  return tokens;
}

/** How this response's thought starts: text appended to the prompt, and whether the thought is open. */
export interface ThoughtStart {
  append: LlamaText;
  open: boolean;
  /** Thought tokens allowed (undefined: the model decides). */
  budget?: number;
}

/**
 * `answerNow`: the output is constrained by a grammar (a JSON format, a forced call), so the answer
 * must come at once: a thought the format opens is closed in the prompt, and nothing is split.
 * Effort `none` does the same where the format can close a thought, and the splitter stays on in
 * case the model opens another (the budget of 0 closes it again).
 */
export function thoughtStart(
  format: ThoughtFormat,
  effort: ReasoningEffort | undefined,
  maxOutputTokens: number | undefined,
  answerNow: boolean,
): ThoughtStart | undefined {
  const budget = thoughtBudget(effort, maxOutputTokens);
  const canClose = format.close.values.length > 0;
  if ((answerNow || budget === 0) && canClose) {
    const append =
      format.opens === 'template' ? format.close
      : format.opens === 'engine' || format.prefix.values.length > 0 ? LlamaText([format.prefix, format.close])
      : LlamaText([]);
    return answerNow ? { append, open: false, budget: 0 } : { append, open: false, budget };
  }
  if (format.opens === 'template') return { append: LlamaText([]), open: true, budget };
  if (format.opens === 'engine') return { append: format.prefix, open: true, budget };
  return { append: LlamaText([]), open: false, budget };
}
