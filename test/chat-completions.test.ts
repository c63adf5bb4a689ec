// /chat/completions on both kinds of provider, and logprobs through /responses on the embedded engine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';
import { waitFor } from './support/wait.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('chat completions', () => {
  it('embedded engine: non-streaming with usage', async () => {
    const r = await server.client().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 12 });
    assert.equal(r.object, 'chat.completion');
    assert.ok(r.choices[0].message.content!.length > 0);
    assert.ok(r.usage!.prompt_tokens > 0 && r.usage!.completion_tokens > 0);
  });

  it('embedded engine: streaming chunks end with [DONE] and usage when asked', async () => {
    const s = await server.client().chat.completions.create({
      model: 'auto', messages: [{ role: 'user', content: 'Once' }], max_tokens: 8, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let usage: any;
    for await (const ch of s) {
      text += ch.choices[0]?.delta?.content ?? '';
      if (ch.usage) usage = ch.usage;
    }
    assert.ok(text.length > 0);
    assert.ok(usage?.completion_tokens > 0);
  });

  it('upstream: proxies bytes unchanged apart from the model name', async () => {
    const body = { model: 'mock-text', messages: [{ role: 'user', content: 'hi' }], stream: true };
    const direct = await fetch(`${upstream.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.text());
    const via = await server.fetch('/chat/completions', { method: 'POST', body: JSON.stringify({ ...body, model: 'openai:mock-text' }) });
    assert.equal(via.status, 200);
    assert.equal(await via.text(), direct);
    assert.equal(upstream.lastChat().body.model, 'mock-text');
    const json = await server.client().chat.completions.create({ model: 'openai:mock-text', messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(json.choices[0].message.content!.length > 0);
  });

  it('upstream errors keep their status and OpenAI shape; unknown model is a 400', async () => {
    const res = await server.fetch('/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-error-500', messages: [{ role: 'user', content: 'x' }] }) });
    assert.ok(res.status >= 500);
    assert.ok((await res.json()).error.message);
    const bad = await server.fetch('/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'ghost', messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, 'model');
  });
});

describe('logprobs on the embedded engine', () => {
  it('include=message.output_text.logprobs adds token logprobs with top_logprobs; absent without', async () => {
    const c = server.client();
    const withLp = await c.responses.create({ model: 'auto', input: 'Once', max_output_tokens: 8, include: ['message.output_text.logprobs'], top_logprobs: 3 } as any);
    const part = (withLp.output[0] as any).content[0];
    assert.ok(Array.isArray(part.logprobs) && part.logprobs.length > 0);
    const lp = part.logprobs[0];
    assert.equal(typeof lp.token, 'string');
    assert.ok(lp.logprob <= 0);
    assert.ok(Array.isArray(lp.bytes));
    assert.ok(lp.top_logprobs.length > 0 && lp.top_logprobs.length <= 3);
    const without = await c.responses.create({ model: 'auto', input: 'Once', max_output_tokens: 8 });
    assert.equal((without.output[0] as any).content[0].logprobs, undefined);
    // Retrieve shows them only when asked.
    assert.equal(((await c.responses.retrieve(withLp.id)).output[0] as any).content[0].logprobs, undefined);
    const again = await c.responses.retrieve(withLp.id, { include: ['message.output_text.logprobs'] });
    assert.ok((again.output[0] as any).content[0].logprobs.length > 0);
    // Streamed deltas carry them too.
    const events = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'auto', input: 'Once', max_output_tokens: 6, stream: true, include: ['message.output_text.logprobs'] }) }));
    const d = events.find((e) => e.event === 'response.output_text.delta')!;
    assert.ok(d.data.logprobs.length > 0);
  });

  it('a foreground stream whose client disconnects stops generating', async () => {
    const ctl = new AbortController();
    const res = await server.fetch('/responses', { method: 'POST', signal: ctl.signal, body: JSON.stringify({ model: 'openai:mock-slow', input: 'x', stream: true }) });
    let id = '';
    await readSse(res, (e) => { id = e.data.response?.id ?? id; return e.data.sequence_number < 3; });
    ctl.abort();
    assert.equal((await settled(id)).status, 'cancelled');
  });

  // A client that hangs up stops the work it asked for: the upstream sees the disconnect (on the
  // proxied path and on a blocking /responses, whose one non-streamed call would otherwise run on).
  const hangUpAfterUpstreamGotIt = async (path: string, body: object) => {
    const seen = upstream.requests.length;
    const aborted = upstream.aborted;
    const ctl = new AbortController();
    const pending = server.fetch(path, { method: 'POST', signal: ctl.signal, body: JSON.stringify(body) }).catch((e: Error) => e);
    await waitFor(() => upstream.requests.length > seen, 5000);
    ctl.abort();
    assert.equal((await pending as Error).name, 'AbortError');
    await waitFor(() => upstream.aborted > aborted, 5000);
  };

  it('a proxied chat completion whose client hangs up closes the upstream call', async () => {
    await hangUpAfterUpstreamGotIt('/chat/completions', { model: 'openai:mock-hang', messages: [{ role: 'user', content: 'x' }] });
  });

  it('a blocking response whose client hangs up closes the upstream call and ends cancelled', async () => {
    const listed = async () => (await (await server.fetch('/responses?limit=1')).json()).data[0];
    const last = await listed();
    await hangUpAfterUpstreamGotIt('/responses', { model: 'openai:mock-hang', input: 'x' });
    const r = await listed();
    assert.notEqual(r?.id, last?.id, 'the response was stored');
    assert.equal((await settled(r.id)).status, 'cancelled');
  });
});

/** The response once it is no longer in progress (polled for up to ~1 s). */
async function settled(id: string) {
  let r = await server.client().responses.retrieve(id);
  for (let i = 0; i < 50 && r.status === 'in_progress'; i++) {
    await new Promise((res) => setTimeout(res, 20));
    r = await server.client().responses.retrieve(id);
  }
  return r;
}
