// Executes responses: foreground ones at once, background ones from the job queue. Holds the abort
// handle of every run on this instance so cancel, client disconnects and shutdown can stop it.
import type { Logger } from 'pino';
import type { ControlBus, EventHub, JobQueue } from '../bus/types.js';
import type { ProviderRouter, ResolvedModel } from '../providers/router.js';
import type { ChatMessage } from '../providers/types.js';
import type { AppendBatch, Owner, Store } from '../store/types.js';
import { isTerminalStatus } from '../wire/status.js';
import type { ForegroundRun } from './handle.js';
import type { ChainToolState } from '../tools/chain.js';
import { SleepRegistry } from '../tools/sleep/registry.js';
import type { FileSearchBackend } from '../tools/file-search/backend.js';
import type { WebSearchBackend } from '../tools/web-search/backend.js';
import type { CodeInterpreterBackend } from '../tools/code-interpreter/tool.js';
import type { ImagesBackend } from '../tools/image-generation/backend.js';
import type { Flusher } from './flusher.js';
import { LiveLog } from './live-log.js';
import { committedState, resumePlan, type Resume } from './continuation.js';
import { finalize, runResponse, type AbortReason, type Sampling } from './runner.js';
import { ENCRYPTED_REASONING } from '../wire/include.js';
import type { ReasoningSealer } from './sealed-reasoning.js';
import type { ResponseObject } from '../wire/types.js';
import { Cancel } from '../util/cancel.js';
import { metrics } from '../metrics/metrics.js';

/** What is stored with a response so any instance can (re-)run it. */
export interface RunRequest {
  include: string[];
  messages: ChatMessage[];
  /** The model settings the client sent (not the echoed defaults). */
  sampling?: Sampling;
  /** Whom encrypted reasoning is sealed for (set when `include` asks for it). */
  owner?: Owner;
  /** MCP list cache and approval answers of the chain (no credentials: those stay in memory). */
  tools?: ChainToolState;
  /** MCP servers whose headers were given; the run fails clearly if they are no longer in memory. */
  credentialLabels?: string[];
  /** Whose containers code_interpreter runs in (set when the tools include it). */
  toolOwner?: Owner;
}

/** How long shutdown waits for aborted runs to end. */
const ABORT_GRACE_MS = 1000;

export class Executor {
  private running = new Map<string, Cancel>();
  /** Runs here whose provider can continue them elsewhere (see drain). */
  private continuable = new Set<string>();
  /** Responses sleeping in a `sleep` tool call on this instance (woken by POST /wake). */
  readonly sleepers = new SleepRegistry();

  constructor(
    private readonly store: Store,
    private readonly hub: EventHub<LiveLog>,
    private readonly flusher: Flusher,
    private readonly router: ProviderRouter,
    private readonly queue: JobQueue,
    private readonly control: ControlBus,
    private readonly log: Logger,
    /** Seals and opens encrypted reasoning (include `reasoning.encrypted_content`). */
    readonly sealer: ReasoningSealer,
    /** Runs the file_search tool (vector stores); absent when the store has none. */
    private readonly fileSearch?: FileSearchBackend,
    /** Runs the web_search tool; absent when no search engine is configured. */
    private readonly webSearch?: WebSearchBackend,
    /** Runs the code_interpreter tool; absent when its sandbox is not configured or cannot run. */
    private readonly codeInterpreter?: CodeInterpreterBackend,
    /** Runs the image_generation tool; absent when no images endpoint is configured. */
    private readonly images?: ImagesBackend,
  ) {
    // Events the store has not taken within the commit timeout: a run here is stopped (failed,
    // store_unavailable); a log no run drives (queued) is ended the same way.
    flusher.onStall = (l) => {
      if (l.terminal || this.abort(l.id, 'store_unavailable')) return;
      finalize(l, { status: 'failed', error: { code: 'store_unavailable', message: 'The response store did not take this response\'s events in time (full, locked or unreachable).' } });
    };
    control.onMessage((m) => {
      if (m.kind === 'cancel') this.abort(m.id, 'cancelled');
      else if (m.kind === 'wake') this.sleepers.wake(m.id, m.input);
      else if (m.kind === 'steer') this.abort(m.id, 'steered');
      else if (m.kind === 'metadata') this.hub.local(m.id)?.updateMetadata(m.metadata);
    });
  }

  /**
   * `blocking`: see LogMode.blocking. A blocking store:false log can never be read (LiveLog.unobserved),
   * so it is not even registered where readers look for live responses.
   */
  newLog(id: string, initial: ResponseObject, baseSeq: number, persist: boolean, blocking = false, pendingCreate?: AppendBatch['create'], tenant?: string): LiveLog {
    const mode = { persist, blocking, commitGated: this.hub.commitGated };
    const log = new LiveLog(id, initial, baseSeq, mode, this.flusher.markDirty, pendingCreate);
    // Whose webhooks its terminal commit writes (see Flusher.webhooksFor).
    log.tenant = tenant;
    if (log.unobserved) return log;
    this.hub.add(log);
    if (!persist) void log.durable().then(() => this.hub.remove(id));
    return log;
  }

  /** Commits are failing (see Flusher.failing). */
  get storeFailing(): boolean {
    return this.flusher.failing;
  }

  /** A deleted response: nothing more of its log is written (see Flusher.drop). */
  drop(log: LiveLog): Promise<void> {
    return this.flusher.drop(log);
  }

  isRunningHere(id: string): boolean {
    return this.running.has(id);
  }

  abort(id: string, reason: AbortReason): boolean {
    const ctl = this.running.get(id);
    if (!ctl) return false;
    ctl.abort(reason);
    return true;
  }

  get activeCount(): number {
    return this.running.size;
  }

  /** Starts a foreground run: it stops when `cancel` aborts (its client left, a cancel, shutdown). */
  startForeground(log: LiveLog, req: RunRequest, resolved: ResolvedModel): ForegroundRun {
    const cancel = new Cancel();
    return { done: this.run(log, req, cancel, resolved), cancel };
  }

  /**
   * Runs a response to its terminal event. Never throws: failures become `response.failed`.
   * `resolved`: the model as create() resolved it (a queued job resolves it again when it runs).
   */
  private async run(log: LiveLog, req: RunRequest, controller = new Cancel(), resolved?: ResolvedModel, resume?: Resume): Promise<void> {
    this.running.set(log.id, controller);
    const startedAt = performance.now();
    try {
      resolved ??= await this.router.resolve(log.state.model);
      if (resolved.provider.capabilities(resolved.model).continuation && req.messages) this.continuable.add(log.id);
      const { owner } = req;
      await runResponse({
        sealReasoning: owner && req.include.includes(ENCRYPTED_REASONING) ? (text) => this.sealer.seal(text, owner) : undefined,
        log, provider: resolved.provider, model: resolved.model, messages: req.messages,
        include: req.include, sampling: req.sampling, signal: controller.signal,
        tools: req.tools, credentialLabels: req.credentialLabels, sleepers: this.sleepers, fileSearch: this.fileSearch, webSearch: this.webSearch,
        codeInterpreter: this.codeInterpreter, toolOwner: req.toolOwner, images: this.images, resume,
      });
    } catch (err) {
      this.log.error({ err, responseId: log.id }, 'response run failed');
      if (!log.terminal) {
        const message = `The server failed while running this response: ${(err as Error).message}`;
        try {
          log.append({ type: 'error', code: 'server_error', message, param: null, error: { type: 'server_error', code: 'server_error', message, param: null } });
        } catch { /* the terminal event below still ends the stream */ }
        finalize(log, { status: 'failed', error: { code: 'server_error', message } });
      }
    } finally {
      this.running.delete(log.id);
      this.continuable.delete(log.id);
      const { status, model, usage } = log.state;
      metrics.runEnded({ status, model, usage, startedAt, firstOutputAt: log.firstOutputAt, endedAt: performance.now() });
    }
  }

  /**
   * Queue worker: picks up a background response by id. `leaseLost` (shared queues) fires when this
   * instance lost the job's lease, so another may take the job over: stop rather than write twice.
   */
  readonly work = async (id: string, leaseLost?: AbortSignal): Promise<void> => {
    // Registered before the first await, so a cancel arriving while the job loads is not lost.
    const controller = new Cancel();
    this.running.set(id, controller);
    const onLost = () => controller.abort('lease_lost');
    leaseLost?.addEventListener('abort', onLost);
    try {
      const rec = await this.store.getResponse(id);
      if (!rec || isTerminalStatus(rec.status)) return;
      if (rec.status === 'in_progress' && !this.hub.local(id)) {
        // Only a shared queue hands out such a job: its previous worker died mid-generation (its lease
        // expired, so this worker holds the job exclusively). Continue it from what was committed when
        // its provider can; otherwise the partial output stays and it ends with a reason.
        const taken = await this.takeOver(rec, controller);
        if (taken) await taken.done;
        else await this.failOrphan(rec);
        return;
      }
      const log = this.hub.local(id) ?? this.newLog(id, JSON.parse(rec.snapshot), rec.lastSeq + 1, true, false, undefined, rec.tenant);
      if (log.terminal) return; // cancelled while queued
      await this.run(log, JSON.parse(rec.request) as RunRequest, controller);
      // Shutdown does not wait for the commit here: Flusher.close writes what it can in the time left.
      if (controller.reason !== 'shutdown' && controller.reason !== 'handover') await log.durable();
    } finally {
      leaseLost?.removeEventListener('abort', onLost);
      if (this.running.get(id) === controller) this.running.delete(id);
    }
  };

  private sweeper: NodeJS.Timeout | null = null;
  private sweeping = false;

  start(): void {
    this.queue.start(this.work);
    // Scale-out: any instance may die; every instance periodically ends what dead ones left behind.
    const every = this.queue.sweepIntervalMs;
    if (every) {
      this.sweeper = setInterval(() => {
        if (this.sweeping) return;
        this.sweeping = true;
        this.recover()
          .then((r) => { if (r.requeued || r.failed || r.continued) this.log.info(r, 'recovered responses of a stopped instance'); })
          .catch((err) => this.log.warn({ err }, 'recovery sweep failed'))
          .finally(() => { this.sweeping = false; });
      }, every);
      this.sweeper.unref();
    }
  }

  /**
   * Continuation instead of failure (see continuation.ts): when the response's stored request, its
   * committed output and its provider allow, a log is rebuilt from the committed events and the run goes
   * on from them; resolves when that run has ended and its events are committed. Undefined when it
   * cannot be continued. The caller holds the response exclusively (the queue's or the run lease).
   */
  private async takeOver(rec: { id: string; snapshot: string; lastSeq: number; tenant: string; request: string }, controller = new Cancel()): Promise<{ done: Promise<void> } | undefined> {
    const req = JSON.parse(rec.request || '{}') as Partial<RunRequest>;
    if (!req.messages) return undefined; // a foreground response: its prompt was not stored
    const snapshot = JSON.parse(rec.snapshot) as ResponseObject;
    let resolved: ResolvedModel;
    try {
      resolved = await this.router.resolve(snapshot.model);
    } catch {
      return undefined;
    }
    if (!resolved.provider.capabilities(resolved.model).continuation) return undefined;
    const state = await committedState(this.store, rec.id, snapshot, rec.lastSeq);
    if (state.status !== 'in_progress') return undefined;
    const resume = resumePlan(state);
    if (!resume) return undefined;
    if (this.hub.local(rec.id)) return undefined;
    this.log.info({ responseId: rec.id, fromSeq: rec.lastSeq + 1, prefixChars: resume.message?.text.length ?? 0 }, 'continuing a response its instance left');
    const log = this.newLog(rec.id, state, rec.lastSeq + 1, true, false, undefined, rec.tenant);
    // Wrapped: an awaited promise of a promise would wait for the whole run.
    return { done: (async () => {
      await this.run(log, req as RunRequest, controller, resolved, resume);
      if (controller.reason !== 'shutdown' && controller.reason !== 'handover') await log.durable();
    })() };
  }

  private async failOrphan(rec: { id: string; snapshot: string; lastSeq: number; tenant: string }): Promise<void> {
    const log = this.newLog(rec.id, JSON.parse(rec.snapshot), rec.lastSeq + 1, true, false, undefined, rec.tenant);
    finalize(log, {
      status: 'failed',
      error: { code: 'server_restarted', message: 'The server stopped while this response was in progress; it was not completed.' },
      // Items cut off mid-way (a message, a call, a sleep) end incomplete, not forever in progress.
      output: log.state.output.map((it) => (it.status === 'in_progress' ? { ...it, status: 'incomplete' } : it)),
    });
    await log.durable();
  }

  /**
   * After a crash: queued responses run again; ones that were mid-generation are continued where their
   * provider can (see takeOver), else failed with a reason (their partial output stays in the log), so
   * nothing stays in progress forever.
   */
  async recover(): Promise<{ requeued: number; failed: number; continued: number }> {
    let requeued = 0;
    let failed = 0;
    let continued = 0;
    const shared = Boolean(this.hub.claim);
    for (let rec of await this.store.listUnfinished()) {
      if (this.hub.local(rec.id)) continue;
      if (shared) {
        // Scale-out: other live instances run responses too. Skip what the shared queue still holds
        // (its leases and stalled-job check deal with dead workers), anything just created (its creator
        // may not have taken its lease yet) and anything whose run lease another instance holds.
        if (rec.createdAt > Date.now() / 1000 - 2) continue;
        if (await this.queue.has?.(rec.id)) continue;
        if (!(await this.hub.claim!(rec.id))) continue;
        const now = await this.store.getResponse(rec.id);
        if (!now || isTerminalStatus(now.status)) continue;
        rec = now;
      }
      if (rec.status === 'queued') {
        await this.queue.enqueue(rec.id);
        requeued++;
        continue;
      }
      // Continued in the background: the sweep goes on, the run holds the lease while it lives.
      const taken = await this.takeOver(rec).catch((err) => {
        this.log.warn({ err, responseId: rec.id }, 'continuation not possible');
        return undefined;
      });
      if (taken) {
        taken.done.catch((err) => this.log.error({ err, responseId: rec.id }, 'continued run failed'));
        continued++;
        continue;
      }
      await this.failOrphan(rec);
      failed++;
    }
    return { requeued, failed, continued };
  }

  /**
   * Past the drain: a background run that another instance can continue is left in progress (its
   * lease expires and whoever takes it over continues it, see takeOver) rather than failed.
   */
  private canHandOver(id: string): boolean {
    const log = this.hub.local(id);
    return Boolean(this.hub.claim && log && !log.terminal && log.mode.persist && log.state.background
      && this.continuable.has(id) && resumePlan(log.state));
  }

  /** Shutdown: wait up to `graceMs` for running work, then stop what is left. */
  async drain(graceMs: number): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    // Stop taking jobs first: queued work stays queued, for another instance or the next start.
    const queueClosed = this.queue.close();
    const deadline = Date.now() + graceMs;
    while (this.running.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const [id] of this.running) this.abort(id, this.canHandOver(id) ? 'handover' : 'shutdown');
    // A run ends at its next event once aborted; one stuck where no abort reaches it (a tool call, a
    // store that does not answer) must not keep the process from exiting.
    const stopBy = Date.now() + ABORT_GRACE_MS;
    while (this.running.size && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 10));
    if (this.running.size) this.log.error({ responses: [...this.running.keys()] }, 'shutting down with runs that did not stop');
    else await queueClosed;
  }
}
