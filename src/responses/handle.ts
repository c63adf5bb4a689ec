// What a transport gets for one response: its events after any sequence number (or only the terminal
// one), the settled Response, and a way to leave. Create, retrieve, resume and polling are this one
// handle seen from different sides; SSE (and any other transport) only presents what it yields.
import type { EventHub } from '../bus/types.js';
import type { ResponseRecord, Store } from '../store/types.js';
import { isTerminalStatus } from '../wire/status.js';
import type { ResponseObject } from '../wire/types.js';
import type { Cancel, CancelSignal } from '../util/cancel.js';
import { presentResponse, presentStoredResponse, streamRewrite } from '../wire/include.js';
import type { LiveLog } from './live-log.js';
import { overlayMetadata, withMetadata, type Metadata } from './metadata.js';
import { readResponseLines, type SeqLine } from './stream-reader.js';
import { WEB_SEARCH_TYPES } from '../tools/web-search/tool.js';

export interface HandleDeps {
  store: Store;
  hub: EventHub<LiveLog>;
}

/** A foreground run this handle started: its client leaving stops it. */
export interface ForegroundRun {
  done: Promise<void>;
  cancel: Cancel;
}

export class ResponseHandle {
  constructor(
    private readonly deps: HandleDeps,
    readonly id: string,
    /** The stored record as read when the handle was made (absent for a response not stored). */
    private rec: ResponseRecord | undefined,
    /** Its live log, when it runs (or is queued) on this instance. */
    private readonly live: LiveLog | undefined,
    /** `include` of the request that made the handle (create) or reads through it (retrieve). */
    readonly include: string[],
    private readonly run?: ForegroundRun,
  ) {}

  /** Metadata updated since creation, if any (see responses/metadata.ts). */
  private metadata(): Metadata | undefined {
    if (this.live) return this.live.metadata;
    return this.rec?.metadata ? (JSON.parse(this.rec.metadata) as Metadata) : undefined;
  }

  /** The Response as it stands now, as this reader may see it. */
  current(): ResponseObject {
    if (this.live) return presentResponse(this.live.state, this.include);
    return presentResponse(withMetadata(JSON.parse(this.rec!.snapshot) as ResponseObject, this.metadata()), this.include);
  }

  /** How this reader's stream leaves out what it did not include (call before events(), which lets the snapshot go). */
  streamRewrite(): ((type: string, json: string) => string) | undefined {
    // `"file_search"` with its quotes is a JSON key or value, never text inside a string (quotes there are escaped).
    const tools = this.live?.state.tools;
    const fileSearch = tools ? tools.some((t) => t.type === 'file_search') : this.rec!.snapshot.includes('"file_search"');
    const webSearch = tools ? tools.some((t) => WEB_SEARCH_TYPES.has(t.type)) : this.rec!.snapshot.includes('"web_search');
    const codeInterpreter = tools ? tools.some((t) => t.type === 'code_interpreter') : this.rec!.snapshot.includes('"code_interpreter"');
    return streamRewrite(this.include, { fileSearch, webSearch, codeInterpreter });
  }

  get background(): boolean {
    return this.live?.state.background ?? this.rec!.background;
  }

  private get finished(): boolean {
    return this.live ? this.live.terminal : isTerminalStatus(this.rec!.status);
  }

  /**
   * Event lines with a sequence number above `startingAfter`, up to the terminal one. Without it: all of
   * them for a response still running, only the terminal event for a finished one.
   */
  events(startingAfter: number | undefined, signal: CancelSignal): AsyncIterable<SeqLine[]> {
    const end = this.live ? this.live.nextSeq : this.rec!.lastSeq + 1;
    const after = startingAfter ?? (this.finished ? end - 2 : -1);
    // Parsed once: a stored record's metadata cannot change under this reader.
    const stored = this.live ? undefined : this.metadata();
    const metadata = () => (this.live ? this.live.metadata : stored);
    // A stream can outlive this call by hours (or stall): it must not keep the stored snapshot, which is
    // as large as the response, alive with this handle. Events are all a stream reads from here on.
    if (this.rec) this.rec = { ...this.rec, snapshot: '{}', request: '{}' };
    const lines = readResponseLines(this.deps, this.id, after, signal);
    // Almost no response has its metadata updated: only those pay for the overlay. An update made while
    // this reader follows reaches the events still to come through the running log's state.
    return metadata() ? overlayMetadata(lines, metadata) : lines;
  }

  /**
   * The final Response once it is durable: a response reported finished is also committed (with its
   * conversation items), so a follow-up request that builds on it never races the group commit.
   */
  async settled(): Promise<ResponseObject> {
    if (this.run) await this.run.done;
    if (this.live) await this.live.durable();
    return this.current();
  }

  /** The same as JSON text; a stored finished response goes out as stored (see presentStoredResponse). */
  async settledJson(): Promise<string> {
    if (this.live?.terminal) await this.live.durable();
    if (this.live || this.rec!.metadata) return JSON.stringify(this.current());
    return presentStoredResponse(this.rec!.snapshot, this.include);
  }

  /** The client left: a foreground run stops (a background one keeps running for others to resume). */
  leave(): void {
    this.run?.cancel.abort('client_disconnected');
  }
}
