// Every stream goes through one writer that waits for 'drain' or 'close' and stops its source when the
// client leaves. A client that stops reading while the socket buffer is full, then closes, must release
// the server: the upstream call is closed and the key's open-stream slot (RATE_LIMIT_MAX_STREAMS=1)
// comes back, so the next stream is served. Raw sockets, since the point is a client that does not read.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { startMockUpstream } from './support/mock-upstream.js';
import { KEY_A, startServer, type TestServer } from './support/server.js';

const STORIES = resolve('../shared/models/stories260K.gguf');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  // mock-big: 2,000 chunks of 16 KB, one every 2 ms or so: several MB a second for 4 s or more — more
  // than the loopback socket buffers hold (~3 MB), and still sending when the test's client leaves.
  upstream = await startMockUpstream({ models: ['mock-text', 'mock-big'], scenario: { kind: 'text', chunks: 2000, chunkSize: 16_000, delayMs: 2 } });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, RATE_LIMIT_MAX_STREAMS: '1', ...(existsSync(STORIES) ? { MODEL_PATH: STORIES } : {}) } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

const chat = (model: string, signal?: AbortSignal) => server.fetch('/chat/completions', {
  method: 'POST', signal, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Once upon a time' }] }),
});

/** Waits until a new stream of the key is served (its open-stream slot was released), or fails. */
async function nextStreamServed(model: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const res = await chat(model);
    const text = await res.text();
    if (res.status === 200) {
      assert.ok(text.includes('data: [DONE]'), text.slice(-200));
      return;
    }
    last = `${res.status} ${text}`;
    await sleep(100);
  }
  assert.fail(`the stream slot was never released: ${last}`);
}

describe('one stream writer', () => {
  it('a proxied chat stream whose client stalls with a full buffer, then leaves, releases the server', async () => {
    const { port, hostname } = new URL(server.url);
    const body = JSON.stringify({ model: 'openai:mock-big', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const sock = net.connect(Number(port), hostname);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.pause(); // never read: the server's writes back up until the socket refuses them
    sock.write(`POST /api/v1/llm/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${KEY_A}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await sleep(2500);
    // Still open (blocked on the full socket): it holds the key's only stream slot.
    const busy = await chat('openai:mock-text');
    assert.equal(busy.status, 429, await busy.text());
    const abortedBefore = upstream.aborted;
    sock.destroy();
    await nextStreamServed('openai:mock-text');
    for (let i = 0; i < 50 && upstream.aborted === abortedBefore; i++) await sleep(100);
    assert.equal(upstream.aborted, abortedBefore + 1, 'the upstream call was closed');
  });

  it('a generated chat stream whose client leaves stops and releases its slot', { skip: existsSync(STORIES) ? false : 'stories260K missing' }, async () => {
    const ctl = new AbortController();
    const res = await chat('auto', ctl.signal);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk arrived: generation is under way
    ctl.abort();
    await nextStreamServed('auto');
  });
});
