// Fault: slow or idle clients holding connections. Header, request and keep-alive timeouts close them,
// a per-address cap keeps one client from using up the process's descriptors, a 401 closes its
// connection, and a long stream is not cut by any of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_A, readSse, startServer, type TestServer } from './support/server.js';
import { fdsOf } from './support/faults.js';

const PER_ADDRESS = 40;
let upstream: MockUpstream;
let server: TestServer;
let port: number;

before(async () => {
  // mock-text: 40 chunks 75 ms apart, a 3 s stream (longer than every timeout below).
  upstream = await startMockUpstream({ text: { chunks: 40, delayMs: 75 } });
  server = await startServer({
    env: {
      OPENAI_BASE_URL: upstream.url, HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1500',
      HTTP_KEEPALIVE_TIMEOUT_MS: '1000', MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
    },
  });
  port = Number(new URL(server.url).port);
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

function open(localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with ms until the server closes the socket and what it sent, or rejects after `ms`. */
function closedWithin(s: net.Socket, ms: number): Promise<{ after: number; text: string }> {
  const t0 = Date.now();
  let text = '';
  s.on('data', (d) => { text += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    s.once('close', () => { clearTimeout(timer); resolve({ after: Date.now() - t0, text }); });
    s.on('error', () => {});
  });
}

describe('fault: slow and idle connections', () => {
  it('a client that trickles its request head is disconnected', async () => {
    const s = await open();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => !s.destroyed && s.write('X-A: b\r\n'), 200);
    try {
      const r = await closedWithin(s, 4000);
      console.log(`# slow headers closed after ${r.after} ms`);
    } finally {
      clearInterval(drip);
      s.destroy();
    }
  });

  it('a client that trickles its body is disconnected, with or without a valid key', async () => {
    for (const key of [KEY_A, 'not-a-key']) {
      const s = await open();
      s.write(`POST /api/v1/llm/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
      const drip = setInterval(() => !s.destroyed && s.write(' '), 200);
      try {
        const r = await closedWithin(s, 4500);
        console.log(`# slow body (${key === KEY_A ? 'valid' : 'invalid'} key) closed after ${r.after} ms`);
      } finally {
        clearInterval(drip);
        s.destroy();
      }
    }
  });

  it('a 401 closes its connection', async () => {
    const s = await open();
    s.write('GET /api/v1/llm/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n');
    const r = await closedWithin(s, 1000);
    assert.match(r.text, /^HTTP\/1\.1 401/);
    assert.match(r.text, /\r\nconnection: close\r\n/i);
  });

  it('an idle keep-alive connection is closed', async () => {
    const s = await open();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await closedWithin(s, 3000);
    assert.match(r.text, /^HTTP\/1\.1 200/);
    assert.ok(r.after >= 900, `closed after ${r.after} ms`);
  });

  it('one address holding hundreds of connections does not lock out others', async () => {
    const pid = server.proc.pid!;
    const fds = fdsOf(pid);
    const held: net.Socket[] = [];
    try {
      // Idle sockets from another loopback address, re-opened as the server closes them.
      for (let i = 0; i < 300; i++) {
        const s = await open('127.0.0.2').catch(() => undefined);
        if (s) {
          s.on('error', () => {});
          held.push(s);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      const during = fdsOf(pid);
      const alive = held.filter((s) => !s.destroyed && s.readyState === 'open').length;
      console.log(`# 300 connections from one address: server fds ${fds} -> ${during}, ${alive} still open`);
      assert.ok(during - fds <= PER_ADDRESS + 10, `the server holds ${during - fds} more descriptors`);
      const codes = await Promise.all(Array.from({ length: 20 }, () => server.fetch('/models').then((r) => r.status, (e: Error) => e.message)));
      assert.deepEqual(codes, Array(20).fill(200));
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it('a stream outlasting the request and keep-alive timeouts is delivered whole', async () => {
    const t0 = Date.now();
    const events = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'x', stream: true }) }));
    assert.ok(Date.now() - t0 > 2000, 'the stream lasted longer than the timeouts');
    assert.equal(events.at(-1)!.event, 'response.completed');
  });
});
