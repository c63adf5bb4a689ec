// Fault: another process holds the SQLite write lock. Waiting for it must not freeze the process:
// health checks, reads and store:false work keep answering while a stream's commits wait, and the
// stream's events are stored once the lock is released.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { readSse, ROOT, startServer, type TestServer } from './support/server.js';

let upstream: MockUpstream;
let server: TestServer;

before(async () => {
  // mock-text: 30 chunks 50 ms apart (a 1.5 s stream whose commits meet the lock).
  upstream = await startMockUpstream({ text: { chunks: 30, delayMs: 50 } });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, SQLITE_BUSY_TIMEOUT_MS: '5000' } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

/** A second process that takes the write lock (BEGIN IMMEDIATE) and holds it for `ms`. */
async function holdWriteLock(dbPath: string, ms: number): Promise<ChildProcess> {
  const code = `const D=require(${JSON.stringify(join(ROOT, 'node_modules/better-sqlite3'))});const db=new D(${JSON.stringify(dbPath)});`
    + `db.exec('BEGIN IMMEDIATE');process.stdout.write('locked\\n');setTimeout(()=>{db.exec('ROLLBACK');process.exit(0)},${ms});`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`lock holder exited with ${c}`)));
  });
  return child;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

describe('fault: SQLite write lock held by another process', () => {
  it('health, reads and store:false keep answering while commits wait; the stream is stored after', async () => {
    const client = server.client();
    const stored = await client.responses.create({ model: 'openai:mock-text', input: 'before the lock' });
    const holder = await holdWriteLock(join(server.dataDir, 'respd.db'), 3000);
    const exited = new Promise((r) => holder.once('exit', r));
    try {
      const streamed = server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x', stream: true }) }).then(readSse);
      const health: number[] = [];
      const reads: number[] = [];
      const end = Date.now() + 2000;
      while (Date.now() < end) {
        let t = performance.now();
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
        health.push(performance.now() - t);
        t = performance.now();
        assert.equal((await client.responses.retrieve(stored.id)).status, 'completed');
        reads.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
      let t = performance.now();
      const off = await client.responses.create({ model: 'openai:mock-slow', input: 'y', store: false });
      const offMs = performance.now() - t;
      assert.equal(off.status, 'completed');
      console.log(`# lock held: healthz p50 ${pct(health, 0.5).toFixed(1)} ms, max ${Math.max(...health).toFixed(0)} ms; retrieve p50 ${pct(reads, 0.5).toFixed(1)} ms, max ${Math.max(...reads).toFixed(0)} ms; store:false ${offMs.toFixed(0)} ms`);
      assert.ok(pct(health, 0.5) < 100, `healthz p50 ${pct(health, 0.5)} ms`);
      assert.ok(Math.max(...health) < 1000, `healthz max ${Math.max(...health)} ms`);
      assert.ok(Math.max(...reads) < 1000, `retrieve max ${Math.max(...reads)} ms`);
      assert.ok(offMs < 3000, `store:false took ${offMs} ms`);
      const events = await streamed;
      assert.equal(events.at(-1)!.event, 'response.completed');
      await exited;
      // In the file once the lock is gone: every event the client saw.
      const id = events[0].data.response.id as string;
      const db = new Database(join(server.dataDir, 'respd.db'), { readonly: true });
      try {
        let row: { status: string; last_seq: number } | undefined;
        for (let i = 0; i < 100 && row?.status !== 'completed'; i++) {
          row = db.prepare('SELECT status, last_seq FROM responses WHERE id = ?').get(id) as typeof row;
          if (row?.status !== 'completed') await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(row, { status: 'completed', last_seq: events.length - 1 });
      } finally {
        db.close();
      }
    } finally {
      holder.kill();
    }
  });
});
