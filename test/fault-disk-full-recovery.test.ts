// Fault: the embedded store's disk is full, continued (issue 19, item 4): SIGTERM with a background
// response running still exits within DRAIN_MS (and a little), and once space returns the backlog of
// events held in memory goes into the store in bounded transactions, not one as large as all of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mountSmallDisk, type SmallDisk } from './support/full-disk.js';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let disk: SmallDisk;
let upstream: MockUpstream;

before(async () => {
  disk = mountSmallDisk(64);
  if (disk.skip) console.log(`# skipped: ${disk.skip}`);
  // 150 deltas of 1000 characters, 30 ms apart: ~4.5 s and ~170 KB of events per response.
  upstream = await startMockUpstream({ text: { chunks: 150, chunkSize: 1000, delayMs: 30 } });
});
after(async () => {
  await upstream?.close();
  disk?.unmount();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = (name: string, env: Record<string, string>) =>
  startServer({ dataDir: join(disk.dir, name), env: { OPENAI_BASE_URL: upstream.url, SQLITE_BUSY_TIMEOUT_MS: '1000', ...env } });

const post = (s: TestServer, body: object) => s.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x', ...body }) });

describe('fault: disk full at shutdown and after (embedded store)', () => {
  it('SIGTERM with a background response running exits within DRAIN_MS', async (t) => {
    if (disk.skip) return t.skip(disk.skip);
    // A commit timeout longer than the test: only shutdown's own bounds may end it.
    const env = { DRAIN_MS: '2000', COMMIT_TIMEOUT_MS: '60000' };
    const s = await server('e', env);
    let filler = '';
    try {
      const { id } = (await (await post(s, { background: true })).json()) as { id: string };
      for (let i = 0; i < 100; i++) {
        const r = (await (await s.fetch(`/responses/${id}`)).json()) as { status: string };
        if (r.status === 'in_progress') break;
        await sleep(20);
      }
      filler = disk.fill();
      await sleep(500);
      const t0 = performance.now();
      s.proc.kill('SIGTERM');
      const exited = await Promise.race([
        new Promise<boolean>((r) => s.proc.once('exit', () => r(true))),
        sleep(20_000).then(() => false),
      ]);
      const ms = Math.round(performance.now() - t0);
      console.log(`# SIGTERM with DRAIN_MS=2000 during a full disk: ${exited ? `exited after ${ms} ms` : 'still running after 20 s'}`);
      await s.stop('SIGKILL');
      assert.ok(exited, 'the process was still running 20 s after SIGTERM');
      assert.ok(ms < 2000 + 3000, `exited ${ms} ms after SIGTERM`);
      rmSync(filler);
      filler = '';
      // What the store held of it is ended at the next start, as for any response cut off.
      const s2 = await server('e', env);
      try {
        const r = (await (await s2.fetch(`/responses/${id}`)).json()) as { status: string };
        assert.equal(r.status, 'failed');
      } finally {
        await s2.stop('SIGKILL');
      }
    } finally {
      if (filler) rmSync(filler);
      rmSync(join(disk.dir, 'e'), { recursive: true, force: true });
    }
  });

  it('the backlog held during the outage is written in bounded transactions once space returns', async (t) => {
    if (disk.skip) return t.skip(disk.skip);
    const s = await server('f', { COMMIT_TIMEOUT_MS: '60000' });
    const wal = join(disk.dir, 'f', 'respd.db-wal');
    try {
      const streams = await Promise.all(Array.from({ length: 16 }, () => post(s, { stream: true })));
      const ids: string[] = [];
      const done = streams.map((res) => readSse(res, (e) => { if (e.event === 'response.created') ids.push(e.data.response.id); }));
      await sleep(300);
      const filler = disk.fill();
      // The rest of their events (~2.5 MB of lines) is held in memory meanwhile.
      await sleep(5000);
      const before = statSync(wal).size;
      let peak = before;
      rmSync(filler);
      // The flusher's retry comes within its backoff (at most 2 s); watch the log while it writes.
      for (const t0 = Date.now(); Date.now() - t0 < 6000;) {
        try {
          peak = Math.max(peak, statSync(wal).size);
        } catch { /* between truncation and the next write */ }
        await new Promise((r) => setImmediate(r));
      }
      const growth = (peak - before) / 2 ** 20;
      console.log(`# backlog of 16 responses (~2.5 MB of events) written once space returned: the write-ahead log grew by at most ${growth.toFixed(1)} MiB`);
      const ends = await Promise.all(done);
      for (const e of ends) assert.equal(e.at(-1)!.event, 'response.completed');
      assert.equal(ids.length, 16);
      for (const id of ids) {
        const r = (await (await s.fetch(`/responses/${id}`)).json()) as { status: string; output: Array<{ content: Array<{ text: string }> }> };
        assert.equal(r.status, 'completed');
        assert.equal(r.output[0].content[0].text.length, 150 * 1000);
      }
      // One transaction for all of it grows the log by the whole backlog (with snapshots and output items).
      assert.ok(growth < 6, `the write-ahead log grew by ${growth.toFixed(1)} MiB`);
    } finally {
      await s.stop('SIGKILL');
      rmSync(join(disk.dir, 'f'), { recursive: true, force: true });
    }
  });
});
