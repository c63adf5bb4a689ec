// Writes usage-ledger rows off the request path: `record` only pushes onto an in-process buffer; the
// buffer goes to the store in one transaction every FLUSH_MS or once it holds MAX_ROWS rows (the group
// commit idea of responses/flusher.ts), and `close` writes what is left (shutdown, after the HTTP server
// has finished its requests). A failed write keeps its rows for the next flush, up to MAX_PENDING; past
// that the oldest are dropped (and logged) rather than growing without bound while the store is down.
import type { LedgerRow, UsageStore } from '../store/usage.js';

const FLUSH_MS = 100;
const MAX_ROWS = 500;
const MAX_PENDING = 100_000;

export class UsageLedger {
  private buf: LedgerRow[] = [];
  /** The buffer's rows by key × end user × model × second × stream (see record). */
  private index = new Map<string, LedgerRow>();
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;

  constructor(private readonly store: UsageStore, private readonly warn: (err: unknown, msg: string) => void) {}

  record(row: LedgerRow): void {
    // Completions of one key, end user, model and second (streamed or not) share a row: its request count
    // and token sums grow. Under load that is a handful of rows per flush instead of one per request.
    const key = `${row.tenant}\0${row.endUser}\0${row.model}\0${row.createdAt}\0${row.stream ? 1 : 0}`;
    const same = this.index.get(key);
    if (same) {
      same.requests += row.requests;
      same.inputTokens += row.inputTokens;
      same.outputTokens += row.outputTokens;
      same.cachedTokens += row.cachedTokens;
      return;
    }
    this.index.set(key, row);
    this.buf.push(row);
    // A full buffer is written on the next turn of the event loop, not inside this request's call (the
    // embedded store writes synchronously).
    if (this.buf.length >= MAX_ROWS) {
      if (!this.soon) this.soon = setImmediate(() => { this.soon = undefined; void this.flush(); });
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes the buffer now (after any write in progress); never throws. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    const rows = this.buf;
    if (!rows.length) return;
    this.buf = [];
    this.index = new Map();
    this.writing = this.store.insert(rows).then(() => {}, (err) => {
      this.buf = rows.concat(this.buf);
      const over = this.buf.length - MAX_PENDING;
      if (over > 0) this.buf.splice(0, over);
      this.warn(err, `could not write ${rows.length} usage ledger rows${over > 0 ? `; dropped the ${over} oldest` : ''}; retrying`);
      if (!this.timer) {
        this.timer = setTimeout(() => void this.flush(), FLUSH_MS * 10);
        this.timer.unref();
      }
    }).finally(() => { this.writing = undefined; });
    await this.writing;
  }

  /** Writes what is buffered; one retry if the first write fails. */
  async close(): Promise<void> {
    await this.flush();
    if (this.buf.length) await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
