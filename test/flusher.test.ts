// The group-commit flusher against a store that refuses one response's data: the other responses of
// the same group must still be stored (one bad batch must not hold back every response), while a store
// that is unavailable as a whole is retried as one group, not response by response.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Flusher } from '../src/responses/flusher.js';
import { LiveLog } from '../src/responses/live-log.js';
import { buildInitialResponse } from '../src/responses/build-response.js';
import type { AppendBatch, Store } from '../src/store/types.js';

const silent = pino({ level: 'silent' });

function fakeStore(fail: (batches: AppendBatch[]) => Error | undefined) {
  const calls: string[][] = [];
  const stored = new Set<string>();
  const store = {
    async appendEvents(batches: AppendBatch[]) {
      calls.push(batches.map((b) => b.responseId));
      const err = fail(batches);
      if (err) throw err;
      for (const b of batches) stored.add(b.responseId);
    },
  } as unknown as Store;
  return { store, calls, stored };
}

function finishedLog(id: string, flusher: Flusher): LiveLog {
  const initial = buildInitialResponse({ model: 'm', input: 'hi' } as never, id, 1, null);
  const log = new LiveLog(id, initial, 0, true, flusher.markDirty);
  log.append({ type: 'response.created', response: initial });
  log.append({ type: 'response.completed', response: { ...initial, status: 'completed' } });
  return log;
}

const within = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('flusher', () => {
  test('a batch the store refuses does not hold back the others in its group', async () => {
    const constraint = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    const { store, calls, stored } = fakeStore((bs) => (bs.some((b) => b.responseId === 'resp_bad') ? constraint : undefined));
    const flusher = new Flusher(store, silent, () => {});
    const good = finishedLog('resp_good', flusher);
    const bad = finishedLog('resp_bad', flusher);
    const other = finishedLog('resp_other', flusher);
    assert.equal(await within(good.durable(), 2000), true, 'good response stored');
    assert.equal(await within(other.durable(), 2000), true, 'other response stored');
    assert.deepEqual([...stored].sort(), ['resp_good', 'resp_other']);
    assert.deepEqual(calls[0].sort(), ['resp_bad', 'resp_good', 'resp_other'], 'first tried as one group');
    // The bad one keeps being retried, alone, and is never reported durable.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bad.isDurable, false);
    assert.ok(calls.slice(1).filter((c) => c.length === 1 && c[0] === 'resp_bad').length >= 2, JSON.stringify(calls));
    assert.ok(calls.slice(1).every((c) => c.length === 1), 'after the split, one response per transaction');
    // Shutdown does not wait forever for a batch the store keeps refusing.
    const t0 = Date.now();
    await flusher.close(300);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('an unavailable store is retried as one group, and everything lands once it is back', async () => {
    let down = true;
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const { store, calls, stored } = fakeStore(() => (down ? busy : undefined));
    const flusher = new Flusher(store, silent, () => {});
    const a = finishedLog('resp_a', flusher);
    const b = finishedLog('resp_b', flusher);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(calls.length >= 2, `retried (${calls.length} attempts)`);
    assert.ok(calls.every((c) => c.length === 2), `never split while the store is down: ${JSON.stringify(calls)}`);
    down = false;
    assert.equal(await within(Promise.all([a.durable(), b.durable()]), 3000), true);
    assert.deepEqual([...stored].sort(), ['resp_a', 'resp_b']);
    await flusher.close();
  });
});
