// Fault: readers that never read. Replaying a large stored response to clients that stop reading must
// not hold the log in memory per reader: replay pages through the store under backpressure.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';
import { connect, rawGet, rssOf, settled } from './support/faults.js';

const EVENTS = 10_000;
// ~650 bytes an event, ~6.5 MB in all: more than the kernel's socket buffers take per connection on
// loopback (up to ~4 MB sent but unread), so a stalled reader really stalls the server's writes.
const DELTA_CHARS = 500;
const READERS = 80;
const HEAP_MB = 256;

let upstream: MockUpstream;
let server: TestServer;
let id: string;

before(async () => {
  upstream = await startMockUpstream({ text: { chunks: EVENTS - 9, chunkSize: DELTA_CHARS } });
  // A small heap: what stalled readers retain (not the garbage of what they pushed into the kernel's
  // socket buffers) decides whether the server survives them.
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` } });
  // Background: the upstream's chunks are stored one delta each (a blocking create takes the turn whole).
  const res = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x', background: true }) });
  id = ((await res.json()) as { id: string }).id;
  assert.equal(await settled(server, id), 'completed');
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('fault: stalled replay readers', () => {
  it(`${READERS} readers that never read keep the server's memory bounded per reader`, async () => {
    const pid = server.proc.pid!;
    const base = rssOf(pid);
    const sockets: net.Socket[] = [];
    try {
      const started: Array<Promise<unknown>> = [];
      for (let i = 0; i < READERS; i++) {
        const s = await connect(server);
        s.write(rawGet(`/responses/${id}?stream=true&starting_after=-1`));
        // Take the first bytes (the replay has begun), then read nothing more: the socket's buffers
        // fill and the server must wait for them to drain.
        started.push(new Promise((r) => s.once('data', () => { s.pause(); r(undefined); }).once('close', r)));
        sockets.push(s);
      }
      const died = new Promise((r) => server.proc.once('exit', r));
      await Promise.race([Promise.all(started), died]);
      let peak = 0;
      for (let i = 0; i < 10 && server.proc.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 200));
        if (server.proc.exitCode === null) peak = Math.max(peak, rssOf(pid));
      }
      assert.equal(server.proc.exitCode, null, `the server died: ${server.logs.slice(-3).join('\n')}`);
      // RSS also counts the garbage of what each reader pushed into the kernel (~4 MB a connection here):
      // the figure is reported, the bound is loose; what readers retain is bounded by the heap limit.
      const perReader = (peak - base) / READERS;
      console.log(`# RSS ${(base / 2 ** 20).toFixed(0)} → ${(peak / 2 ** 20).toFixed(0)} MiB with ${READERS} stalled readers: ${(perReader / 1024).toFixed(0)} KiB each`);
      assert.ok(perReader < 1024 * 1024, `each stalled reader costs ${(perReader / 1024).toFixed(0)} KiB of server memory`);
      // The server still answers.
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('a reader that reads gets every stored event after its starting point, in order, across pages', async () => {
    assert.equal(server.proc.exitCode, null, `the server died: ${server.logs.slice(-3).join('\n')}`);
    for (const start of [8_765]) {
      const events = await readSse(await server.fetch(`/responses/${id}?stream=true&starting_after=${start}`));
      assert.equal(events.length, EVENTS - 1 - start);
      events.forEach((e, i) => assert.equal(e.data.sequence_number, start + 1 + i));
      assert.equal(events.at(-1)!.event, 'response.completed');
    }
  });
});
