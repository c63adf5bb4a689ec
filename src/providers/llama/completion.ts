// The token loop: evaluates a prompt on one context sequence and streams the continuation.
// Why at the sequence level (not LlamaChat): `evaluateWithMetadata` gives each sampled token's real
// probability distribution (needed for logprobs), lets us check the abort signal between every token,
// and lets prompts reuse whatever prefix the sequence already holds from its previous request.

import { randomInt } from 'node:crypto';
import type { LlamaContextSequence, LlamaGrammar, LlamaModel, LlamaText, Token } from 'node-llama-cpp';
import { LlamaGrammarEvaluationState } from 'node-llama-cpp';
import { ProviderError, type TokenLogprob } from '../types.js';
import type { TokenInspector } from './logprobs.js';
import { StopDetector, type Piece } from './stop-detector.js';
import type { ThoughtSplitter } from './thought-splitter.js';
import type { CancelSignal } from '../../util/cancel.js';

export interface SamplingOptions {
  temperature?: number;
  topP?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
}

export interface CompletionParams extends SamplingOptions {
  model: LlamaModel;
  sequence: LlamaContextSequence;
  prompt: Token[];
  signal: CancelSignal;
  maxTokens?: number;
  grammar?: LlamaGrammar;
  /** Chat-template end-of-turn markers; ignored while a grammar constrains the output. */
  stopTriggers?: readonly LlamaText[];
  /** Up to this many alternatives per token when defined (0 = only the chosen token's logprob). */
  logprobs?: { top: number; inspector: TokenInspector };
  onText(delta: string, logprobs: TokenLogprob[] | undefined): void;
  /** The chat format has a thought segment: its text goes to `onReasoning` instead of `onText`. */
  thought?: ThoughtParams;
}

export interface ThoughtParams {
  splitter: ThoughtSplitter<TokenLogprob>;
  /** Thought tokens allowed; then the engine writes `closeTokens` itself and the answer follows. */
  budget?: number;
  closeTokens: Token[];
  /** Special tokens that are part of a marker: rendered as text so the splitter can see them. */
  markerTokens: ReadonlySet<Token>;
  onReasoning(delta: string): void;
}

export interface CompletionResult {
  /**
   * 'length': `maxTokens` were generated; 'context_length': the context window filled first (a limit
   * of the server, not of the request); 'abort' when the signal fired; the caller decides how to report it.
   */
  reason: 'stop' | 'length' | 'context_length' | 'abort';
  text: string;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  /** Generated tokens that were part of a thought segment. */
  reasoningTokens: number;
}

/** Splits stop triggers into plain-text markers and single special tokens (e.g. `<|im_end|>`). */
function resolveStops(model: LlamaModel, triggers: readonly LlamaText[]): { texts: string[]; tokens: Set<Token> } {
  const texts: string[] = [];
  const tokens = new Set<Token>();
  for (const trigger of triggers) {
    if (trigger.values.every((v) => typeof v === 'string')) {
      const s = trigger.values.join('');
      if (s) texts.push(s);
      continue;
    }
    const toks = trigger.tokenize(model.tokenizer);
    if (toks.length === 1) tokens.add(toks[0]!);
  }
  return { texts, tokens };
}

/** The plain-text part of a grammar's stop trigger (they are plain text for the built-in JSON grammars). */
function plainText(t: string | LlamaText | readonly (string | Token)[]): string {
  if (typeof t === 'string') return t;
  const values: readonly unknown[] = Array.isArray(t) ? t : (t as LlamaText).values;
  return values.filter((v): v is string => typeof v === 'string').join('');
}

const MAX_UTF8_GROUP = 4;

export async function runCompletion(p: CompletionParams): Promise<CompletionResult> {
  const { model, sequence, prompt, signal } = p;
  const contextSize = sequence.contextSize;
  if (prompt.length === 0) throw new ProviderError('The prompt rendered to zero tokens', 400, false, 'invalid_request');
  if (prompt.length >= contextSize - 1)
    throw new ProviderError(
      `The prompt is ${prompt.length} tokens but the context window is ${contextSize} tokens`,
      400,
      false,
      'context_length_exceeded',
    );

  // Reuse the longest prefix already evaluated in this sequence; at least one token must be evaluated
  // to produce logits for the first new token.
  await sequence.adaptStateToTokens(prompt.slice(0, -1), false);
  const cachedTokens = sequence.nextTokenIndex;
  const input = prompt.slice(cachedTokens);

  const grammar = p.grammar;
  const stops = grammar
    ? { texts: grammar.stopGenerationTriggers.map(plainText).filter(Boolean), tokens: new Set<Token>() }
    : resolveStops(model, p.stopTriggers ?? []);
  const detector = new StopDetector<TokenLogprob>(stops.texts, grammar?.trimWhitespaceSuffix ?? false);

  // A generated BOS starts a new document, so the reply is over: some models (stories260K, trained as
  // llama2.c's are) end a text that way and never generate EOS.
  const bos = model.tokens.bos;
  const generated: Token[] = [];
  let text = '';
  let carried: TokenLogprob[] = []; // logprobs of tokens whose text is empty, sent with the next delta
  const emitText = (pieces: Piece<TokenLogprob>[]) => {
    if (pieces.length === 0) return;
    const delta = pieces.map((x) => x.text).join('');
    const lps = p.logprobs ? [...carried, ...pieces.flatMap((x) => x.payload)] : undefined;
    if (delta === '') {
      if (lps) carried = lps;
      return;
    }
    carried = [];
    text += delta;
    p.onText(delta, lps);
  };
  const thought = p.thought;
  const emit = (pieces: Piece<TokenLogprob>[]) => {
    if (!thought) return emitText(pieces);
    for (const piece of pieces) route(thought.splitter.push(piece));
  };
  const route = (parts: ReturnType<ThoughtSplitter<TokenLogprob>['push']>) => {
    for (const part of parts) {
      if (part.kind === 'reasoning') thought!.onReasoning(part.text);
      else emitText([part]);
    }
  };
  let reasoningTokens = 0;

  // Tokens of a possibly incomplete UTF-8 character, decoded together once complete.
  let group: Token[] = [];
  let groupLogprobs: TokenLogprob[] = [];
  const penalties = (p.presencePenalty ?? 0) !== 0 || (p.frequencyPenalty ?? 0) !== 0;
  const wantProbabilities = !!p.logprobs && p.logprobs.top > 0;

  const yieldEog = thought !== undefined && [...thought.markerTokens].some((t) => model.isEogToken(t));
  const iterator = sequence.evaluateWithMetadata(
    input,
    { confidence: !!p.logprobs, probabilities: wantProbabilities },
    {
      // OpenAI defaults: temperature 1, top_p 1, no top-k.
      temperature: p.temperature ?? 1,
      topP: p.topP ?? 1,
      topK: 0,
      // node-llama-cpp's default seed is the current second, which would give identical samples to
      // identical concurrent prompts; every request gets its own.
      seed: randomInt(0x7fffffff),
      grammarEvaluationState: grammar ? new LlamaGrammarEvaluationState({ model, grammar }) : undefined,
      yieldEogToken: yieldEog,
      repeatPenalty: penalties
        ? {
            punishTokens: () => generated.slice(-256),
            maxPunishTokens: 256,
            penalty: 1, // no multiplicative penalty: presence/frequency are additive like OpenAI's
            presencePenalty: p.presencePenalty ?? 0,
            frequencyPenalty: p.frequencyPenalty ?? 0,
          }
        : undefined,
    },
  );

  // An end-of-generation token that is also a marker (Harmony's `<|end|>`) ends a thought, not the turn.
  const endsTurn = (token: Token) =>
    token === bos || stops.tokens.has(token) || (yieldEog && model.isEogToken(token) && !(thought!.splitter.inThought && thought!.markerTokens.has(token)));
  let reason: CompletionResult['reason'] = 'stop';
  let feed: Token[] | undefined; // tokens to evaluate instead of the one just sampled
  try {
    for (;;) {
      const step = await iterator.next(feed);
      feed = undefined;
      if (step.done) break;
      const out = step.value;
      if (signal.aborted) {
        reason = 'abort';
        break;
      }
      const token = out.token;
      if (endsTurn(token)) break;
      generated.push(token);

      group.push(token);
      if (p.logprobs) {
        const o = out as { confidence?: number; probabilities?: Map<Token, number> };
        const previous = generated.slice(Math.max(0, generated.length - 9), -1);
        groupLogprobs.push(p.logprobs.inspector.entry(token, o.confidence, o.probabilities, p.logprobs.top, previous));
      }
      const groupStart = generated.length - group.length;
      const marker = thought !== undefined && group.some((t) => thought.markerTokens.has(t));
      const groupText = model.detokenize(group, marker, generated.slice(Math.max(0, groupStart - 8), groupStart));
      if (!groupText.endsWith('\uFFFD') || group.length >= MAX_UTF8_GROUP || model.isSpecialToken(token)) {
        const { emit: ready, stopped } = detector.push({ text: groupText, payload: groupLogprobs });
        const size = group.length;
        group = [];
        groupLogprobs = [];
        emit(ready);
        if (stopped) break;
        if (thought?.splitter.inThought) {
          reasoningTokens += size;
          if (thought.budget !== undefined && reasoningTokens >= thought.budget && thought.closeTokens.length > 0) {
            // Out of budget: what is held back is still thought; the close marker is evaluated after
            // this token as if the model had written it, and the answer follows.
            emit(detector.flush());
            route(thought.splitter.closeThought());
            feed = [token, ...thought.closeTokens];
          }
        }
      }

      if (p.maxTokens !== undefined && generated.length >= p.maxTokens) {
        reason = 'length';
        break;
      }
      if (sequence.nextTokenIndex >= contextSize - 1) {
        reason = 'context_length';
        break;
      }
    }
    if (reason !== 'abort' && signal.aborted) reason = 'abort';
    if (reason !== 'abort') {
      if (group.length > 0) {
        const marker = thought !== undefined && group.some((t) => thought.markerTokens.has(t));
        emit(detector.push({ text: model.detokenize(group, marker), payload: groupLogprobs }).emit);
      }
      emit(detector.flush());
      if (thought) route(thought.splitter.flush());
    }
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw new ProviderError(
      `llama.cpp generation failed: ${err instanceof Error ? err.message : String(err)}`,
      500,
      false,
      'generation_failed',
    );
  } finally {
    // Iterated by hand (to feed it tokens), so it is not closed by a `for await` on the way out.
    await iterator.return().catch(() => {});
  }

  return { reason, text, inputTokens: prompt.length, cachedTokens, outputTokens: generated.length, reasoningTokens };
}
