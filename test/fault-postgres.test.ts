// Fault suite (issue 19): PostgreSQL restarted and frozen under two streaming instances. The test
// starts its own PostgreSQL cluster and Redis on free ports (never the shared ones) and restarts them
// with pg_ctl, or freezes every PostgreSQL process with SIGSTOP. Skipped with a printed reason where
// the binaries are missing; in CI it must run.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { skipReasonOrThrow } from './support/private-backends.js';
import {
  countBy, crashed, createBackground, deltas, follow, foreground, sleep, startCluster, timed, waitUntil,
  type FaultCluster, type Watched,
} from './support/fault-cluster.js';

const skipReason = skipReasonOrThrow('PostgreSQL fault tests');
let c: FaultCluster;

function skip(t: TestContext): boolean {
  if (skipReason) t.skip(skipReason);
  return Boolean(skipReason);
}

/** Two foreground streams per instance and two background responses followed from the other instance. */
async function streaming(tag: string): Promise<Watched[]> {
  const [a, b] = c.servers;
  const watched: Watched[] = [];
  for (const [i, s] of [a, a, b, b].entries()) watched.push(foreground(s, `${tag}-fg-${i}`));
  for (const [i, [runner, reader]] of [[a, b], [b, a]].entries()) {
    watched.push(follow(reader, await createBackground(runner, `${tag}-bg-${i}`)));
  }
  await waitUntil(() => watched.every((w) => deltas(w) >= 3), 15_000, 'every stream mid-generation');
  return watched;
}

describe('fault: PostgreSQL restarts and hangs', { timeout: 180_000 }, () => {
  before(async () => {
    if (skipReason) return;
    c = await startCluster(2, { LEASE_SECONDS: '5' });
  });
  after(async () => {
    await c?.close();
  });

  for (const mode of ['fast', 'immediate'] as const) {
    it(`a restart (pg_ctl stop -m ${mode}) costs at most the requests in flight, never an instance`, { timeout: 60_000 }, async (t) => {
      if (skip(t)) return;
      const watched = await streaming(`restart-${mode}`);
      const probeId = await createBackground(c.servers[0], `restart-${mode}-probe`);
      await c.pg.stop(mode);
      // Requests while it is down: a retryable 503, never a 500 (nor a hang).
      const down = await Promise.all(c.servers.flatMap((s) => [
        timed(() => s.fetch(`/responses/${probeId}`)), timed(() => s.fetch('/responses?limit=5')),
      ]));
      await sleep(500);
      await c.pg.start();
      await Promise.all(watched.map((w) => w.done));
      await sleep(300); // a crashing instance's streams close just before it exits
      const ends = countBy(watched, (w) => w.end ?? 'none');
      if (process.env.FAULT_DEBUG) for (const s of c.servers) console.log(s.logs.filter((l) => /"level":(40|50|60)|Unhandled|Error/.test(l)).slice(-8).join('\n'));
      const statuses = countBy(down, (r) => `${r.status}${r.code ? ` ${r.code}` : ''}`);
      console.log(`# restart -m ${mode}: instances crashed ${c.servers.filter(crashed).length}/2; stream ends ${JSON.stringify(ends)}; requests while down ${JSON.stringify(statuses)}, slowest ${Math.max(...down.map((r) => r.seconds)).toFixed(2)} s`);
      assert.deepEqual(c.servers.filter(crashed).map((s) => s.logs.slice(-20).join('\n')), [], 'an instance died');
      for (const r of down) {
        assert.ok(r.status === 503 && r.code === 'store_unavailable', `while PostgreSQL is down: ${JSON.stringify(r)}`);
      }
      // Every stream ends with its terminal event: commits are retried, streams pause and catch up.
      assert.deepEqual(ends, { terminal: watched.length });
      // And the service is back: new work on both instances.
      for (const s of c.servers) {
        const r = await s.client().responses.create({ model: 'openai:mock-text', input: 'after the restart', stream: false });
        assert.equal(r.status, 'completed');
      }
    });
  }

  it('a frozen PostgreSQL (SIGSTOP) costs requests a 503 after the deadline, and streams resume after it', { timeout: 90_000 }, async (t) => {
    if (skip(t)) return;
    const [a, b] = c.servers;
    const ids = [await createBackground(a, 'freeze-0'), await createBackground(b, 'freeze-1'), await createBackground(a, 'freeze-2')];
    // Followers on both instances (most on the instance that does not run the response).
    const followers = ids.flatMap((id) => [follow(a, id), follow(b, id), follow(a, id), follow(b, id)]);
    await waitUntil(() => followers.every((w) => deltas(w) >= 2), 15_000, 'followers under way');
    c.pg.freeze();
    const frozenAt = Date.now();
    // Requests during the freeze; it lasts 7 s whatever they do (today's code would wait for ever).
    const requests = Promise.all([a, b].flatMap((s) => [
      timed(() => s.fetch(`/responses/${ids[0]}`)),
      timed(() => s.fetch('/responses?limit=5')),
      timed(() => s.fetch(`/responses/${ids[1]}/input_items`)),
    ]));
    try {
      await sleep(7_000);
    } finally {
      c.pg.thaw();
    }
    const frozenFor = (Date.now() - frozenAt) / 1000;
    if (process.env.FAULT_DEBUG) {
      setTimeout(() => followers.forEach((w, i) => !w.end && console.log(`follower ${i} (${ids[i >> 2]} on ${i % 2 ? 'b' : 'a'}) still open after ${w.events.length} events, last ${w.events.at(-1)?.data?.type}`)), 3000).unref();
    }
    const answered = await requests;
    await Promise.all(followers.map((w) => w.done));
    const ends = countBy(followers, (w) => w.end ?? 'none');
    if (process.env.FAULT_DEBUG) {
      followers.forEach((w, i) => w.end !== 'terminal' && console.log(`follower ${i} (${ids[i >> 2]} on ${i % 2 ? 'b' : 'a'}): ${w.end} after ${w.events.length} events, last ${JSON.stringify(w.events.at(-1)).slice(0, 300)}`));
      for (const s of c.servers) console.log(s.logs.filter((l) => /stream failed|level":50/.test(l)).slice(-5).map((l) => l.slice(0, 400)).join('\n'));
    }
    const statuses = countBy(answered, (r) => `${r.status}${r.code ? ` ${r.code}` : ''}`);
    await sleep(300);
    console.log(`# frozen PostgreSQL ${frozenFor.toFixed(1)} s: requests ${JSON.stringify(statuses)}, slowest ${Math.max(...answered.map((r) => r.seconds)).toFixed(2)} s; followers' ends ${JSON.stringify(ends)}; instances crashed ${c.servers.filter(crashed).length}`);
    assert.deepEqual(c.servers.filter(crashed), []);
    for (const r of answered) {
      assert.ok(r.status === 503 && r.code === 'store_unavailable', `during the freeze: ${JSON.stringify(r)}`);
      assert.ok(r.seconds < 6.5, `answered after ${r.seconds.toFixed(1)} s`);
    }
    // No stream ends silently; here PostgreSQL is back within a stream's patience, so all complete.
    assert.deepEqual(ends, { terminal: followers.length });
    for (const w of followers) {
      // Nothing lost or repeated: sequence numbers 0…n-1, ending with the completion.
      w.events.forEach((e, i) => assert.equal(e.data.sequence_number, i));
      assert.equal(w.events[w.events.length - 1].data.type, 'response.completed');
    }
  });
});
