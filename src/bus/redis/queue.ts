// Background work on BullMQ: one job per background response (job id = response id, so enqueueing
// twice is harmless), taken by whichever instance has a free slot.
//
// Leases: a worker holds a job's lock for `lockDuration` and renews it while it runs. If the instance
// dies, the lock expires and BullMQ's stalled-job check (run by every live worker) moves the job back
// to `wait`; the next worker that takes it finds the response `in_progress` and ends it with a reason
// (Executor.work), or runs it if it never started. A job that stalls again is failed by BullMQ; the
// recovery sweep then ends its response. With lockDuration = 0.6 × lease and the check every 0.2 × lease,
// a dead worker's response is terminal within the lease (LEASE_SECONDS). A worker that fails to renew
// (Redis unreachable for longer than the lock) aborts its run rather than race the one taking over.
//
// Deadlines: the worker's connections fail a command that gets no answer (a hung Redis keeps its
// connections open, so nothing else ever fails it): BullMQ's BZPOPMIN blocks for DRAIN_DELAY_S, so their
// deadline is that plus the usual command deadline. A lock renewal that hangs or waits to be sent (Redis
// refusing) never reports the lock lost by itself: a run whose lock was last renewed longer than the lock
// ago is stopped here, whether Redis hangs or refuses.
//
// Graceful shutdown closes the worker first: it takes no new jobs, so queued work stays in Redis for
// the other instances; running jobs finish (or are ended by the executor's drain) before it returns.
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { HubLog, JobQueue } from '../types.js';
import { COMMAND_TIMEOUT_MS, within } from './connection.js';
import type { RedisHub } from './hub.js';

const QUEUE_NAME = 'jobs';
/** How long the worker's BZPOPMIN waits for a job before it asks again (BullMQ's drainDelay, seconds). */
const DRAIN_DELAY_S = 2;
/** Deadline of every command on the worker's connections (the longest is the BZPOPMIN above). */
export const WORKER_COMMAND_TIMEOUT_MS = DRAIN_DELAY_S * 1000 + COMMAND_TIMEOUT_MS;
/** States in which the queue still owns the job: it will run, or runs under a lease. */
const HELD = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused']);

export class BullJobQueue implements JobQueue {
  readonly sweepIntervalMs: number;
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private readonly lockMs: number;
  private readonly stalledMs: number;
  /** Running jobs: when their lock was taken or last renewed (Date.now()). */
  private readonly renewedAt = new Map<string, number>();
  private leaseWatch: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly concurrency: number,
    leaseMs: number,
    private readonly hub: RedisHub<HubLog>,
    private readonly log: Logger,
  ) {
    this.lockMs = Math.round(leaseMs * 0.6);
    this.stalledMs = Math.max(250, Math.round(leaseMs * 0.2));
    this.sweepIntervalMs = this.stalledMs;
    // Producer side fails fast when Redis is away: the response is already stored as `queued`, and
    // the recovery sweep enqueues it once Redis answers again.
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection(false), prefix });
    this.queue.on('error', (err) => this.log.warn({ err }, 'job queue error'));
  }

  private connection(blocking: boolean): ConnectionOptions {
    return blocking
      ? { url: this.url, maxRetriesPerRequest: null, commandTimeout: WORKER_COMMAND_TIMEOUT_MS }
      : { url: this.url, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS };
  }

  async enqueue(id: string): Promise<void> {
    // Whichever instance takes the job runs it; the one that created it lets go of it first.
    await this.hub.handOver(id);
    try {
      if (!this.hub.reachable) throw new Error('Redis does not answer');
      await this.queue.add('run', { id }, { jobId: id, removeOnComplete: true, removeOnFail: true });
    } catch (err) {
      this.log.warn({ err, responseId: id }, 'job not enqueued (Redis unreachable); the recovery sweep will enqueue it');
    }
  }

  start(work: (id: string, signal?: AbortSignal) => Promise<void>): void {
    const worker = new Worker(QUEUE_NAME, async (job, _token, signal) => {
      this.log.info({ responseId: job.data.id, attempt: job.attemptsStarted }, 'background job started');
      const id = job.id!;
      this.renewedAt.set(id, Date.now());
      try {
        await work(job.data.id as string, signal);
      } finally {
        this.renewedAt.delete(id);
      }
    }, {
      connection: this.connection(true),
      prefix: this.prefix,
      concurrency: this.concurrency,
      lockDuration: this.lockMs,
      stalledInterval: this.stalledMs,
      maxStalledCount: 1,
      drainDelay: DRAIN_DELAY_S,
    });
    worker.on('locksRenewed', ({ jobIds }) => {
      const now = Date.now();
      for (const id of jobIds) if (this.renewedAt.has(id)) this.renewedAt.set(id, now);
    });
    const leaseLost = (id: string) => {
      this.renewedAt.delete(id);
      this.log.error({ responseId: id }, 'lost the lease of a running job; stopping it');
      worker.cancelJob(id, 'lease lost');
    };
    // BullMQ renews every half lock; a lock not renewed for a whole one has lapsed in Redis (or may have,
    // if Redis hangs): another instance may take the job over.
    this.leaseWatch = setInterval(() => {
      const now = Date.now();
      for (const [id, at] of this.renewedAt) if (now - at > this.lockMs) leaseLost(id);
    }, Math.max(50, Math.round(this.lockMs / 8)));
    this.leaseWatch.unref();
    worker.on('error', (err) => this.log.warn({ err }, 'job worker error'));
    worker.on('stalled', (jobId) => this.log.warn({ responseId: jobId }, 'background job stalled (its worker stopped); handed to another'));
    worker.on('failed', (job, err) => this.log.warn({ responseId: job?.id, reason: err.message }, 'background job failed'));
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const id of jobIds) if (this.renewedAt.has(id)) leaseLost(id);
    });
    this.worker = worker;
  }

  async has(id: string): Promise<boolean> {
    // Unknown when Redis does not answer: say "held", so the sweep leaves the response alone for now.
    if (!this.hub.reachable) return true;
    const state = await within(this.queue.getJobState(id).catch(() => 'active'), 2000, 'active');
    return HELD.has(state);
  }

  async withdraw(id: string): Promise<boolean> {
    if (!this.hub.reachable) return false;
    try {
      const state = await within(this.queue.getJobState(id), 2000, 'unknown');
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
      // Refused (0) when a worker took it meanwhile: its lock protects it.
      return (await within(this.queue.remove(id), 2000, 0)) === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    // Stops taking jobs at once; resolves once the running ones have ended (the executor's drain ends
    // them) and BullMQ has said goodbye to Redis.
    const workerClosed = worker ? settles(worker.close()) : Promise.resolve();
    while (this.renewedAt.size) await new Promise((r) => setTimeout(r, 50));
    clearInterval(this.leaseWatch);
    // What is left is talking to Redis (a job's last state change, QUIT): a hung Redis answers none of
    // it, so after the command deadline (at once if Redis is known not to answer) the connections are dropped.
    await Promise.all([
      goodbye(workerClosed, () => worker?.disconnect(), !this.hub.reachable),
      goodbye(settles(this.queue.close()), () => this.queue.disconnect(), !this.hub.reachable),
    ]);
  }
}

const settles = (p: Promise<unknown>) => p.then(() => {}, () => {});

async function goodbye(closed: Promise<void>, drop: () => Promise<void> | undefined, unreachable: boolean): Promise<void> {
  if (unreachable || (await within(closed.then(() => true), COMMAND_TIMEOUT_MS, false)) === false) {
    await within(Promise.resolve(drop()).catch(() => {}), 500, undefined);
  }
  // BullMQ may never settle a close whose connection was dropped under it: a short grace, no more.
  await within(closed, 500, undefined);
}
