// GET /metrics: Prometheus text from a running server, guarded by its own token (never a tenant's key),
// on the API port and on a listener of its own; the figures follow what the server did.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_A, readSse, startServer, type TestServer } from './support/server.js';
import { Conn } from './support/ws-conn.js';
import { waitFor } from './support/wait.js';

const TOKEN = 'metrics-token-0123456789';
let upstream: MockUpstream;
let server: TestServer;
let metricsUrl: string;

/** Sample values by full series name, e.g. `respd_live_streams` or `x{a="b"}`. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
/** Sum of the samples of `name` whose labels include every pair of `labels`. */
function sum(m: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [k, v] of m) {
    const base = k.split('{')[0];
    if (base !== name) continue;
    if (Object.entries(labels).every(([l, val]) => k.includes(`${l}="${val}"`))) total += v;
  }
  return total;
}
async function scrape(url = `${server.url}/metrics`): Promise<Map<string, number>> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await r.text());
}

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, METRICS_TOKEN: TOKEN, METRICS_PORT: '0' } });
  const line = server.logs.find((l) => l.includes('metrics served at'));
  metricsUrl = /metrics served at (http:\/\/\S+?\/metrics)/.exec(line ?? '')![1];
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('GET /metrics', () => {
  it('is refused without the metrics token, and with a tenant key, in the OpenAI error shape', async () => {
    for (const auth of [undefined, `Bearer ${KEY_A}`, `Bearer ${TOKEN}x`, TOKEN]) {
      const r = await fetch(`${server.url}/metrics`, { headers: auth ? { authorization: auth } : {} });
      assert.equal(r.status, 401, String(auth));
      const body = await r.json() as any;
      assert.equal(body.error.code, 'invalid_api_key');
      assert.equal(body.error.type, 'authentication_error');
    }
    // The tenants' API does not take the metrics token either.
    assert.equal((await fetch(`${server.baseURL}/responses`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 401);
  });

  it('counts requests, responses, tokens, upstream errors, tool calls and commits', async () => {
    const before = await scrape();
    const client = server.client();
    const a = await client.responses.create({ model: 'openai:mock-text', input: 'hi' });
    const b = await client.responses.create({ model: 'openai:mock-text', input: 'hi', stream: true });
    for await (const _ of b) { /* drain */ }
    const failed = await client.responses.create({ model: 'openai:mock-error-500', input: 'hi' });
    assert.equal(failed.status, 'failed');
    await client.responses.create({
      model: 'openai:mock-tool', input: 'weather?',
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }],
    });
    await client.responses.retrieve(a.id);
    await server.fetch('/responses/resp_unknown');
    const m = await scrape();
    const d = (name: string, labels: Record<string, string> = {}) => sum(m, name, labels) - sum(before, name, labels);
    assert.equal(d('respd_http_requests_total', { method: 'POST', route: '/api/v1/llm/responses', status: '200' }), 4);
    assert.equal(d('respd_http_requests_total', { method: 'GET', route: '/api/v1/llm/responses/:response_id', status: '200' }), 1);
    assert.equal(d('respd_http_requests_total', { method: 'GET', route: '/api/v1/llm/responses/:response_id', status: '404' }), 1);
    assert.equal(d('respd_responses_total', { status: 'completed' }), 3);
    assert.equal(d('respd_responses_total', { status: 'failed' }), 1);
    assert.equal(d('respd_responses_total', { model: a.model }), 2);
    assert.equal(d('respd_upstream_errors_total', { provider: 'openai' }), 1);
    assert.equal(d('respd_tool_calls_total', { type: 'function', outcome: 'client' }), 1);
    assert.equal(d('respd_response_duration_seconds_count'), 4);
    assert.ok(d('respd_response_first_output_seconds_count') >= 3);
    assert.ok(d('respd_tokens_total', { direction: 'input' }) >= a.usage!.input_tokens * 2);
    assert.ok(d('respd_tokens_total', { direction: 'output' }) >= a.usage!.output_tokens * 2);
    assert.ok(d('respd_commit_seconds_count', { outcome: 'ok' }) >= 1);
    assert.ok(d('respd_commit_batch_responses_count') >= 1);
    assert.equal(sum(m, 'respd_background_queue_depth'), 0);
    assert.ok(m.has('respd_process_resident_memory_bytes') || m.has('respd_process_heap_bytes'));
  });

  it('follows open streams and WebSockets as gauges', async () => {
    const r = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-slow', input: 'hi', stream: true }) });
    let seen = 0;
    let during = -1;
    await readSse(r, () => {
      if (++seen === 3) return false;
      return true;
    }).then(async () => { /* stream cancelled by the reader after 3 events */ });
    // A second one read while it runs.
    const r2 = await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-slow', input: 'hi', stream: true }) });
    const reader = r2.body!.getReader();
    await reader.read();
    during = sum(await scrape(), 'respd_live_streams');
    assert.ok(during >= 1, `live streams while one is open: ${during}`);
    await reader.cancel();
    const conn = await Conn.open(server);
    assert.equal(sum(await scrape(), 'respd_websockets_open'), 1);
    conn.ws.close();
    await waitFor(() => conn.closed, 5000);
    let after = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      after = await scrape();
      if (sum(after, 'respd_websockets_open') === 0 && sum(after, 'respd_live_streams') === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(sum(after, 'respd_websockets_open'), 0);
    assert.equal(sum(after, 'respd_live_streams'), 0);
  });

  it('is served on METRICS_PORT, with the token, and nothing else there', async () => {
    assert.ok(metricsUrl.startsWith('http://127.0.0.1:'));
    assert.notEqual(new URL(metricsUrl).port, new URL(server.url).port);
    const m = await scrape(metricsUrl);
    assert.ok(sum(m, 'respd_http_requests_total') > 0);
    assert.equal((await fetch(metricsUrl)).status, 401);
    const other = await fetch(metricsUrl.replace('/metrics', '/api/v1/llm/responses'), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(other.status, 404);
    assert.equal((await other.json() as any).error.code, 'unknown_route');
  });

  it('is not served on the API port without METRICS_TOKEN', async () => {
    const plain = await startServer();
    try {
      const r = await fetch(`${plain.url}/metrics`);
      assert.equal(r.status, 404);
      assert.equal((await r.json() as any).error.code, 'unknown_route');
      assert.ok(!plain.logs.some((l) => l.includes('metrics served at')));
    } finally {
      await plain.stop();
    }
  });
});
