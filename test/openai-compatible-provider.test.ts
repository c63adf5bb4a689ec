// The OpenAI-compatible provider against the mock upstream (test/support/mock-upstream.ts).
// Run: node --test dist/test/openai-compatible-provider.test.js

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from 'undici';
import { createOpenAICompatibleProvider } from '../src/providers/openai-compatible/index.js';
import { parseChatStream } from '../src/providers/openai-compatible/parse-chat-stream.js';
import { ProviderError, type GenerateEvent, type GenerateRequest, type Provider } from '../src/providers/types.js';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { waitFor } from './support/wait.js';

const API_KEY = 'sk-test-secret-123';

let mock: MockUpstream;
let provider: Provider;

before(async () => {
  mock = await startMockUpstream({ text: { chunks: 6, chunkSize: 5 } });
  provider = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, apiKey: API_KEY, headers: { 'x-extra': 'yes' } });
});

after(async () => {
  await provider.close();
  await mock.close();
});

function req(model: string, extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return { model, messages: [{ role: 'user', content: 'hi' }], signal: new AbortController().signal, ...extra };
}

async function collect(it: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const ev of it) out.push(ev);
  return out;
}

function lastRequest(model: string) {
  const r = [...mock.requests].reverse().find((x) => x.body?.model === model);
  assert.ok(r, `no request recorded for ${model}`);
  return r;
}

function countRequests(model: string): number {
  return mock.requests.filter((x) => x.body?.model === model).length;
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function rejectsProviderError(p: Promise<unknown>, check: (e: ProviderError) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ProviderError, `expected ProviderError, got ${String(e)}`);
    check(e);
    return true;
  });
}

describe('generate: streaming', () => {
  test('text arrives as several deltas, usage comes before finish', async () => {
    const events = await collect(provider.generate(req('mock-text')));
    const texts = events.filter((e) => e.type === 'text');
    assert.equal(texts.length, 6);
    assert.equal(texts.map((e) => (e as { delta: string }).delta).join(''), 'lorem ipsum dolor sit amet con');
    // The mock sends finish_reason before the usage chunk; the provider reorders.
    assert.deepEqual(events.slice(-2).map((e) => e.type), ['usage', 'finish']);
    const usage = events.at(-2) as Extract<GenerateEvent, { type: 'usage' }>;
    assert.equal(usage.usage.outputTokens, 6);
    assert.ok(usage.usage.inputTokens > 0);
    assert.deepEqual(events.at(-1), { type: 'finish', reason: 'stop' });

    const r = lastRequest('mock-text');
    assert.equal(r.path, '/v1/chat/completions');
    assert.equal(r.headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(r.headers['x-extra'], 'yes');
    assert.equal(r.body.stream, true);
    assert.deepEqual(r.body.stream_options, { include_usage: true });
  });

  test('connections are pooled (keep-alive)', async () => {
    await collect(provider.generate(req('mock-text')));
    const before = mock.connections;
    for (let i = 0; i < 3; i++) await collect(provider.generate(req('mock-text')));
    assert.equal(mock.connections, before);
  });

  test('request translation', async () => {
    await collect(
      provider.generate({
        model: 'mock-echo',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'developer', content: 'dev note' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image', url: 'data:image/png;base64,AAAA', detail: 'low' },
              { type: 'file', filename: 'a.pdf', data: 'data:application/pdf;base64,JVBER' },
            ],
          },
          { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }], reasoning: 'look it up' },
          { role: 'tool', toolCallId: 'call_1', content: '{"answer":42}' },
          { role: 'user', content: 'thanks' },
        ],
        tools: [
          { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: true },
          { name: 'noop', description: null, parameters: null, strict: null },
        ],
        toolChoice: { name: 'lookup' },
        parallelToolCalls: false,
        temperature: 0.2,
        topP: 0.9,
        presencePenalty: 0.1,
        frequencyPenalty: 0.3,
        maxOutputTokens: 77,
        responseFormat: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true },
        logprobs: true,
        topLogprobs: 3,
        reasoningEffort: 'low',
        user: 'u-1',
        signal: new AbortController().signal,
      }),
    );
    const b = lastRequest('mock-echo').body;
    assert.deepEqual(b.messages, [
      { role: 'system', content: 'be brief' },
      { role: 'system', content: 'dev note' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
          { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBER' } },
        ],
      },
      { role: 'assistant', content: null, reasoning_content: 'look it up', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"answer":42}' },
      { role: 'user', content: 'thanks' },
    ]);
    assert.deepEqual(b.tools, [
      { type: 'function', function: { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: true } },
      { type: 'function', function: { name: 'noop' } },
    ]);
    assert.deepEqual(b.tool_choice, { type: 'function', function: { name: 'lookup' } });
    assert.equal(b.parallel_tool_calls, false);
    assert.equal(b.temperature, 0.2);
    assert.equal(b.top_p, 0.9);
    assert.equal(b.presence_penalty, 0.1);
    assert.equal(b.frequency_penalty, 0.3);
    assert.equal(b.max_tokens, 77);
    assert.deepEqual(b.response_format, { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } });
    assert.equal(b.logprobs, true);
    assert.equal(b.top_logprobs, 3);
    assert.equal(b.reasoning_effort, 'low');
    assert.equal(b.user, 'u-1');
  });

  test('optional fields are omitted; tool_choice only with tools; json_object', async () => {
    await collect(provider.generate(req('mock-echo', { toolChoice: 'required', parallelToolCalls: true, responseFormat: { type: 'json_object' } })));
    const b = lastRequest('mock-echo').body;
    assert.deepEqual(Object.keys(b).sort(), ['messages', 'model', 'response_format', 'stream', 'stream_options']);
    assert.deepEqual(b.response_format, { type: 'json_object' });
  });

  test('echo returns what the model saw', async () => {
    const events = await collect(provider.generate(req('mock-echo', { messages: [{ role: 'user', content: 'say these exact words' }] })));
    const text = events.flatMap((e) => (e.type === 'text' ? [e.delta] : [])).join('');
    assert.equal(text, 'say these exact words');
  });

  test('two parallel tool calls stream as start + argument deltas', async () => {
    const events = await collect(
      provider.generate(req('mock-tool-2', { tools: [{ name: 'weather' }, { name: 'time' }], toolChoice: 'auto', parallelToolCalls: true })),
    );
    const starts = events.filter((e) => e.type === 'tool_call_start');
    assert.deepEqual(starts, [
      { type: 'tool_call_start', index: 0, id: 'call_mock_0', name: 'weather' },
      { type: 'tool_call_start', index: 1, id: 'call_mock_1', name: 'time' },
    ]);
    const args = [0, 1].map((i) =>
      events
        .filter((e) => e.type === 'tool_call_delta' && e.index === i)
        .map((e) => (e as { delta: string }).delta)
        .join(''),
    );
    assert.ok(events.filter((e) => e.type === 'tool_call_delta' && e.index === 0).length > 1, 'arguments arrive in fragments');
    assert.deepEqual(JSON.parse(args[0]!), { city: 'Paris', unit: 'celsius' });
    assert.deepEqual(JSON.parse(args[1]!), { city: 'Tokyo', unit: 'celsius' });
    assert.deepEqual(events.slice(-2).map((e) => e.type), ['usage', 'finish']);
    assert.deepEqual(events.at(-1), { type: 'finish', reason: 'tool_calls' });
    const b = lastRequest('mock-tool-2').body;
    assert.equal(b.tool_choice, 'auto');
    assert.equal(b.parallel_tool_calls, true);
  });

  test('logprobs are mapped with bytes and top_logprobs', async () => {
    const events = await collect(provider.generate(req('mock-text', { logprobs: true, topLogprobs: 2 })));
    const texts = events.filter((e): e is Extract<GenerateEvent, { type: 'text' }> => e.type === 'text');
    assert.equal(texts.length, 6);
    for (const t of texts) {
      assert.ok(t.logprobs && t.logprobs.length === 1);
      const lp = t.logprobs[0]!;
      assert.equal(lp.token, t.delta);
      assert.deepEqual(lp.bytes, [...Buffer.from(t.delta)]);
      assert.equal(typeof lp.logprob, 'number');
      assert.equal(lp.top_logprobs.length, 2);
      assert.deepEqual(lp.top_logprobs[1]!.bytes, [...Buffer.from('alt1')]);
    }
  });
});

describe('complete: whole turns (nobody watches the deltas)', () => {
  test('one non-streamed call; the same events, text as one delta', async () => {
    const events = await provider.complete!(req('mock-text'));
    const sent = lastRequest('mock-text').body;
    assert.equal(sent.stream, undefined, 'asked for a non-streamed completion');
    assert.equal(sent.stream_options, undefined);
    const texts = events.filter((e) => e.type === 'text');
    assert.equal(texts.length, 1);
    const streamed = await collect(provider.generate(req('mock-text')));
    assert.equal((texts[0] as { delta: string }).delta, streamed.filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta).join(''));
    assert.deepEqual(events.slice(-2).map((e) => e.type), ['usage', 'finish']);
    assert.deepEqual(events.at(-1), { type: 'finish', reason: 'stop' });
  });

  test('tool calls: start + whole arguments, finish tool_calls', async () => {
    const events = await provider.complete!(req('mock-tool-2', { tools: [{ name: 'get_weather', parameters: { type: 'object' } }] }));
    const starts = events.filter((e) => e.type === 'tool_call_start') as Array<{ index: number; id: string; name: string }>;
    assert.deepEqual(starts.map((s) => [s.index, s.id, s.name]), [[0, 'call_mock_0', 'get_weather'], [1, 'call_mock_1', 'get_weather']]);
    const args = events.filter((e) => e.type === 'tool_call_delta') as Array<{ index: number; delta: string }>;
    assert.deepEqual(args.map((a) => [a.index, JSON.parse(a.delta).city]), [[0, 'Paris'], [1, 'Tokyo']]);
    assert.deepEqual(events.at(-1), { type: 'finish', reason: 'tool_calls' });
  });

  test('a reply that takes longer than the first-byte timeout is not cut: only the total deadline applies', async () => {
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, timeoutMs: 10_000, firstByteTimeoutMs: 200 });
    try {
      const t0 = Date.now();
      const events = await p.complete!(req('mock-slow'));
      assert.ok(Date.now() - t0 >= 900, 'the mock answers after 20 × 50 ms');
      assert.deepEqual(events.at(-1), { type: 'finish', reason: 'stop' });
      // …while the total deadline still ends it.
      const q = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, timeoutMs: 300 });
      await rejectsProviderError(q.complete!(req('mock-slow')), (e) => assert.equal(e.code, 'upstream_timeout'));
      await q.close();
    } finally {
      await p.close();
    }
  });

  test('a reply that is not JSON, or not a chat completion -> ProviderError', async () => {
    await rejectsProviderError(provider.complete!(req('mock-garbage')), (e) => assert.equal(e.code, 'upstream_bad_response'));
    await rejectsProviderError(provider.complete!(req('mock-drop')), (e) => assert.equal(e.status, 0));
  });

  test("the caller's abort ends the turn quietly with no events, before or during the reply", async () => {
    const ctl = new AbortController();
    ctl.abort();
    assert.deepEqual(await provider.complete!(req('mock-slow', { signal: ctl.signal })), []);
    const late = new AbortController();
    setTimeout(() => late.abort(), 100);
    const t0 = Date.now();
    assert.deepEqual(await provider.complete!(req('mock-slow', { signal: late.signal })), []);
    assert.ok(Date.now() - t0 < 800, 'did not wait for the whole reply (20 × 50 ms)');
  });
});

describe('generate: errors and retries', () => {
  test('upstream 500 -> ProviderError with upstream message, after retries', async () => {
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, apiKey: API_KEY, maxRetries: 1 });
    const n = countRequests('mock-error-500');
    await rejectsProviderError(collect(p.generate(req('mock-error-500'))), (e) => {
      assert.equal(e.status, 500);
      assert.equal(e.message, 'mock upstream error 500');
      assert.equal(e.retryable, true);
      assert.ok(!e.message.includes(API_KEY));
    });
    assert.equal(countRequests('mock-error-500') - n, 2);
    await p.close();
  });

  test('4xx is not retried', async () => {
    const n = countRequests('mock-error-400');
    await rejectsProviderError(collect(provider.generate(req('mock-error-400'))), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.retryable, false);
    });
    assert.equal(countRequests('mock-error-400') - n, 1);
  });

  test('429 once -> retried and succeeds', async () => {
    const n = countRequests('mock-error-429-once');
    const events = await collect(provider.generate(req('mock-error-429-once')));
    assert.equal(countRequests('mock-error-429-once') - n, 2);
    assert.ok(events.some((e) => e.type === 'text'));
    assert.deepEqual(events.at(-1), { type: 'finish', reason: 'stop' });
  });

  test('connection refused -> retried, then ProviderError status 0', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const p = createOpenAICompatibleProvider({ id: 'dead', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: API_KEY, maxRetries: 1 });
    await rejectsProviderError(collect(p.generate(req('x'))), (e) => {
      assert.equal(e.status, 0);
      assert.equal(e.retryable, true);
      assert.match(e.message, /ECONNREFUSED/);
    });
    await p.close();
  });

  test('rejected API key: 401 message is redacted', async () => {
    const authMock = await startMockUpstream({ apiKey: 'sk-right' });
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: authMock.url, apiKey: 'sk-wrong-secret' });
    await rejectsProviderError(collect(p.generate(req('mock-text'))), (e) => {
      assert.equal(e.status, 401);
      assert.ok(!e.message.includes('sk-wrong-secret'), e.message);
      assert.match(e.message, /Incorrect API key provided: \[redacted\]/);
    });
    await p.close();
    await authMock.close();
  });

  test('drop mid-stream -> ProviderError after the first deltas', async () => {
    const events: GenerateEvent[] = [];
    await rejectsProviderError(
      (async () => {
        for await (const ev of provider.generate(req('mock-drop'))) events.push(ev);
      })(),
      (e) => {
        assert.equal(e.message, 'upstream stream ended unexpectedly');
        assert.equal(e.status, 0);
        assert.equal(e.retryable, false);
      },
    );
    assert.equal(events.filter((e) => e.type === 'text').length, 3);
    assert.ok(!events.some((e) => e.type === 'finish'));
  });

  test('garbage data line -> ProviderError', async () => {
    await rejectsProviderError(collect(provider.generate(req('mock-garbage'))), (e) => {
      assert.equal(e.code, 'upstream_bad_response');
      assert.equal(e.retryable, false);
    });
  });

  test('hang + short timeout -> upstream_timeout, and the upstream sees the disconnect', async () => {
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, timeoutMs: 300 });
    const aborted = mock.aborted;
    const t0 = Date.now();
    await rejectsProviderError(collect(p.generate(req('mock-hang'))), (e) => {
      assert.equal(e.code, 'upstream_timeout');
    });
    assert.ok(Date.now() - t0 < 2000);
    await waitFor(() => mock.aborted > aborted);
    await p.close();
  });

  test('first-byte timeout -> upstream_timeout', async () => {
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, timeoutMs: 10_000, firstByteTimeoutMs: 200 });
    await rejectsProviderError(collect(p.generate(req('mock-hang'))), (e) => {
      assert.equal(e.code, 'upstream_timeout');
      assert.match(e.message, /200 ms/);
    });
    await p.close();
  });

  test('Retry-After is honoured', async () => {
    mock.setScenario({ kind: 'error', status: 429, once: true, retryAfter: 1 });
    try {
      const t0 = Date.now();
      const events = await collect(provider.generate(req('any-model')));
      assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
      assert.deepEqual(events.at(-1), { type: 'finish', reason: 'stop' });
    } finally {
      mock.setScenario({ kind: 'text' });
    }
  });

  test('total timeout mid-stream -> upstream_timeout', async () => {
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, timeoutMs: 300 });
    let texts = 0;
    await rejectsProviderError(
      (async () => {
        for await (const ev of p.generate(req('mock-slow'))) if (ev.type === 'text') texts++;
      })(),
      (e) => assert.equal(e.code, 'upstream_timeout'),
    );
    assert.ok(texts > 0 && texts < 20, `texts=${texts}`);
    await p.close();
  });
});

describe('generate: abort', () => {
  test('abort mid-stream ends the iterator quietly and closes the upstream connection', async () => {
    const ac = new AbortController();
    const aborted = mock.aborted;
    let texts = 0;
    const t0 = Date.now();
    for await (const ev of provider.generate(req('mock-slow', { signal: ac.signal }))) {
      if (ev.type === 'text' && ++texts === 2) ac.abort();
      assert.ok(texts <= 2, 'no events after abort');
    }
    assert.equal(texts, 2);
    assert.ok(Date.now() - t0 < 500);
    await waitFor(() => mock.aborted > aborted);
  });

  test('consumer breaking out of the loop closes the upstream connection', async () => {
    const aborted = mock.aborted;
    for await (const ev of provider.generate(req('mock-slow'))) if (ev.type === 'text') break;
    await waitFor(() => mock.aborted > aborted);
  });

  test('abort while waiting for headers ends quietly', async () => {
    const ac = new AbortController();
    const aborted = mock.aborted;
    setTimeout(() => ac.abort(), 100);
    const events = await collect(provider.generate(req('mock-hang', { signal: ac.signal })));
    assert.deepEqual(events, []);
    await waitFor(() => mock.aborted > aborted);
  });

  test('already-aborted signal yields nothing and sends nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const n = mock.requests.length;
    assert.deepEqual(await collect(provider.generate(req('mock-text', { signal: ac.signal }))), []);
    assert.equal(mock.requests.length, n);
  });
});

describe('models', () => {
  test('listModels from upstream, cached', async () => {
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url });
    const count = () => mock.requests.filter((r) => r.path === '/v1/models').length;
    const n = count();
    const models = await p.listModels();
    const text = models.find((m) => m.id === 'mock-text');
    assert.ok(text);
    assert.equal(text.ownedBy, 'mock');
    assert.ok(text.created > 0);
    assert.equal(text.contextWindow, 8192);
    await p.listModels();
    assert.equal(count() - n, 1);
    assert.equal(await p.contextWindow!('mock-text'), 8192);
    await p.close();
  });

  test('configured models need no upstream call; capabilities', async () => {
    const p = createOpenAICompatibleProvider({ id: 'cfg', baseUrl: mock.url, models: ['a', 'b'] });
    const n = mock.requests.length;
    assert.deepEqual(await p.listModels(), [
      { id: 'a', created: 0, ownedBy: 'cfg' },
      { id: 'b', created: 0, ownedBy: 'cfg' },
    ]);
    assert.equal(mock.requests.length, n);
    assert.deepEqual(p.capabilities('a'), { images: true, files: true, jsonSchema: true, grammar: false, reasoningInput: false, continuation: false });
    await p.close();
    // Which models take their reasoning back is declared: all, or the ones named.
    const all = createOpenAICompatibleProvider({ id: 'cfg', baseUrl: mock.url, reasoningInput: true });
    const named = createOpenAICompatibleProvider({ id: 'cfg', baseUrl: mock.url, reasoningInput: ['gpt-oss-20b'] });
    assert.equal(all.capabilities('a').reasoningInput, true);
    assert.equal(named.capabilities('gpt-oss-20b').reasoningInput, true);
    assert.equal(named.capabilities('a').reasoningInput, false);
    await Promise.all([all.close(), named.close()]);
  });
});

describe('proxyChatCompletions', () => {
  async function direct(body: Record<string, unknown>): Promise<{ status: number; contentType: unknown; bytes: Buffer }> {
    const res = await request(`${mock.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, contentType: res.headers['content-type'], bytes: Buffer.from(await res.body.arrayBuffer()) };
  }

  test('streaming bytes pass through identically', async () => {
    const body = { model: 'mock-text', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } };
    const expected = await direct(body);
    const res = await provider.proxyChatCompletions!(body, new AbortController().signal);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    const got = await readAll(res.body);
    assert.ok(got.length > 0);
    assert.ok(got.equals(expected.bytes));
    const r = lastRequest('mock-text');
    assert.equal(r.headers.authorization, `Bearer ${API_KEY}`);
    assert.deepEqual(r.body, body);
  });

  test('a non-streamed completion slower than the first-byte timeout passes through', async () => {
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, timeoutMs: 10_000, firstByteTimeoutMs: 200 });
    try {
      const r = await p.proxyChatCompletions!({ model: 'mock-slow', messages: [{ role: 'user', content: 'hi' }] }, new AbortController().signal);
      assert.equal(r.status, 200);
      let text = '';
      for await (const c of r.body) text += Buffer.from(c).toString('utf8');
      assert.equal(JSON.parse(text).object, 'chat.completion');
    } finally {
      await p.close();
    }
  });

  test('non-stream JSON passes through identically', async () => {
    const body = { model: 'mock-tool', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }] };
    const expected = await direct(body);
    const res = await provider.proxyChatCompletions!(body, new AbortController().signal);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    const got = await readAll(res.body);
    assert.ok(got.equals(expected.bytes));
    assert.equal(JSON.parse(got.toString()).choices[0].message.tool_calls[0].function.name, 'f');
  });

  test('429 once is retried; a persistent error is passed through', async () => {
    const ok = await provider.proxyChatCompletions!({ model: 'mock-error-429-once', messages: [] }, new AbortController().signal);
    assert.equal(ok.status, 200);
    await readAll(ok.body);
    const p = createOpenAICompatibleProvider({ id: 'up', baseUrl: mock.url, maxRetries: 0 });
    const bad = await p.proxyChatCompletions!({ model: 'mock-error-503', messages: [] }, new AbortController().signal);
    assert.equal(bad.status, 503);
    assert.equal(JSON.parse((await readAll(bad.body)).toString()).error.message, 'mock upstream error 503');
    await p.close();
  });

  test('abort while streaming ends the body quietly and reaches the upstream', async () => {
    const ac = new AbortController();
    const aborted = mock.aborted;
    const res = await provider.proxyChatCompletions!({ model: 'mock-slow', messages: [{ role: 'user', content: 'x' }], stream: true }, ac.signal);
    let chunks = 0;
    for await (const _ of res.body) if (++chunks === 2) ac.abort();
    assert.equal(chunks, 2);
    await waitFor(() => mock.aborted > aborted);
  });
});

describe('parseChatStream robustness', () => {
  function body(parts: string[]) {
    return {
      destroyed: false,
      destroy() {
        this.destroyed = true;
      },
      async *[Symbol.asyncIterator]() {
        for (const p of parts) yield Buffer.from(p);
      },
    };
  }

  test('reasoning: reasoning_content or reasoning (one of them when both come), an OpenRouter summary is a summary', async () => {
    const chunk = (delta: unknown) => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`;
    const raw = chunk({ reasoning_content: 'a' }) + chunk({ reasoning: 'b' }) + chunk({ reasoning_content: 'c', reasoning: 'c' })
      + chunk({ reasoning_content: null, reasoning: 'd' })
      + chunk({ reasoning: 'S', reasoning_details: [{ type: 'reasoning.summary', summary: 'S', index: 0 }] })
      + chunk({ reasoning: '', content: 'x' })
      + `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 9, completion_tokens_details: { reasoning_tokens: 5 } } })}\n\n`
      + 'data: [DONE]\n\n';
    const events = await collect(parseChatStream({ destroy() {}, async *[Symbol.asyncIterator]() { yield Buffer.from(raw); } }, () => false));
    assert.deepEqual(events, [
      { type: 'reasoning', delta: 'a' },
      { type: 'reasoning', delta: 'b' },
      { type: 'reasoning', delta: 'c' },
      { type: 'reasoning', delta: 'd' },
      { type: 'reasoning_summary', delta: 'S' },
      { type: 'text', delta: 'x' },
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 9, reasoningTokens: 5 } },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  test('unknown/malformed chunks are skipped; split frames, CRLF, comments; finish without [DONE]', async () => {
    const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\r\n\r\n`;
    const raw =
      ': keep-alive\n\n' +
      chunk({ foo: 1 }) +
      chunk({ choices: 'nope' }) +
      chunk({ choices: [{ index: 0, delta: { content: 5 } }] }) +
      chunk({ choices: [{ index: 0, delta: { reasoning_content: 'hmm' } }] }) +
      chunk({ choices: [{ index: 0, delta: { content: 'héllo' }, logprobs: { content: [{ token: 'héllo', logprob: -1, bytes: null, top_logprobs: [{ token: 'x' }] }] } }] }) +
      // A tool call whose name arrives after an argument fragment; upstream index 3.
      chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 3, function: { arguments: '{"a"' } }] } }] }) +
      chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 3, id: 'c1', function: { name: 'f', arguments: ':1}' } }] } }] }) +
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'function_call' }] }) +
      chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 1 } } });
    // Split at awkward places, including inside a multi-byte character.
    const bytes = Buffer.from(raw);
    const cuts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) cuts.push(bytes.subarray(i, i + 7));
    const it = {
      destroy() {},
      async *[Symbol.asyncIterator]() {
        for (const c of cuts) yield c;
      },
    };
    const events = await collect(parseChatStream(it, () => false));
    assert.deepEqual(events, [
      { type: 'reasoning', delta: 'hmm' },
      { type: 'text', delta: 'héllo', logprobs: [{ token: 'héllo', logprob: -1, bytes: [...Buffer.from('héllo')], top_logprobs: [] }] },
      { type: 'tool_call_start', index: 0, id: 'c1', name: 'f' },
      { type: 'tool_call_delta', index: 0, delta: '{"a":1}' },
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 2, cachedTokens: 1 } },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  test('end without [DONE] or finish -> ProviderError; error chunk -> ProviderError', async () => {
    await rejectsProviderError(collect(parseChatStream(body(['data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n']), () => false)), (e) =>
      assert.equal(e.message, 'upstream stream ended unexpectedly'),
    );
    await rejectsProviderError(collect(parseChatStream(body(['data: {"error":{"message":"boom","code":500}}\n\n']), () => false)), (e) => {
      assert.equal(e.message, 'boom');
      assert.equal(e.status, 500);
    });
  });
});
