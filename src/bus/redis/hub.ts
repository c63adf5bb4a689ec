// Cross-instance event fan-out over Redis Streams, plus run leases.
//
// Why Streams and not pub/sub: a response is a log addressed by sequence number, and a reader joins it
// at an arbitrary position (after reading the store, or resuming with starting_after). Each group-
// committed batch becomes one stream entry whose ID is derived from its last sequence number
// (`<lastSeq>-1`), so "everything after seq N" is simply `XREAD … STREAMS key N-1`. Entries stay in the
// stream, so lines committed between a reader's store read and its XREAD are still there when the XREAD
// arrives — with pub/sub they would be lost in that window (and a subscriber has no way to ask for them
// again). A reader never has to start from the stream's beginning and skip, and a missing piece (an
// entry trimmed by MAXLEN, an XADD lost while Redis was unreachable) shows as a jump in sequence numbers:
// the reader then goes back to the store, which has every committed line. Streams expire a few minutes
// after the response ends (and after an hour without events), and are capped at ~MAXLEN entries.
//
// One blocking connection per instance serves every remote reader: a single XREAD BLOCK names every
// followed stream, and a new reader interrupts it (CLIENT UNBLOCK) so it is re-issued with the new key.
//
// Run leases: `lease:<id>` names the instance running a response (set when its LiveLog is added here,
// refreshed while it lives, removed with it). A dead instance's leases expire; the recovery sweep of any
// other instance then `claim`s the response (SET NX) and ends it, so exactly one instance does.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isTerminalLine } from '../../wire/event-line.js';
import type { SeqLine } from '../../wire/event-line.js';
import type { AppendBatch } from '../../store/types.js';
import { isTerminalStatus } from '../../wire/status.js';
import type { EventHub, HubLog } from '../types.js';
import { within, type RedisKeys } from './connection.js';
import type { CancelSignal } from '../../util/cancel.js';

const MAXLEN = 10_000;
const TERMINAL_TTL_MS = 5 * 60_000;
const IDLE_TTL_MS = 60 * 60_000;
export const BLOCK_MS = 5_000;
/**
 * Health check: a PING this often, failed if unanswered within HEALTH_TIMEOUT_MS. A hung Redis keeps
 * its connections open, so only an unanswered command tells it apart from a quiet one; while it does
 * not answer, readers poll the store and callers skip Redis instead of waiting on it.
 */
const HEALTH_EVERY_MS = 250;
const HEALTH_TIMEOUT_MS = 1_000;
/** A remote reader with nothing new for this long ends, so the caller re-checks the store. */
const TAIL_IDLE_MS = 10_000;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

interface Tail {
  last: number;
  queue: SeqLine[][];
  done: boolean;
  wake: (() => void) | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RedisHub<L extends HubLog> implements EventHub<L> {
  private logs = new Map<string, L>();
  private commitWaiters = new Map<string, Array<{ seq: number; resolve: () => void }>>();
  private tails = new Map<string, Set<Tail>>();
  private looping = false;
  /** Bumped each time the follow loop computes its key set, i.e. once per XREAD. */
  private generation = 0;
  private blkClientId: number | undefined;
  private refresher: NodeJS.Timeout;
  private heartbeat: NodeJS.Timeout;
  private pinging = false;
  private closed = false;
  /** Whether Redis answered the last health check in time. */
  reachable = true;

  constructor(
    /** Non-blocking commands: XADD, leases, CLIENT UNBLOCK. */
    private readonly cmd: Redis,
    /** Dedicated to the follow loop's XREAD BLOCK. */
    private readonly blk: Redis,
    private readonly keys: RedisKeys,
    private readonly instanceId: string,
    /** Run lease time to live; refreshed every third of it. */
    private readonly leaseTtlMs: number,
    private readonly log: Logger,
  ) {
    this.refresher = setInterval(() => this.refreshLeases(), Math.max(100, Math.floor(leaseTtlMs / 3)));
    this.refresher.unref();
    this.heartbeat = setInterval(() => this.checkHealth(), HEALTH_EVERY_MS);
    this.heartbeat.unref();
    blk.on('close', () => { this.blkClientId = undefined; });
  }

  readonly commitGated = true;

  private checkHealth(): void {
    if (this.pinging || this.closed) return;
    this.pinging = true;
    within(this.cmd.ping().catch(() => 'failed'), HEALTH_TIMEOUT_MS, 'timeout')
      .then((answer) => {
        const up = answer === 'PONG';
        if (up === this.reachable) return;
        this.reachable = up;
        if (up) {
          this.log.info('Redis answers again');
          return;
        }
        this.log.warn(`Redis did not answer within ${HEALTH_TIMEOUT_MS} ms; remote readers poll the store meanwhile`);
        // Remote readers would wait on an XREAD that cannot answer: send them back to the store.
        for (const set of this.tails.values()) for (const t of set) {
          t.done = true;
          t.wake?.();
        }
      })
      .finally(() => { this.pinging = false; });
  }

  local(id: string): L | undefined {
    return this.logs.get(id);
  }

  add(log: L): void {
    this.logs.set(log.id, log);
    if (log.persist) {
      this.cmd.set(this.keys.lease(log.id), this.instanceId, 'PX', this.leaseTtlMs)
        .catch((err) => this.log.warn({ err, responseId: log.id }, 'run lease not taken: Redis unreachable'));
    }
  }

  remove(id: string): void {
    const log = this.logs.get(id);
    this.logs.delete(id);
    if (log?.persist) this.cmd.eval(RELEASE, 1, this.keys.lease(id), this.instanceId).catch(() => { /* expires anyway */ });
  }

  private refreshLeases(): void {
    if (this.cmd.status !== 'ready' || !this.reachable) return;
    const p = this.cmd.pipeline();
    for (const l of this.logs.values()) if (l.persist) p.set(this.keys.lease(l.id), this.instanceId, 'PX', this.leaseTtlMs);
    if (p.length) p.exec().catch((err) => this.log.warn({ err }, 'run lease refresh failed'));
  }

  async claim(id: string): Promise<boolean> {
    if (!this.reachable) return false;
    return (await this.cmd.set(this.keys.lease(id), this.instanceId, 'PX', this.leaseTtlMs, 'NX')) === 'OK';
  }

  /**
   * Hands a queued response to the shared queue: waits until its lines so far are committed (a worker
   * elsewhere numbers its lines from the stored last_seq), then forgets it here, so readers and cancel
   * on this instance go through the store and the bus like everywhere else.
   */
  async handOver(id: string): Promise<void> {
    const log = this.logs.get(id);
    if (!log) return;
    const upTo = log.nextSeq - 1;
    if (log.persist && log.baseSeq + log.flushedUpTo <= upTo) {
      await new Promise<void>((resolve) => {
        const list = this.commitWaiters.get(id) ?? [];
        list.push({ seq: upTo, resolve });
        this.commitWaiters.set(id, list);
      });
    }
    if (this.logs.get(id) === log && !log.terminal) this.remove(id);
  }

  /** After each group commit: one stream entry per batch. Never waits for Redis (see Flusher). */
  async published(batches: AppendBatch[]): Promise<void> {
    const p = this.cmd.status === 'ready' && this.reachable ? this.cmd.pipeline() : null;
    for (const b of batches) {
      const last = b.firstSeq + b.lines.length - 1;
      if (p && !b.rejected && b.lines.length) {
        const key = this.keys.events(b.responseId);
        p.xadd(key, 'MAXLEN', '~', MAXLEN, `${last}-1`, 's', String(b.firstSeq), 'd', b.lines.join('\n'));
        p.pexpire(key, isTerminalStatus(b.status) ? TERMINAL_TTL_MS : IDLE_TTL_MS);
      }
      const waiters = this.commitWaiters.get(b.responseId);
      if (waiters) {
        const left: typeof waiters = [];
        for (const w of waiters) {
          if (w.seq <= last || b.rejected) w.resolve();
          else left.push(w);
        }
        if (left.length) this.commitWaiters.set(b.responseId, left);
        else this.commitWaiters.delete(b.responseId);
      }
    }
    if (p?.length) {
      p.exec().then((results) => {
        for (const [err] of results ?? []) if (err) this.log.warn({ err }, 'event fan-out entry refused');
      }, (err) => this.log.warn({ err }, 'event fan-out failed; remote readers fall back to the store'));
    }
  }

  remoteTail(id: string, afterSeq: number, signal: CancelSignal): AsyncIterable<SeqLine[]> | undefined {
    // Redis unreachable: the reader polls the store instead.
    if (this.closed || !this.reachable || this.cmd.status !== 'ready' || this.blk.status !== 'ready') return undefined;
    return this.follow(id, afterSeq, signal);
  }

  private async *follow(id: string, afterSeq: number, signal: CancelSignal): AsyncGenerator<SeqLine[]> {
    const tail: Tail = { last: afterSeq, queue: [], done: false, wake: null };
    let set = this.tails.get(id);
    if (!set) this.tails.set(id, (set = new Set()));
    set.add(tail);
    this.kick();
    const onAbort = () => tail.wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const batch = tail.queue.shift();
        if (batch) {
          yield batch;
          continue;
        }
        if (tail.done) return;
        const woke = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), TAIL_IDLE_MS);
          tail.wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        tail.wake = null;
        if (!woke) return;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      tail.done = true;
      const s = this.tails.get(id);
      s?.delete(tail);
      if (s && !s.size) this.tails.delete(id);
    }
  }

  /** Makes the follow loop (re)issue its XREAD with the current set of streams. */
  private kick(): void {
    if (!this.looping) {
      void this.loop();
      return;
    }
    const gen = this.generation;
    void (async () => {
      // The XREAD in flight was computed without the new reader: interrupt it. It may not have reached
      // Redis yet (UNBLOCK then answers 0), so retry briefly until the loop has moved on.
      for (let i = 0; i < 100 && this.looping && this.generation === gen && !this.closed; i++) {
        if (this.blkClientId !== undefined) {
          const n = await this.cmd.client('UNBLOCK', this.blkClientId).catch(() => 0);
          if (n === 1) return;
        }
        await sleep(2);
      }
    })();
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (!this.closed) {
        if (this.blkClientId === undefined) this.blkClientId = Number(await this.blk.client('ID'));
        const keys: string[] = [];
        const ids: string[] = [];
        for (const [id, set] of this.tails) {
          let min = Infinity;
          for (const t of set) if (!t.done && t.last < min) min = t.last;
          if (min === Infinity) continue;
          keys.push(this.keys.events(id));
          ids.push(min < 0 ? '0-0' : `${min}-1`);
        }
        if (!keys.length) break;
        this.generation++;
        const res = await this.blk.call('XREAD', 'COUNT', 1000, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids) as
          Array<[string, Array<[string, string[]]>]> | null;
        if (!res) continue; // timed out, or interrupted to add a stream
        for (const [key, entries] of res) this.dispatch(key.slice(this.keys.eventsPrefix.length), entries);
      }
    } catch (err) {
      if (!this.closed) this.log.warn({ err }, 'following remote responses failed; readers fall back to the store');
      this.blkClientId = undefined;
      for (const set of this.tails.values()) for (const t of set) {
        t.done = true;
        t.wake?.();
      }
    } finally {
      this.looping = false;
    }
    // A reader may have joined while the loop was winding down.
    if (!this.closed && [...this.tails.values()].some((s) => [...s].some((t) => !t.done))) this.kick();
  }

  private dispatch(id: string, entries: Array<[string, string[]]>): void {
    const set = this.tails.get(id);
    if (!set) return;
    for (const [, fields] of entries) {
      let first = -1;
      let data = '';
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 's') first = Number(fields[i + 1]);
        else if (fields[i] === 'd') data = fields[i + 1];
      }
      if (first < 0) continue;
      const lines = data.split('\n');
      for (const t of set) {
        if (t.done) continue;
        if (first > t.last + 1) {
          // A gap (entry trimmed, or an XADD lost while Redis was away): the store has those lines.
          t.done = true;
          t.wake?.();
          continue;
        }
        const batch: SeqLine[] = [];
        for (let i = Math.max(0, t.last + 1 - first); i < lines.length; i++) batch.push([first + i, lines[i]]);
        if (!batch.length) continue;
        t.queue.push(batch);
        t.last = batch[batch.length - 1][0];
        if (isTerminalLine(batch[batch.length - 1][1])) t.done = true;
        t.wake?.();
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refresher);
    clearInterval(this.heartbeat);
    for (const set of this.tails.values()) for (const t of set) {
      t.done = true;
      t.wake?.();
    }
    // (Not when Redis does not answer: the command would wait for its deadline, and the blocking
    // connection is dropped by the bus's close anyway.)
    if (this.looping && this.blkClientId !== undefined && this.reachable) await this.cmd.client('UNBLOCK', this.blkClientId).catch(() => 0);
    for (const w of this.commitWaiters.values()) for (const x of w) x.resolve();
    this.commitWaiters.clear();
  }
}
