// Durability: after kill -9 nothing stays queued or in progress forever; SIGTERM drains in-flight work.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream } from './support/mock-upstream.js';
import { readSse, startServer, type SseEvent } from './support/server.js';

let upstream: Awaited<ReturnType<typeof startMockUpstream>>;
before(async () => { upstream = await startMockUpstream(); });
after(async () => { await upstream?.close(); });

describe('restart recovery', () => {
  it('after kill -9 a mid-generation response is failed with a reason and a queued one runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'respd-recovery-'));
    try {
      const env = { OPENAI_BASE_URL: upstream.url, BACKGROUND_CONCURRENCY: '1' };
      const s1 = await startServer({ dataDir, env });
      const c1 = s1.client();
      const running = await c1.responses.create({ model: 'openai:mock-slow', input: 'a', background: true });
      const queued = await c1.responses.create({ model: 'openai:mock-text', input: 'b', background: true });
      // Watch a few events arrive so generation is surely under way, then crash.
      const seen = await readSse(await s1.fetch(`/responses/${running.id}?stream=true&starting_after=-1`), (e) => e.data.sequence_number < 4);
      // Let the group commit write them (a single instance commits streamed events at least every
      // COMMIT_INTERVAL_MS, 100 ms by default).
      await new Promise((r) => setTimeout(r, 250));
      assert.equal((await c1.responses.retrieve(queued.id)).status, 'queued');
      await s1.stop('SIGKILL');

      const s2 = await startServer({ dataDir, env });
      try {
        const c2 = s2.client();
        const failed = await c2.responses.retrieve(running.id);
        assert.equal(failed.status, 'failed');
        assert.match(failed.error!.message, /stopped/);
        assert.ok(failed.output.every((it: any) => it.status !== 'in_progress'), 'no item left in progress');
        let q = await c2.responses.retrieve(queued.id);
        for (let i = 0; i < 100 && q.status !== 'completed'; i++) {
          await new Promise((r) => setTimeout(r, 30));
          q = await c2.responses.retrieve(queued.id);
        }
        assert.equal(q.status, 'completed');
        // Events delivered before the crash are still in the log, followed by the terminal event, gap-free.
        const replay = await readSse(await s2.fetch(`/responses/${running.id}?stream=true&starting_after=-1`));
        assert.deepEqual(replay.slice(0, seen.length).map((e) => e.data.type), seen.map((e) => e.data.type));
        replay.forEach((e, i) => assert.equal(e.data.sequence_number, i));
        assert.equal(replay[replay.length - 1].event, 'response.failed');
      } finally {
        await s2.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('COMMIT_INTERVAL_MS bounds what a crash takes back; bad values stop the server with a message', async () => {
    for (const bad of ['0', '-1', 'soon']) {
      await assert.rejects(startServer({ env: { COMMIT_INTERVAL_MS: bad } }), /COMMIT_INTERVAL_MS/);
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'respd-commit-'));
    try {
      // A minute between commits: what a running response streamed after its creation is only in memory.
      const env = { OPENAI_BASE_URL: upstream.url, COMMIT_INTERVAL_MS: '60000' };
      const s1 = await startServer({ dataDir, env });
      let id: string;
      let seen: SseEvent[];
      try {
        id = (await s1.client().responses.create({ model: 'openai:mock-slow', input: 'a', background: true })).id;
        seen = await readSse(await s1.fetch(`/responses/${id}?stream=true&starting_after=-1`), (e) => e.data.sequence_number < 6);
        assert.equal((await s1.client().responses.retrieve(id)).status, 'in_progress', 'served from memory meanwhile');
        await new Promise((r) => setTimeout(r, 250));
      } finally {
        await s1.stop('SIGKILL');
      }
      const s2 = await startServer({ dataDir, env });
      try {
        const replay = await readSse(await s2.fetch(`/responses/${id}?stream=true&starting_after=-1`));
        assert.equal(replay[replay.length - 1].event, 'response.failed');
        replay.forEach((e, i) => assert.equal(e.data.sequence_number, i));
        // Stored at create (created, queued); what came after was never committed.
        assert.ok(replay.length - 1 < seen.length, `${replay.length - 1} stored events of ${seen.length} seen`);
      } finally {
        await s2.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('kill -9 under load loses no response whose create was answered', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'respd-load-crash-'));
    try {
      const env = { OPENAI_BASE_URL: upstream.url };
      const s1 = await startServer({ dataDir, env });
      const answered: string[] = [];
      let stop = false;
      const workers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          try {
            const res = await s1.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: i % 2 ? 'openai:mock-text' : 'auto', input: `w${w}-${i}`, max_output_tokens: 16, background: i % 3 === 0 }) });
            if (res.status === 200) answered.push((await res.json()).id);
          } catch {
            return; // the server died mid-request: that one was never answered
          }
        }
      });
      // Killed once enough creates were answered (not after a fixed time: a loaded machine answers fewer).
      for (let waited = 0; answered.length < 24 && waited < 60_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      await s1.stop('SIGKILL');
      stop = true;
      await Promise.all(workers);
      assert.ok(answered.length > 20, `only ${answered.length} answered before the kill`);
      const s2 = await startServer({ dataDir, env });
      try {
        for (const id of answered) {
          const res = await s2.fetch(`/responses/${id}`);
          assert.equal(res.status, 200, `response ${id} answered before the crash is gone`);
          await res.text();
        }
        console.log(`# ${answered.length} responses answered before kill -9, all retrievable after restart`);
      } finally {
        await s2.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('SIGTERM lets an in-flight response finish, then exits cleanly', async () => {
    const s = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
    const pending = s.client().responses.create({ model: 'openai:mock-slow', input: 'a' });
    await new Promise((r) => setTimeout(r, 200));
    const code = s.stop('SIGTERM');
    const r = await pending;
    assert.equal(r.status, 'completed');
    assert.equal(await code, 0);
  });
});
