// The thought splitter alone: markers split across chunks at every position, a thought already open
// at the start (prefix pre-filled in the prompt), Harmony's channel framing, a thought closed from
// outside (token budget), and payloads (logprobs) kept with the text they belong to.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ThoughtSplitter, type SplitPiece, type ThoughtMarkers } from '../src/providers/llama/thought-splitter.js';

const QWEN: ThoughtMarkers = { open: '<think>\n', close: '\n</think>', drop: [] };
const HARMONY: ThoughtMarkers = {
  open: '<|channel|>analysis<|message|>',
  close: '<|end|>',
  drop: ['<|start|>assistant', '<|channel|>final<|message|>', '<|channel|>commentary<|message|>', '<|end|>'],
};

/** Feeds `chunks` one by one and joins consecutive output of one kind. */
function run(markers: ThoughtMarkers, open: boolean, chunks: string[]): Array<[string, string]> {
  const s = new ThoughtSplitter<number>(markers, open);
  const parts: SplitPiece<number>[] = [];
  for (const c of chunks) parts.push(...s.push({ text: c, payload: [] }));
  parts.push(...s.flush());
  const out: Array<[string, string]> = [];
  for (const p of parts) {
    const last = out.at(-1);
    if (last && last[0] === p.kind) last[1] += p.text;
    else out.push([p.kind, p.text]);
  }
  return out;
}

/** Every way of cutting `text` into two chunks, and into single characters. */
function cuts(text: string): string[][] {
  const all = [[...text]];
  for (let i = 1; i < text.length; i++) all.push([text.slice(0, i), text.slice(i)]);
  return all;
}

describe('thought splitter', () => {
  it('the model opens and closes a thought: same result however the stream is cut', () => {
    const text = '<think>\nLet me see.\n</think>\n\nThe answer is 4.';
    for (const chunks of cuts(text)) {
      assert.deepEqual(run(QWEN, false, chunks), [['reasoning', 'Let me see.'], ['text', 'The answer is 4.']], JSON.stringify(chunks));
    }
  });

  it('a thought open from the start (the prompt ends with the prefix) ends at the suffix', () => {
    for (const chunks of cuts('Hmm, 2+2.\n</think>\n\n4')) {
      assert.deepEqual(run(QWEN, true, chunks), [['reasoning', 'Hmm, 2+2.'], ['text', '4']]);
    }
  });

  it('text that only starts like a marker is released once it diverges, and at the end', () => {
    assert.deepEqual(run(QWEN, false, ['a <thin', 'g> b']), [['text', 'a <thing> b']]);
    assert.deepEqual(run(QWEN, true, ['x\n</th']), [['reasoning', 'x\n</th']]);
    assert.deepEqual(run(QWEN, false, ['no thought at all']), [['text', 'no thought at all']]);
  });

  it('a thought that never closes is all reasoning', () => {
    assert.deepEqual(run(QWEN, false, ['<think>\n', 'still ', 'thinking']), [['reasoning', 'still thinking']]);
  });

  it("Harmony: the analysis channel is reasoning, the final channel's framing is dropped", () => {
    const text = '<|channel|>analysis<|message|>User asks 2+2.<|end|><|start|>assistant<|channel|>final<|message|>4';
    for (const chunks of cuts(text)) {
      assert.deepEqual(run(HARMONY, false, chunks), [['reasoning', 'User asks 2+2.'], ['text', '4']], JSON.stringify(chunks));
    }
  });

  it('closed from outside (budget): pending text is thought, what follows is the answer', () => {
    const s = new ThoughtSplitter<number>(QWEN, true);
    const out = [...s.push({ text: 'thinking \n</t', payload: [1] })];
    out.push(...s.closeThought());
    assert.equal(s.inThought, false);
    out.push(...s.push({ text: '\n\nanswer', payload: [2] }), ...s.flush());
    assert.deepEqual(out.map((p) => [p.kind, p.text]), [['reasoning', 'thinking '], ['reasoning', '\n</t'], ['text', 'answer']]);
  });

  it('payloads stay with their text; those of a marker go with the next content', () => {
    const s = new ThoughtSplitter<string>(QWEN, false);
    const out = [
      ...s.push({ text: '<think>', payload: ['m1'] }),
      ...s.push({ text: '\nA', payload: ['a'] }),
      ...s.push({ text: '\n</think>', payload: ['m2'] }),
      ...s.push({ text: 'B', payload: ['b'] }),
      ...s.flush(),
    ];
    assert.deepEqual(out.map((p) => [p.kind, p.text, p.payload]), [['reasoning', 'A', ['m1', 'a']], ['text', 'B', ['m2', 'b']]]);
  });
});
