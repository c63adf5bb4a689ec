// Token text, raw bytes and log-probabilities for the OpenAI-style `logprobs` output.
// Why the vocabulary lookup: SentencePiece models emit multi-byte characters as several byte tokens
// (`<0xE2>`, `<0x9C>`, ...); detokenizing one of them alone yields U+FFFD, so their true byte value is
// read from the piece name. Other tokens' bytes are the UTF-8 of their text.

import type { LlamaModel, Token } from 'node-llama-cpp';
import type { TokenLogprob, TopLogprob } from '../types.js';

/** What OpenAI reports for "impossible" tokens; -Infinity is not representable in JSON. */
const MIN_LOGPROB = -9999;

export function toLogprob(p: number | undefined): number {
  if (p === undefined || !(p > 0)) return MIN_LOGPROB;
  return Math.max(MIN_LOGPROB, Math.log(p));
}

export class TokenInspector {
  private byteTokens: Map<Token, number> | undefined;

  constructor(private readonly model: LlamaModel) {}

  private byteOf(token: Token): number | undefined {
    if (!this.byteTokens) {
      this.byteTokens = new Map();
      const pieces = (this.model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly string[] } } }).tokenizer?.ggml
        ?.tokens;
      pieces?.forEach((piece, id) => {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        if (m) this.byteTokens!.set(id as Token, parseInt(m[1]!, 16));
      });
    }
    return this.byteTokens.get(token);
  }

  /** Text of one token as it reads after `previous` (keeps SentencePiece's leading space right). */
  text(token: Token, previous: readonly Token[]): string {
    return this.model.detokenize([token], false, previous.slice(-8));
  }

  bytes(token: Token, text: string): number[] {
    const b = this.byteOf(token);
    return b !== undefined ? [b] : [...Buffer.from(text, 'utf8')];
  }

  /**
   * One logprob entry for the sampled `token`. `probabilities` (sorted high to low, as node-llama-cpp
   * returns it) supplies the alternatives; they are the distribution the token was sampled from, i.e.
   * after temperature/top-p and grammar constraints.
   */
  entry(
    token: Token,
    confidence: number | undefined,
    probabilities: Map<Token, number> | undefined,
    topN: number,
    previous: readonly Token[],
  ): TokenLogprob {
    const text = this.text(token, previous);
    const top: TopLogprob[] = [];
    if (probabilities && topN > 0) {
      for (const [alt, p] of probabilities) {
        if (top.length >= topN) break;
        const altText = this.text(alt, previous);
        top.push({ token: altText, logprob: toLogprob(p), bytes: this.bytes(alt, altText) });
      }
    }
    return {
      token: text,
      logprob: toLogprob(confidence ?? probabilities?.get(token)),
      bytes: this.bytes(token, text),
      top_logprobs: top,
    };
  }
}
