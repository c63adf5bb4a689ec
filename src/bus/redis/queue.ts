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
// Graceful shutdown closes the worker first: it takes no new jobs, so queued work stays in Redis for
// the other instances; running jobs finish (or are ended by the executor's drain) before it returns.
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { HubLog, JobQueue } from '../types.js';
import { COMMAND_TIMEOUT_MS, within } from './connection.js';
import type { RedisHub } from './hub.js';

const QUEUE_NAME = 'jobs';
/** States in which the queue still owns the job: it will run, or runs under a lease. */
const HELD = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused']);

export class BullJobQueue implements JobQueue {
  readonly sweepIntervalMs: number;
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private readonly lockMs: number;
  private readonly stalledMs: number;

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
      ? { url: this.url, maxRetriesPerRequest: null }
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
      await work(job.data.id as string, signal);
    }, {
      connection: this.connection(true),
      prefix: this.prefix,
      concurrency: this.concurrency,
      lockDuration: this.lockMs,
      stalledInterval: this.stalledMs,
      maxStalledCount: 1,
    });
    worker.on('error', (err) => this.log.warn({ err }, 'job worker error'));
    worker.on('stalled', (jobId) => this.log.warn({ responseId: jobId }, 'background job stalled (its worker stopped); handed to another'));
    worker.on('failed', (job, err) => this.log.warn({ responseId: job?.id, reason: err.message }, 'background job failed'));
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const id of jobIds) {
        this.log.error({ responseId: id }, 'lost the lease of a running job; stopping it');
        worker.cancelJob(id, 'lease lost');
      }
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
    await this.worker?.close();
    await this.queue.close();
  }
}
