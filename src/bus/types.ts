// Live event fan-out and background work. In-process implementations serve one instance; Redis-backed
// ones (scale-out) let any instance follow, cancel or wake a response another instance runs.
import type { AppendBatch } from '../store/types.js';
import type { SeqLine } from '../wire/event-line.js';
import type { CancelSignal } from '../util/cancel.js';

/** What the hub needs of a running response's log (responses/live-log.ts implements it). */
export interface HubLog {
  readonly id: string;
  readonly persist: boolean;
  readonly terminal: boolean;
  readonly baseSeq: number;
  readonly nextSeq: number;
  readonly flushedUpTo: number;
}

export interface EventHub<L extends HubLog = HubLog> {
  /** Readers anywhere get a line only once it is committed (see LogMode.commitGated): true when shared. */
  readonly commitGated: boolean;
  /** The live log of a response running (or queued) on this instance. */
  local(id: string): L | undefined;
  add(log: L): void;
  remove(id: string): void;
  /** Called after each group commit: a shared bus fans committed lines out to other instances. */
  published?(batches: AppendBatch[]): Promise<void>;
  /** Follow a response running on another instance, from afterSeq; absent without a shared bus. */
  remoteTail?(id: string, afterSeq: number, signal: CancelSignal): AsyncIterable<SeqLine[]> | undefined;
  /**
   * Scale-out: takes the run lease of a response that no live instance holds (its runner died), so this
   * instance may end it; false when another instance holds it. Absent in-process (one instance owns all).
   */
  claim?(id: string): Promise<boolean>;
}

export type ControlMessage =
  | { kind: 'cancel'; id: string }
  | { kind: 'wake'; id: string; input: string }
  /** Stop the run at once, ending it `incomplete` (steered); the caller creates the successor. */
  | { kind: 'steer'; id: string }
  | { kind: 'metadata'; id: string; metadata: Record<string, string> };

/** Delivers cancel, wake, steer and metadata to whichever instance runs the response. */
export interface ControlBus {
  /** False when the message could not be sent (the bus is unreachable): no instance will act on it. */
  publish(msg: ControlMessage): Promise<boolean>;
  onMessage(handler: (msg: ControlMessage) => void): void;
  close(): Promise<void>;
}

export interface JobQueue {
  enqueue(id: string): Promise<void>;
  /** `signal` (shared queues) aborts when this instance lost the job's lease: another may take it over. */
  start(worker: (id: string, signal?: AbortSignal) => Promise<void>): void;
  /** Stops taking jobs; resolves when running ones have finished or been handed back. */
  close(): Promise<void>;
  /** Shared queue: whether it still holds a job for the response (waiting, or running under a lease). */
  has?(id: string): Promise<boolean>;
  /** Shared queue: takes back a job no worker has started; true when it was removed. */
  withdraw?(id: string): Promise<boolean>;
  /** Shared queue: how often every instance looks for responses orphaned by a dead one (ms). */
  readonly sweepIntervalMs?: number;
}
