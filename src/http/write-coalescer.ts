// Writes made during one turn of the event loop leave in one system call. A stream's events come in
// bursts (one upstream read yields several of them, and the response's end follows in a later tick of
// the same turn), and every write to a TCP socket is a system call whose cost rivals the whole JSON
// work of an event. The first write of a turn corks the socket; the end of the turn (setImmediate: after
// the turn's I/O callbacks) uncorks it. What a client receives is unchanged, only how it is packed:
// nothing waits past the turn in which it was written.
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export class WriteCoalescer {
  private held = false;

  /** `open`: false once the target is finished (an ended response is uncorked by end() itself). */
  constructor(private readonly target: Corkable, private readonly open: () => boolean) {}

  /** Call before a write: it waits for the end of this loop turn, with every other write of the turn. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    this.target.cork();
    setImmediate(this.release);
  }

  /** Sends what is held now (before waiting for 'drain' or a write callback, which need it sent). */
  readonly release = (): void => {
    if (!this.held) return;
    this.held = false;
    if (this.open()) this.target.uncork();
  };
}
