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
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(private readonly store: UsageStore, private readonly warn: (err: unknown, msg: string) => void) {}

  record(row: LedgerRow): void {
    this.buf.push(row);
    if (this.buf.length >= MAX_ROWS) void this.flush();
    else if (!this.timer) {
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
