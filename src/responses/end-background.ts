// Ending a background response wherever it is — running or queued here, queued in the shared queue, or
// running on another instance — as cancel (`cancelled`) and HTTP steering (`incomplete`, reason
// `steered`) both must. One path, so the two cannot drift apart in how they reach the owner or wait.
import type { ControlBus, EventHub, JobQueue } from '../bus/types.js';
import type { Store } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { isTerminalStatus } from '../wire/status.js';
import type { ResponseObject } from '../wire/types.js';
import type { Executor } from './executor.js';
import type { LiveLog } from './live-log.js';
import { finalize } from './runner.js';

export interface EndDeps {
  store: Store;
  hub: EventHub<LiveLog>;
  executor: Executor;
  queue: JobQueue;
  control: ControlBus;
}

export type EndHow = 'cancel' | 'steer';

const PATCH = {
  cancel: { status: 'cancelled' as const },
  steer: { status: 'incomplete' as const, incomplete_details: { reason: 'steered' } },
};

/** How long the instance running it has to commit the end, polled every 50 ms. */
const CONFIRM_POLLS = 100;

/**
 * Ends background response `id` (not ended when called) as `how` asks, and resolves with the Response it
 * ended with — which may be another end, if it ended by itself meanwhile — or undefined if it was
 * deleted meanwhile. 503 when the instance running it does not confirm in time.
 */
export async function endBackground(deps: EndDeps, id: string, how: EndHow): Promise<ResponseObject | undefined> {
  const endHere = async (log: LiveLog) => {
    if (!log.terminal) finalize(log, PATCH[how]);
    await log.durable();
    return log.state;
  };
  const live = deps.hub.local(id);
  if (live) {
    // Running here: the run ends itself at its next event; still queued here: ended now (the queue skips it).
    if (!live.terminal && deps.executor.abort(id, how === 'cancel' ? 'cancelled' : 'steered')) {
      await live.durable();
      return live.state;
    }
    return endHere(live);
  }
  const reopen = (rec: { snapshot: string; lastSeq: number; tenant: string }) =>
    deps.executor.newLog(id, JSON.parse(rec.snapshot), rec.lastSeq + 1, true, false, undefined, rec.tenant);
  // Scale-out: a job no worker has started is taken back from the shared queue and ended here.
  if (await deps.queue.withdraw?.(id)) {
    const now = await deps.store.getResponse(id);
    if (!now || isTerminalStatus(now.status)) return now ? JSON.parse(now.snapshot) : undefined;
    return endHere(reopen(now));
  }
  // Running on another instance: ask it, then wait for its end to reach the store (not when the ask
  // could not be sent: nobody would act on it).
  const sent = await deps.control.publish({ kind: how, id });
  for (let i = 0; i < CONFIRM_POLLS && sent; i++) {
    const now = await deps.store.getResponse(id);
    if (!now || isTerminalStatus(now.status)) return now ? JSON.parse(now.snapshot) : undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
  const still = await deps.store.getResponse(id);
  if (still?.status === 'queued') return endHere(reopen(still));
  throw errors.unavailable(`The instance running this response did not confirm the ${how} in time; try again.`);
}
