// What the embedded engine makes of each chat format's thought segment, without a model: how a
// response's thought starts per effort (the text appended to the prompt), the budgets, Harmony's
// effort in its system prompt, and earlier reasoning rendered back only where it is asked for.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeepSeekChatWrapper, GeneralChatWrapper, HarmonyChatWrapper, QwenChatWrapper, type ChatWrapper } from 'node-llama-cpp';
import { renderPrompt } from '../src/providers/llama/prompt.js';
import { thoughtBudget, thoughtFormatOf, thoughtStart, wrapperForEffort } from '../src/providers/llama/thought-format.js';
import type { ChatMessage, ReasoningEffort } from '../src/providers/types.js';

const startOf = (w: ChatWrapper, effort: ReasoningEffort | undefined, max: number | undefined, answerNow: boolean) => {
  const s = thoughtStart(thoughtFormatOf(w)!, effort, max, answerNow)!;
  return { append: s.append.toString(), open: s.open, budget: s.budget };
};

describe('thought formats', () => {
  it('Qwen 3.5 opens every response: the engine writes the prefix; none pre-fills an empty thought', () => {
    const w = new QwenChatWrapper({ variation: '3.5' });
    assert.equal(thoughtFormatOf(w)!.opens, 'engine');
    assert.deepEqual(startOf(w, undefined, undefined, false), { append: '<think>\n', open: true, budget: undefined });
    assert.deepEqual(startOf(w, 'low', 200, false), { append: '<think>\n', open: true, budget: 50 });
    assert.deepEqual(startOf(w, 'none', undefined, false), { append: '<think>\n\n</think>', open: false, budget: 0 });
    // Under a grammar the answer comes at once, whatever the effort.
    assert.deepEqual(startOf(w, 'high', undefined, true), { append: '<think>\n\n</think>', open: false, budget: 0 });
  });

  it('Qwen 3 and DeepSeek: the model opens the thought; none pre-fills an empty one', () => {
    const qwen = new QwenChatWrapper();
    assert.equal(thoughtFormatOf(qwen)!.opens, 'model');
    assert.deepEqual(startOf(qwen, 'medium', undefined, false), { append: '', open: false, budget: 2048 });
    assert.deepEqual(startOf(new DeepSeekChatWrapper(), 'none', undefined, false), { append: '<think></think>', open: false, budget: 0 });
    assert.equal(thoughtFormatOf(new GeneralChatWrapper()), undefined, 'no thought segment, nothing to split');
  });

  it('Harmony: effort in the system prompt (on a copy), none skips the analysis channel', () => {
    const h = new HarmonyChatWrapper();
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    const high = wrapperForEffort(h, 'high');
    assert.notEqual(high, h);
    assert.match(renderPrompt(high, messages).text.toString(), /Reasoning: high/);
    assert.match(renderPrompt(h, messages).text.toString(), /Reasoning: medium/, 'the shared wrapper is unchanged');
    assert.equal(wrapperForEffort(h, undefined), h);
    assert.match(renderPrompt(wrapperForEffort(h, 'minimal'), messages).text.toString(), /Reasoning: low/);
    assert.deepEqual(startOf(h, 'none', undefined, false), {
      append: '<|channel|>analysis<|message|><|end|><|start|>assistant<|channel|>final<|message|>', open: false, budget: 0,
    });
    assert.deepEqual(thoughtFormatOf(h)!.markers.close, '<|end|>');
  });

  it('budgets: fixed per effort, at most a share of max_output_tokens; unset and xhigh without a cap', () => {
    assert.equal(thoughtBudget(undefined, 100), undefined);
    assert.equal(thoughtBudget('minimal'), 128);
    assert.equal(thoughtBudget('minimal', 400), 50);
    assert.equal(thoughtBudget('high', 100_000), 8192);
    assert.equal(thoughtBudget('xhigh', 100), undefined);
    assert.equal(thoughtBudget('none', 100), 0);
  });

  it('earlier reasoning is rendered as a thought segment only where the wrapper keeps it', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1', reasoning: 'SECRET-THOUGHT' },
      { role: 'user', content: 'Q2' },
    ];
    const keeping = new QwenChatWrapper({ keepOnlyLastThought: false });
    assert.match(renderPrompt(keeping, messages).text.toString(), /<think>\nSECRET-THOUGHT\n<\/think>/);
    assert.doesNotMatch(renderPrompt(new QwenChatWrapper(), messages).text.toString(), /SECRET-THOUGHT/);
    assert.doesNotMatch(renderPrompt(new GeneralChatWrapper(), messages).text.toString(), /SECRET-THOUGHT/, 'no thought segment: not shown as text');
  });
});
