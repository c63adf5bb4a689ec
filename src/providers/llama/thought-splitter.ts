// Splits a model's streamed text into its thought segment (reasoning) and the rest (the answer).
// Why text-level: the markers (`<think>`/`</think>`, Harmony's `<|channel|>analysis<|message|>`…) are
// one special token in some GGUFs and several plain-text tokens in others, and a token can end
// half-way into a marker; the completion loop renders marker tokens as their text, so one matcher
// serves both. Text that could still become a marker is held back until it completes one (then it
// is removed and the state switches) or diverges (then it is released), as the stop detector does.
import { longestPrefixAtEnd, type Piece } from './stop-detector.js';

export interface ThoughtMarkers {
  /** Opens a thought ('' when only the template opens it, e.g. a prefix pre-filled in the prompt). */
  open: string;
  /** Closes a thought ('' when the format has no end marker). */
  close: string;
  /** Framing removed wherever it appears, e.g. Harmony's `<|start|>assistant<|channel|>final<|message|>`. */
  drop: readonly string[];
}

export interface SplitPiece<P> {
  kind: 'text' | 'reasoning';
  text: string;
  payload: P[];
}

export class ThoughtSplitter<P> {
  private text = '';
  /** Payloads of the pending pieces, with the offset in `text` where each piece ends. */
  private payloads: { end: number; payload: P[] }[] = [];
  /** Leading whitespace after a marker is framing (`<think>\n`, `</think>\n\n`), not content. */
  private trimStart = true;

  constructor(private readonly markers: ThoughtMarkers, public inThought: boolean) {}

  private active(): string[] {
    const edge = this.inThought ? this.markers.close : this.markers.open;
    return edge ? [edge, ...this.markers.drop] : [...this.markers.drop];
  }

  /** Adds a piece; returns what is now known to be reasoning or text, in order. */
  push(piece: Piece<P>): SplitPiece<P>[] {
    this.text += piece.text;
    this.payloads.push({ end: this.text.length, payload: piece.payload });
    const out: SplitPiece<P>[] = [];
    for (;;) {
      const markers = this.active();
      let at = -1;
      let marker = '';
      for (const m of markers) {
        const i = this.text.indexOf(m);
        if (i >= 0 && (at < 0 || i < at || (i === at && m.length > marker.length))) {
          at = i;
          marker = m;
        }
      }
      if (at < 0) {
        let safe = this.text.length;
        for (const m of markers) safe = Math.min(safe, this.text.length - longestPrefixAtEnd(this.text, m));
        this.take(safe, out);
        return out;
      }
      this.take(at, out);
      this.skip(marker.length);
      if (marker === (this.inThought ? this.markers.close : this.markers.open)) {
        this.inThought = !this.inThought;
        this.trimStart = true;
      }
    }
  }

  /** The stream ended: everything pending is content of the current kind. */
  flush(): SplitPiece<P>[] {
    const out: SplitPiece<P>[] = [];
    this.take(this.text.length, out);
    return out;
  }

  /**
   * Ends the thought from outside (its token budget ran out and the engine wrote the close marker
   * itself): what is pending belongs to it, and what follows is the answer.
   */
  closeThought(): SplitPiece<P>[] {
    const out = this.flush();
    this.inThought = false;
    this.trimStart = true;
    return out;
  }

  /** Emits the first `cut` characters as the current kind (with the payloads of pieces ending there). */
  private take(cut: number, out: SplitPiece<P>[]): void {
    if (cut <= 0) return;
    let text = this.text.slice(0, cut);
    const payload = this.shiftPayloads(cut);
    this.shift(cut);
    if (this.trimStart) {
      text = text.replace(/^\s+/, '');
      if (!text) {
        if (payload.length) this.carry(payload);
        return;
      }
      this.trimStart = false;
    }
    const kind = this.inThought ? 'reasoning' : 'text';
    const last = out.at(-1);
    if (last && last.kind === kind) {
      last.text += text;
      last.payload.push(...payload);
    } else out.push({ kind, text, payload });
  }

  /** Removes a marker: its pieces' payloads go with the next content. */
  private skip(n: number): void {
    const payload = this.shiftPayloads(n);
    this.shift(n);
    if (payload.length) this.carry(payload);
  }

  private carry(payload: P[]): void {
    if (this.payloads.length) this.payloads[0]!.payload.unshift(...payload);
    else this.payloads.push({ end: 0, payload });
  }

  private shiftPayloads(cut: number): P[] {
    const out: P[] = [];
    while (this.payloads.length && this.payloads[0]!.end <= cut) out.push(...this.payloads.shift()!.payload);
    return out;
  }

  private shift(n: number): void {
    this.text = this.text.slice(n);
    for (const p of this.payloads) p.end = Math.max(0, p.end - n);
  }
}
