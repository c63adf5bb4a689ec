// Reasoning on the embedded engine, over HTTP with the `openai` client: a chat format whose thought
// segment every response starts in (LLAMA_CHAT_WRAPPER=qwen3.5: the engine writes `<think>\n` after
// the prompt) and an effort budget (low = a quarter of max_output_tokens, then the engine closes the thought
// and the model goes on with its answer), so any model — stories260K, or the generated one when
// ../shared is absent — deterministically gives reasoning, then text. Also /chat/completions'
// reasoning_content, and encrypted reasoning given back into the next turn's prompt.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateTinyGguf } from '../src/setup/generate-tiny-gguf.js';
import { openResponsesAvailable, openResponsesSkipReason, validateComponent, validateResponseObject, validateStreamEvent } from './support/openresponses.js';
import { startServer, type TestServer } from './support/server.js';

const STORIES = resolve('../shared/models/stories260K.gguf');
// THOUGHT_BUDGETS.low: a quarter of max_output_tokens, at most 512 ('minimal' is not in the Open
// Responses schema's effort enum). Short enough that stories260K has not ended its story yet.
const MAX = 200;
const BUDGET = 50;
// Token groups (an incomplete UTF-8 character) are counted together: the budget may be passed by up to 3.
const withinBudget = (n: number) => n >= BUDGET && n < BUDGET + 4;
if (!existsSync(STORIES)) console.log(`# llama reasoning: ${STORIES} not found, using the generated tiny model`);
if (!openResponsesAvailable) console.log(`# llama reasoning: not validated against the Open Responses schema: ${openResponsesSkipReason}`);

let server: TestServer;
before(async () => {
  let model = STORIES;
  if (!existsSync(model)) {
    model = join(mkdtempSync(join(tmpdir(), 'respd-llama-reasoning-')), 'respd-tiny.gguf');
    await generateTinyGguf(model);
  }
  server = await startServer({ env: { MODEL_PATH: model, LLAMA_CHAT_WRAPPER: 'qwen3.5', LLAMA_REASONING_INPUT: 'true' } });
});
after(async () => {
  await server?.stop();
});

const ask = { model: 'auto', input: 'Tell me a story about a cat.', reasoning: { effort: 'low' as const }, max_output_tokens: MAX, temperature: 0 };

/** Every event validates against the Open Responses schema (which names reasoning_text events `response.reasoning.*`). */
function conforms(events: any[]): void {
  if (!openResponsesAvailable) return;
  for (const ev of events) {
    const renamed = ({ 'response.reasoning_text.delta': 'ResponseReasoningDeltaStreamingEvent', 'response.reasoning_text.done': 'ResponseReasoningDoneStreamingEvent' } as Record<string, string>)[ev.type];
    const errs = renamed ? validateComponent(renamed, { ...ev, type: ev.type.replace('_text', '') }) : validateStreamEvent(ev);
    assert.deepEqual(errs, [], `${ev.type}: ${errs.join('; ')}`);
  }
}

function reasoningThenMessage(r: any): { thought: string; text: string } {
  if (openResponsesAvailable) assert.deepEqual(validateResponseObject(r), []);
  assert.deepEqual(r.output.map((i: any) => i.type), ['reasoning', 'message'], JSON.stringify(r.output));
  const [rs, msg] = r.output;
  assert.match(rs.id, /^rs_/);
  assert.deepEqual(rs.summary, []);
  assert.equal(rs.content.length, 1);
  assert.equal(rs.content[0].type, 'reasoning_text');
  assert.ok(rs.content[0].text.length > 0);
  assert.ok(!rs.content[0].text.includes('<think>') && !rs.content[0].text.includes('</think>'), 'markers are not content');
  assert.ok(msg.content[0].text.length > 0);
  assert.ok(!msg.content[0].text.includes('</think>'));
  assert.ok(withinBudget(r.usage.output_tokens_details.reasoning_tokens), JSON.stringify(r.usage));
  assert.ok(r.usage.output_tokens > r.usage.output_tokens_details.reasoning_tokens);
  return { thought: rs.content[0].text, text: msg.content[0].text };
}

describe('thought segments of the embedded engine', () => {
  it('blocking: a reasoning item before the message, reasoning_tokens the budget', async () => {
    const r = await server.client().responses.create(ask);
    const { text } = reasoningThenMessage(r);
    assert.equal(r.output_text, text);
    assert.deepEqual(r.reasoning, { effort: 'low', summary: null });
    const again = await server.client().responses.retrieve(r.id);
    assert.deepEqual(again.output, r.output);
  });

  it('streamed: the reasoning events, then the message events, in order', async () => {
    const stream = await server.client().responses.create({ ...ask, stream: true });
    const events: any[] = [];
    for await (const ev of stream) events.push(ev);
    conforms(events);
    const response = events.at(-1).response;
    // The story may still be running when max_output_tokens is reached.
    const end = events.at(-1).type;
    assert.ok(['response.completed', 'response.incomplete'].includes(end), end);
    const { thought, text } = reasoningThenMessage(response);
    const types = events.map((e) => e.type).filter((t, i, a) => t !== a[i - 1]);
    assert.deepEqual(types, [
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.content_part.added', 'response.reasoning_text.delta',
      'response.reasoning_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      end,
    ]);
    assert.equal(events.filter((e) => e.type === 'response.reasoning_text.delta').map((e) => e.delta).join(''), thought);
    assert.equal(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join(''), text);
  });

  it('effort none: no thought (the engine pre-fills an empty one); no effort: the model thinks until it stops', async () => {
    const none = await server.client().responses.create({ ...ask, reasoning: { effort: 'none' } });
    assert.deepEqual(none.output.map((i) => i.type), ['message']);
    assert.equal(none.usage!.output_tokens_details.reasoning_tokens, 0);
    // stories260K never writes `</think>`: without a budget the whole reply is thought.
    const free = await server.client().responses.create({ ...ask, reasoning: undefined, max_output_tokens: 20 });
    assert.deepEqual(free.output.map((i) => i.type), ['reasoning']);
    assert.equal(free.status, 'incomplete');
    assert.equal(free.usage!.output_tokens_details.reasoning_tokens, free.usage!.output_tokens);
  });

  it('encrypted reasoning (store: false) goes back into the next turn\'s prompt', async () => {
    const c = server.client();
    const first = await c.responses.create({ ...ask, store: false, include: ['reasoning.encrypted_content'] });
    const [rs, msg] = first.output as any[];
    assert.equal(rs.type, 'reasoning');
    assert.equal(typeof rs.encrypted_content, 'string');
    const turn = (reasoning: object[]) => c.responses.create({
      model: 'auto', store: false, max_output_tokens: 1, reasoning: { effort: 'none' },
      input: [{ role: 'user', content: ask.input }, ...reasoning, { role: 'assistant', content: msg.content[0].text }, { role: 'user', content: 'And then?' }],
    } as any);
    // Only the blob goes back (no reasoning_text): the server opens it and the prompt grows by the thought.
    const withThought = await turn([{ type: 'reasoning', summary: [], encrypted_content: rs.encrypted_content }]);
    const without = await turn([]);
    const grown = withThought.usage!.input_tokens - without.usage!.input_tokens;
    assert.ok(grown >= BUDGET / 2, `the prompt grew by ${grown} tokens`);
    const tampered = await server.fetch('/responses', {
      method: 'POST',
      body: JSON.stringify({ model: 'auto', store: false, input: [{ type: 'reasoning', summary: [], encrypted_content: `x${rs.encrypted_content.slice(1)}` }, { role: 'user', content: 'x' }] }),
    });
    assert.equal(tampered.status, 400);
    assert.equal((await tampered.json()).error.code, 'invalid_encrypted_content');
  });
});

describe('/chat/completions on the embedded engine', () => {
  const chat = { model: 'auto', messages: [{ role: 'user' as const, content: 'Tell me a story about a cat.' }], reasoning_effort: 'low' as const, max_tokens: MAX, temperature: 0 };

  it('message.reasoning_content, and reasoning_tokens in usage', async () => {
    const r = await server.client().chat.completions.create(chat);
    const m = r.choices[0]!.message as any;
    assert.ok(m.reasoning_content.length > 0);
    assert.ok(m.content.length > 0);
    assert.ok(withinBudget(r.usage!.completion_tokens_details!.reasoning_tokens!), JSON.stringify(r.usage));
  });

  it('streamed: delta.reasoning_content chunks before the content ones', async () => {
    const stream = await server.client().chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    const kinds: string[] = [];
    let usage: any;
    for await (const ch of stream) {
      const d = (ch.choices[0]?.delta ?? {}) as any;
      if (d.reasoning_content) kinds.push('reasoning');
      if (d.content) kinds.push('content');
      if (ch.usage) usage = ch.usage;
    }
    assert.deepEqual(kinds.filter((k, i, a) => k !== a[i - 1]), ['reasoning', 'content']);
    assert.ok(withinBudget(usage.completion_tokens_details.reasoning_tokens));
  });

  it('reasoning_content sent back reaches the prompt; a bad reasoning_effort is a 400', async () => {
    const c = server.client();
    const history = (reasoning?: string) => ({
      model: 'auto', max_tokens: 1, reasoning_effort: 'none',
      messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.', ...(reasoning ? { reasoning_content: reasoning } : {}) }, { role: 'user', content: 'Tell me more.' }],
    });
    const a = await c.chat.completions.create(history('Once upon a time there was a cat who liked to think about fish.') as any);
    const b = await c.chat.completions.create(history() as any);
    assert.ok(a.usage!.prompt_tokens > b.usage!.prompt_tokens + 5, `${a.usage!.prompt_tokens} vs ${b.usage!.prompt_tokens}`);
    const bad = await server.fetch('/chat/completions', { method: 'POST', body: JSON.stringify({ ...chat, reasoning_effort: 'extreme' }) });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, 'reasoning_effort');
  });
});
