// Finds stop sequences in streamed text without ever emitting part of one.
// Why: chat templates end a turn with text markers (e.g. "\n\n### Human:"), and JSON grammars end with
// "\n\n\n\n". Text that could still become a marker is held back until it either completes one (then it
// is dropped and generation stops) or diverges (then it is released). Text is kept in "pieces" - one per
// UTF-8-complete token group - so each released delta still carries its own tokens' logprobs.

export interface Piece<P> {
  text: string;
  payload: P[];
}

/**
 * Length of the longest proper prefix of `trigger` that `text` ends with (0 if none). Runs for every
 * token and every trigger, so it compares characters in place instead of slicing: the last character
 * of the text rules out almost every length at once.
 */
export function longestPrefixAtEnd(text: string, trigger: string): number {
  const last = text.charCodeAt(text.length - 1);
  for (let k = Math.min(trigger.length - 1, text.length); k > 0; k--) {
    if (trigger.charCodeAt(k - 1) !== last) continue;
    let i = 0;
    const from = text.length - k;
    while (i < k - 1 && text.charCodeAt(from + i) === trigger.charCodeAt(i)) i++;
    if (i === k - 1) return k;
  }
  return 0;
}

export class StopDetector<P> {
  private pending: Piece<P>[] = [];

  constructor(
    private readonly triggers: readonly string[],
    /** Hold back trailing whitespace and drop it at the end (grammar output is padded with newlines). */
    private readonly trimTrailingWhitespace = false,
  ) {}

  /** Adds a piece; returns the pieces that are now safe to emit, and whether a stop marker completed. */
  push(piece: Piece<P>): { emit: Piece<P>[]; stopped: boolean } {
    this.pending.push(piece);
    const text = this.pending.map((p) => p.text).join('');

    let stopAt = -1;
    for (const t of this.triggers) {
      const i = text.indexOf(t);
      if (i >= 0 && (stopAt < 0 || i < stopAt)) stopAt = i;
    }
    if (stopAt >= 0) {
      let cut = stopAt;
      if (this.trimTrailingWhitespace) cut = text.slice(0, cut).trimEnd().length;
      return { emit: this.take(cut, true), stopped: true };
    }

    let safe = text.length;
    for (const t of this.triggers) {
      const k = longestPrefixAtEnd(text, t);
      if (k > 0) safe = Math.min(safe, text.length - k);
    }
    if (this.trimTrailingWhitespace) safe = Math.min(safe, text.trimEnd().length);
    return { emit: this.take(safe, false), stopped: false };
  }

  /** Generation ended: release what is left (minus trailing whitespace when trimming). */
  flush(): Piece<P>[] {
    const text = this.pending.map((p) => p.text).join('');
    return this.take(this.trimTrailingWhitespace ? text.trimEnd().length : text.length, true);
  }

  /**
   * Removes and returns the pending pieces covering the first `cut` characters. With `splitLast`, a
   * piece straddling the cut is truncated (the stream is ending); otherwise it stays pending whole.
   */
  private take(cut: number, splitLast: boolean): Piece<P>[] {
    const out: Piece<P>[] = [];
    let pos = 0;
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      const end = pos + p.text.length;
      if (end <= cut) {
        out.push(this.pending.shift()!);
        pos = end;
        continue;
      }
      if (splitLast && pos < cut) out.push({ text: p.text.slice(0, cut - pos), payload: p.payload });
      break;
    }
    if (splitLast) this.pending = [];
    return out;
  }
}
