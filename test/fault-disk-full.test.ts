// Fault: the embedded store's disk is full. While group commits fail, new stored work is refused with
// a retryable 503 at once (not accepted and acknowledged while nothing can be stored); work that needs
// no write goes on; once space returns, stored work is taken again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { mountSmallDisk, type SmallDisk } from './support/full-disk.js';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let upstream: MockUpstream;
let server: TestServer | undefined;
let disk: SmallDisk;

before(async () => {
  disk = mountSmallDisk(8);
  if (disk.skip) {
    console.log(`# skipped: ${disk.skip}`);
    return;
  }
  upstream = await startMockUpstream({ text: { chunks: 20, delayMs: 20 } });
  server = await startServer({ dataDir: join(disk.dir, 'data'), env: { OPENAI_BASE_URL: upstream.url, SQLITE_BUSY_TIMEOUT_MS: '1000', COMMIT_TIMEOUT_MS: '1000' } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
  disk?.unmount();
});

const streamed = (s: TestServer, store = true) => s.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x', stream: true, store }) });

describe('fault: disk full under the embedded store', () => {
  it('refuses stored work with 503 while commits fail, keeps store:false going, recovers with space', async (t) => {
    if (disk.skip || !server) return t.skip(disk.skip || 'no server');
    const s = server;
    assert.equal((await streamed(s)).status, 200);
    const filler = disk.fill();
    let accepted = 0;
    let refused: Response | undefined;
    const t0 = Date.now();
    // The first stored response after the disk filled meets the failing commit (its stream ends with an
    // error after COMMIT_TIMEOUT_MS, see fault-disk-full-inflight); later ones are refused.
    while (!refused && Date.now() - t0 < 5000) {
      const res = await streamed(s);
      if (res.status === 503) refused = res;
      else {
        accepted++;
        await readSse(res);
      }
    }
    console.log(`# disk full: ${accepted} stored creates accepted before the first 503, after ${Date.now() - t0} ms`);
    assert.ok(refused, 'stored creates were still accepted 5 s after the disk filled');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'store_unavailable');
    // A blocking stored create is refused at once too, and store:false still works.
    const t1 = performance.now();
    const blocking = await s.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x' }) });
    assert.equal(blocking.status, 503);
    assert.ok(performance.now() - t1 < 1000);
    const off = await streamed(s, false);
    assert.equal(off.status, 200);
    assert.equal((await readSse(off)).at(-1)!.event, 'response.completed');

    rmSync(filler);
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await streamed(s);
      status = res.status;
      if (status === 200) await readSse(res);
      else await res.arrayBuffer();
    }
    assert.equal(status, 200, 'stored creates are taken again once space returns');
  });
});
