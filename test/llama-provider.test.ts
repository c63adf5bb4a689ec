// Integration tests for the in-process llama.cpp provider against real GGUF models:
// ../shared/models/stories260K.gguf (skipped with a printed reason when absent) and the generated
// fallback model. Everything runs with threads: 1 — more threads oversubscribe small CI machines.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { createLlamaProvider, type LlamaProvider } from '../src/providers/llama/index.js';
import {
  ProviderError,
  type ChatMessage,
  type FunctionToolDef,
  type GenerateEvent,
  type GenerateRequest,
} from '../src/providers/types.js';
import { generateTinyGguf } from '../src/setup/generate-tiny-gguf.js';
import { resolveDefaultModelPath } from '../src/setup/ensure-model.js';

const STORIES = resolve('../shared/models/stories260K.gguf');
const storiesMissing = existsSync(STORIES) ? false : `stories260K model not found at ${STORIES}`;
if (storiesMissing) console.log(`# skipping stories260K tests: ${storiesMissing}`);

const story: ChatMessage[] = [
  { role: 'system', content: 'You write short stories for children.' },
  { role: 'user', content: 'Tell me a story about a cat.' },
];

function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return { model: 'stories260K', messages: story, signal: new AbortController().signal, ...overrides };
}

async function collect(events: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

const texts = (evs: GenerateEvent[]) => evs.filter((e): e is Extract<GenerateEvent, { type: 'text' }> => e.type === 'text');
const usageOf = (evs: GenerateEvent[]) => evs.find((e) => e.type === 'usage') as Extract<GenerateEvent, { type: 'usage' }>;
const finishOf = (evs: GenerateEvent[]) => evs.at(-1) as Extract<GenerateEvent, { type: 'finish' }>;
const ajv = new Ajv({ strict: false });

describe('llama provider with stories260K', { skip: storiesMissing }, () => {
  let provider: LlamaProvider;
  const logs: string[] = [];

  before(async () => {
    provider = createLlamaProvider({ id: 'llama', modelPath: STORIES, threads: 1, log: (m) => logs.push(m) });
    await provider.load();
  });
  after(async () => {
    await provider?.close();
  });

  test('describes its single model', async () => {
    const models = await provider.listModels();
    assert.equal(models.length, 1);
    assert.equal(models[0]!.id, 'stories260K');
    assert.ok((await provider.contextWindow!('stories260K'))! >= 512);
    assert.deepEqual(provider.capabilities('stories260K'), { images: false, files: false, jsonSchema: true, grammar: true, reasoningInput: false, continuation: true });
    assert.ok(logs.some((l) => l.includes('100%')), 'load progress is logged');
  });

  test('streams token deltas, then real usage and finish', async () => {
    const evs = await collect(provider.generate(request({ maxOutputTokens: 40, model: 'anything' })));
    const deltas = texts(evs);
    assert.ok(deltas.length > 1, 'several text deltas');
    assert.ok(deltas.every((d) => d.logprobs === undefined), 'no logprobs unless asked');
    const usage = usageOf(evs).usage;
    assert.equal(usage.inputTokens, await provider.countTokens!('stories260K', story));
    assert.ok(usage.outputTokens >= deltas.length && usage.outputTokens <= 40);
    assert.deepEqual(evs.slice(-2).map((e) => e.type), ['usage', 'finish']);
  });

  test('deltas are paced by streamIntervalMs: faster tokens are merged, the first is not held, nothing is lost', async () => {
    const each = createLlamaProvider({ id: 'llama', modelPath: STORIES, threads: 1, streamIntervalMs: 0 });
    const held = createLlamaProvider({ id: 'llama', modelPath: STORIES, threads: 1, streamIntervalMs: 60_000 });
    try {
      const req = () => request({ maxOutputTokens: 60, temperature: 0 });
      const perToken = texts(await collect(each.generate(req())));
      const t0 = Date.now();
      const evs = await collect(held.generate(req()));
      const merged = texts(evs);
      assert.ok(Date.now() - t0 < 30_000, 'the end of the turn is never held');
      assert.ok(perToken.length >= 20, `one delta per token without pacing (${perToken.length})`);
      // The first delta goes out at once; everything after it within the interval is one delta.
      assert.equal(merged.length, 2);
      assert.equal(merged.map((d) => d.delta).join(''), perToken.map((d) => d.delta).join(''));
      assert.deepEqual(evs.slice(-2).map((e) => e.type), ['usage', 'finish']);
    } finally {
      await each.close();
      await held.close();
    }
  });

  test('maxOutputTokens ends with finish "length"', async () => {
    const evs = await collect(provider.generate(request({ maxOutputTokens: 8, temperature: 0 })));
    assert.equal(usageOf(evs).usage.outputTokens, 8);
    assert.equal(finishOf(evs).reason, 'length');
  });

  test('abort stops within a token and releases the sequence', async () => {
    const ac = new AbortController();
    const max = 1500;
    let deltas = 0;
    let abortedAt = 0;
    let abortIndex = -1;
    const evs: GenerateEvent[] = [];
    for await (const e of provider.generate(request({ maxOutputTokens: max, signal: ac.signal }))) {
      evs.push(e);
      if (e.type === 'text' && ++deltas === 3) {
        abortedAt = performance.now();
        abortIndex = evs.length;
        ac.abort();
      }
    }
    assert.ok(abortedAt > 0, 'generation was still running when aborted');
    assert.ok(performance.now() - abortedAt < 2000, 'iterator ended promptly');
    // Text already produced before the abort may still be buffered; after that only usage + finish.
    const tail = evs.slice(abortIndex).map((e) => e.type);
    assert.deepEqual(tail.slice(-2), ['usage', 'finish']);
    assert.ok(tail.length <= 2 + 64, 'at most the already-buffered deltas follow the abort');
    assert.equal(finishOf(evs).reason, 'stop');
    assert.ok(usageOf(evs).usage.outputTokens < max);
    // All sequences are usable again: a full set of parallel requests still completes.
    const again = await Promise.all([0, 1, 2, 3].map(() => collect(provider.generate(request({ maxOutputTokens: 4 })))));
    assert.ok(again.every((r) => finishOf(r) !== undefined));
  });

  test('a consumer that stops reading early frees its sequence', async () => {
    for (let i = 0; i < 6; i++) {
      for await (const e of provider.generate(request({ maxOutputTokens: 1500 }))) {
        if (e.type === 'text') break; // calls return() on the iterator
      }
    }
    const evs = await collect(provider.generate(request({ maxOutputTokens: 3 })));
    assert.equal(usageOf(evs).usage.outputTokens, 3);
  });

  test('an already-aborted request ends without text', async () => {
    const evs = await collect(provider.generate(request({ signal: AbortSignal.abort() })));
    assert.equal(texts(evs).length, 0);
    assert.equal(finishOf(evs).reason, 'stop');
  });

  test('logprobs with top alternatives when asked', async () => {
    const evs = await collect(provider.generate(request({ maxOutputTokens: 10, logprobs: true, topLogprobs: 3 })));
    const deltas = texts(evs);
    assert.ok(deltas.length > 0);
    for (const d of deltas) {
      assert.ok(d.logprobs && d.logprobs.length > 0, 'each delta carries its tokens');
      for (const lp of d.logprobs) {
        assert.equal(typeof lp.token, 'string');
        assert.ok(lp.logprob <= 0 && Number.isFinite(lp.logprob));
        assert.ok(lp.bytes.length > 0);
        assert.equal(lp.top_logprobs.length, 3);
        const sorted = [...lp.top_logprobs].sort((a, b) => b.logprob - a.logprob);
        assert.deepEqual(lp.top_logprobs, sorted, 'alternatives sorted by probability');
      }
    }
    const tokens = deltas.flatMap((d) => d.logprobs!);
    assert.equal(tokens.length, usageOf(evs).usage.outputTokens, 'one entry per generated token');
  });

  test('json_schema output parses and validates', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 20 },
        age: { type: 'integer' },
        pet: { anyOf: [{ type: 'string', enum: ['cat', 'dog'] }, { type: 'null' }] },
        tags: { type: 'array', items: { type: 'string', maxLength: 10 }, maxItems: 3 },
      },
      required: ['name', 'age', 'pet', 'tags'],
      additionalProperties: false,
    };
    const evs = await collect(
      // Greedy: with sampling, the grammar may (rarely) let the model run an integer's digits on until
      // JSON.parse reads it as Infinity, which is valid JSON for the schema but not a JS integer.
      provider.generate(request({ maxOutputTokens: 300, temperature: 0, responseFormat: { type: 'json_schema', name: 'person', schema } })),
    );
    assert.equal(finishOf(evs).reason, 'stop');
    const text = texts(evs).map((d) => d.delta).join('');
    const value = JSON.parse(text);
    assert.ok(ajv.validate(schema, value), ajv.errorsText());
  });

  const weather: FunctionToolDef = {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 30 }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  };
  const time: FunctionToolDef = { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', maxLength: 10 } }, required: ['zone'] } };

  function checkToolCall(evs: GenerateEvent[], allowed: FunctionToolDef[]): void {
    const start = evs.find((e) => e.type === 'tool_call_start') as Extract<GenerateEvent, { type: 'tool_call_start' }>;
    assert.ok(start, 'a tool call was started');
    assert.match(start.id, /^call_[A-Za-z0-9]+$/);
    const tool = allowed.find((t) => t.name === start.name);
    assert.ok(tool, `called one of the allowed tools (got ${start.name})`);
    const args = evs
      .filter((e): e is Extract<GenerateEvent, { type: 'tool_call_delta' }> => e.type === 'tool_call_delta')
      .map((e) => e.delta)
      .join('');
    assert.ok(ajv.validate(tool.parameters!, JSON.parse(args)), ajv.errorsText());
    assert.equal(evs.filter((e) => e.type === 'tool_call_start').length, 1);
    assert.equal(texts(evs).length, 0);
    assert.equal(finishOf(evs).reason, 'tool_calls');
    assert.ok(usageOf(evs).usage.outputTokens > 0);
  }

  test('tool_choice {name} forces a valid call', async () => {
    const evs = await collect(
      provider.generate(request({ tools: [weather, time], toolChoice: { name: 'get_weather' }, parallelToolCalls: false, maxOutputTokens: 200 })),
    );
    checkToolCall(evs, [weather]);
  });

  test('tool_choice "required" picks one of several tools', async () => {
    const evs = await collect(provider.generate(request({ tools: [weather, time], toolChoice: 'required', maxOutputTokens: 200 })));
    checkToolCall(evs, [weather, time]);
  });

  test('tool history renders, and tool_choice "auto" / "none" produce text', async () => {
    const messages: ChatMessage[] = [
      ...story,
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo","unit":"c"}' }] },
      { role: 'tool', toolCallId: 'call_1', content: '{"temp": 3}' },
      { role: 'tool', toolCallId: 'call_unknown', content: 'not json' },
      { role: 'assistant', content: 'It is cold.', toolCalls: [{ id: 'call_2', name: 'get_time', arguments: 'not json' }] },
      { role: 'user', content: [{ type: 'text', text: 'And now?' }, { type: 'image', url: 'data:,' }] },
    ];
    for (const toolChoice of ['auto', 'none'] as const) {
      const evs = await collect(provider.generate(request({ messages, tools: [weather, time], toolChoice, maxOutputTokens: 5 })));
      assert.ok(texts(evs).length > 0);
      assert.equal(evs.filter((e) => e.type === 'tool_call_start').length, 0);
    }
  });

  test('invalid tool_choice fails with a ProviderError', async () => {
    await assert.rejects(collect(provider.generate(request({ tools: [weather], toolChoice: { name: 'nope' } }))), (err) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.status, 400);
      return true;
    });
  });

  test('4 parallel requests plus a queued 5th all complete', async () => {
    const started = performance.now();
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => collect(provider.generate(request({ maxOutputTokens: 30 + i, temperature: 0.5 })))),
    );
    for (const evs of results) {
      assert.ok(['stop', 'length'].includes(finishOf(evs).reason));
      assert.ok(usageOf(evs).usage.outputTokens > 0);
    }
    assert.ok(performance.now() - started < 10_000);
  });
});

describe('llama provider error handling and fallback model', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'respd-llama-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a missing model file gives a ProviderError, not a crash', async () => {
    const p = createLlamaProvider({ id: 'llama', modelPath: join(dir, 'absent.gguf'), threads: 1 });
    await assert.rejects(collect(p.generate(request())), (err) => err instanceof ProviderError && /not found/.test(err.message));
    await p.close();
  });

  test('a corrupt model file gives a ProviderError', async () => {
    const path = join(dir, 'corrupt.gguf');
    await writeFile(path, 'this is not a gguf file');
    const p = createLlamaProvider({ id: 'llama', modelPath: path, threads: 1 });
    await assert.rejects(collect(p.generate(request())), (err) => err instanceof ProviderError);
    await p.close();
  });

  test('the generated fallback GGUF loads and generates', async () => {
    const path = join(dir, 'respd-tiny.gguf');
    await generateTinyGguf(path);
    const p = createLlamaProvider({ id: 'llama', modelPath: path, threads: 1, parallel: 2 });
    try {
      assert.equal((await p.listModels())[0]!.id, 'respd-tiny');
      const evs = await collect(p.generate(request({ maxOutputTokens: 5 })));
      assert.ok(usageOf(evs).usage.outputTokens >= 1);
      assert.ok(['stop', 'length'].includes(finishOf(evs).reason));
    } finally {
      await p.close();
    }
  });

  test('resolveDefaultModelPath: MODEL_PATH, else the first gguf in ./models', async () => {
    const saved = process.env.MODEL_PATH;
    delete process.env.MODEL_PATH;
    try {
      const cwd = join(dir, 'cwd');
      assert.equal(resolveDefaultModelPath(cwd), undefined);
      await generateTinyGguf(join(cwd, 'models', 'b.gguf'));
      await writeFile(join(cwd, 'models', 'a.gguf'), '');
      assert.equal(resolveDefaultModelPath(cwd), join(cwd, 'models', 'a.gguf'));
      process.env.MODEL_PATH = '/some/where.gguf';
      assert.equal(resolveDefaultModelPath(cwd), '/some/where.gguf');
    } finally {
      if (saved === undefined) delete process.env.MODEL_PATH;
      else process.env.MODEL_PATH = saved;
    }
  });
});
