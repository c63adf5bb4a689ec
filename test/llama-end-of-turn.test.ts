// The embedded engine ends a reply where the model does: stories260K ends a story by generating BOS
// (the start of the next document), never EOS. And a reply cut short by the context window is not
// reported as max_output_tokens when the client set none. Over HTTP with the `openai` client.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer, type TestServer } from './support/server.js';

const STORIES = resolve('../shared/models/stories260K.gguf');
const missing = existsSync(STORIES) ? false : `stories260K model not found at ${STORIES}`;
if (missing) console.log(`# skipping end-of-turn tests: ${missing}`);

describe('stories260K ends its replies', { skip: missing }, () => {
  let server: TestServer;
  let small: TestServer;
  before(async () => {
    [server, small] = await Promise.all([
      startServer({ env: { MODEL_PATH: STORIES } }),
      startServer({ env: { MODEL_PATH: STORIES, LLAMA_CONTEXT_SIZE: '256' } }),
    ]);
  });
  after(async () => {
    await Promise.all([server?.stop(), small?.stop()]);
  });

  it('completes without max_output_tokens, well before the context window', async () => {
    // Sampled at temperature 1, a story's length varies (usually 200–900 tokens, now and then longer):
    // a few requests, each either completed or cut by the context, and the usual one quick. Up to 8, until
    // two have ended by themselves (3 of 4 running to the context happened in a full-suite run).
    const context = 2048; // stories260K's training context, which the engine uses
    const runs: Array<{ ms: number; status: string; reason: string | null; output: number; input: number }> = [];
    for (let i = 0; i < 8 && runs.filter((r) => r.status === 'completed').length < 2; i++) {
      const t = Date.now();
      const r = await server.client().responses.create({ model: 'auto', input: 'Once upon a time' });
      runs.push({ ms: Date.now() - t, status: r.status!, reason: r.incomplete_details?.reason ?? null, output: r.usage!.output_tokens, input: r.usage!.input_tokens });
      assert.ok(r.output_text.length > 0);
    }
    const completed = runs.filter((r) => r.status === 'completed');
    assert.ok(completed.length >= 2, `stories end by themselves: ${JSON.stringify(runs)}`);
    for (const r of completed) assert.ok(r.input + r.output < context - 1, JSON.stringify(r));
    for (const r of runs.filter((x) => x.status !== 'completed')) {
      assert.deepEqual([r.status, r.reason], ['incomplete', 'context_length_exceeded'], JSON.stringify(r));
    }
    // Before, every request ran to the 2,048-token context: ~2,000 tokens and ~7 s each.
    assert.ok(Math.min(...completed.map((r) => r.ms)) < 3000, JSON.stringify(runs));
  });

  it('names the context window, not max_output_tokens, when the context fills first', async () => {
    let cut;
    for (let i = 0; i < 6 && !cut; i++) {
      const r = await small.client().responses.create({ model: 'auto', input: 'Once upon a time' });
      if (r.status !== 'completed') cut = r;
    }
    assert.ok(cut, 'a 256-token context cuts most stories short');
    assert.equal(cut.status, 'incomplete');
    assert.deepEqual(cut.incomplete_details, { reason: 'context_length_exceeded' });
    assert.equal(cut.max_output_tokens, null);

    const limited = await small.client().responses.create({ model: 'auto', input: 'Once upon a time', max_output_tokens: 5 });
    assert.equal(limited.status, 'incomplete');
    assert.deepEqual(limited.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(limited.usage!.output_tokens, 5);
  });
});
