// The image_generation tool, run by respd through an images endpoint it is configured with (a mock on
// loopback speaking OpenAI's images API and returning real PNG bytes): the image_generation_call
// item (result, revised_prompt, size…), its events including partial images relayed from a streaming
// endpoint, a failing endpoint, max_tool_calls, background mode, chaining, input images alongside,
// tool_choice forcing, and the 400s. The model's decisions come from the mock upstream's
// `mock-script` model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { status } from './support/api-status.js';
import { IMAGES_KEY, pngImage, startMockImages, type MockImages } from './support/mock-images.js';
import { startMockUpstream, type MockUpstream, type ScriptSpec } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let upstream: MockUpstream;
let images: MockImages;
let server: TestServer;
let client: OpenAI;

let nonce = 0;
const script = (spec: ScriptSpec) => JSON.stringify({ ...spec, nonce: nonce++ });
const draw = (prompt: string) => ({ name: 'image_generation', arguments: JSON.stringify({ prompt }) });
const MODEL = 'openai:mock-script';

before(async () => {
  upstream = await startMockUpstream();
  images = await startMockImages();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, IMAGES_BASE_URL: images.url, IMAGES_API_KEY: IMAGES_KEY, IMAGES_MODEL: 'sd-turbo' } });
  client = server.client();
});
after(async () => {
  await server?.stop();
  await upstream?.close();
  await images?.close();
});

/** The PNG's width and height, after checking its signature and that IHDR comes first. */
function pngSize(b64: string): [number, number] {
  const buf = Buffer.from(b64, 'base64');
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  assert.equal(buf.subarray(12, 16).toString('ascii'), 'IHDR');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

const textOf = (r: OpenAI.Responses.Response) => (r.output.find((i) => i.type === 'message') as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText;
const chats = () => upstream.requests.filter((q) => q.path.endsWith('/chat/completions'));

describe('image_generation tool', () => {
  it('draws through the images endpoint and returns the PNG in an image_generation_call item', async () => {
    const r = await client.responses.create({
      model: MODEL, input: script({ calls: [draw('a lighthouse at dusk')], answer: 'drawn' }),
      tools: [{ type: 'image_generation', size: '256x192', quality: 'low' } as any],
    });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.output.map((i) => i.type), ['image_generation_call', 'message']);
    const ig = r.output[0] as any;
    assert.match(ig.id, /^ig_/);
    assert.equal(ig.status, 'completed');
    assert.deepEqual(pngSize(ig.result), [256, 192]);
    assert.equal(ig.revised_prompt, 'A detailed picture: a lighthouse at dusk');
    assert.deepEqual([ig.size, ig.quality, ig.output_format, ig.background], ['256x192', 'low', 'png', 'opaque']);
    const sent = images.requests.at(-1)!;
    assert.equal(sent.authorization, `Bearer ${IMAGES_KEY}`);
    assert.deepEqual(sent.body, { prompt: 'a lighthouse at dusk', n: 1, model: 'sd-turbo', response_format: 'b64_json', size: '256x192', quality: 'low', output_format: 'png' });
    assert.deepEqual(upstream.lastChat().body.tools.map((t: any) => t.function.name), ['image_generation']);
    assert.match(textOf(r).text, /^drawn: The image was generated \(256x192, png\)/, 'the model reads a line, not the bytes');
    assert.ok(!JSON.stringify(upstream.lastChat().body).includes(ig.result.slice(0, 40)), 'the image never reaches the model');
    assert.deepEqual(r.tools[0], { type: 'image_generation', size: '256x192', quality: 'low', background: 'auto', moderation: 'auto', output_compression: 100, output_format: 'png', partial_images: 0 });

    const stored = await client.responses.retrieve(r.id);
    assert.deepEqual(stored.output[0], ig, 'retrieve shows the item with its image');
  });

  it('streams in_progress, generating, partial images and completed', async () => {
    const body = { model: MODEL, input: script({ calls: [draw('a fox')] }), tools: [{ type: 'image_generation', size: '64x64', partial_images: 2, model: 'gpt-image-1' }], stream: true };
    const events = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify(body) }));
    const types = events.map((e) => e.data.type);
    const igEvents = types.filter((t) => t.startsWith('response.image_generation_call.'));
    assert.deepEqual(igEvents, ['in_progress', 'generating', 'partial_image', 'partial_image', 'completed'].map((p) => `response.image_generation_call.${p}`));
    const added = events.find((e) => e.data.type === 'response.output_item.added' && e.data.item.type === 'image_generation_call')!;
    assert.deepEqual(added.data.item, { id: added.data.item.id, type: 'image_generation_call', status: 'in_progress', result: null });
    const partials = events.filter((e) => e.data.type === 'response.image_generation_call.partial_image').map((e) => e.data);
    assert.deepEqual(partials.map((p) => [p.partial_image_index, p.item_id, p.output_index]), [[0, added.data.item.id, 0], [1, added.data.item.id, 0]]);
    for (const p of partials) assert.deepEqual(pngSize(p.partial_image_b64), [64, 64]);
    const done = events.find((e) => e.data.type === 'response.output_item.done' && e.data.item.type === 'image_generation_call')!.data.item;
    assert.equal(done.status, 'completed');
    assert.notEqual(done.result, partials[1].partial_image_b64, 'the final image is not a partial');
    assert.equal(done.revised_prompt, 'a fox', 'a streamed image keeps the model\'s prompt');
    assert.ok(types.indexOf('response.image_generation_call.completed') < types.indexOf('response.completed'));
    const sent = images.requests.at(-1)!.body;
    assert.deepEqual([sent.stream, sent.partial_images, sent.model, sent.response_format], [true, 2, 'gpt-image-1', undefined]);
  });

  for (const mode of [false, 'refuse'] as const) it(`an endpoint that ${mode ? 'refuses' : 'ignores'} streaming gives the image without partials`, async () => {
    images.streams = mode;
    const before = images.requests.length;
    try {
      const body = { model: MODEL, input: script({ calls: [draw('a quiet harbour')] }), tools: [{ type: 'image_generation', size: '32x32', partial_images: 3 }], stream: true };
      const events = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify(body) }));
      assert.equal(events.filter((e) => e.data.type === 'response.image_generation_call.partial_image').length, 0);
      const done = events.find((e) => e.data.type === 'response.output_item.done' && e.data.item.type === 'image_generation_call')!.data.item;
      assert.deepEqual(pngSize(done.result), [32, 32]);
      assert.equal(events.at(-1)!.data.type, 'response.completed');
      assert.deepEqual(images.requests.slice(before).map((q) => q.body.stream), mode ? [true, undefined] : [true], 'asked again without stream only when refused');
    } finally {
      images.streams = true;
    }
  });

  it('an endpoint error fails the call, not the response', async () => {
    const body = { model: MODEL, input: script({ calls: [draw('melt the gpu')], answer: 'sorry' }), tools: [{ type: 'image_generation' }], stream: true };
    const events = await readSse(await server.fetch('/responses', { method: 'POST', body: JSON.stringify(body) }));
    assert.equal(events.filter((e) => e.data.type === 'response.image_generation_call.completed').length, 0);
    const r = events.at(-1)!.data.response as OpenAI.Responses.Response;
    assert.equal(r.status, 'completed');
    const ig = r.output[0] as any;
    assert.deepEqual([ig.type, ig.status, ig.result], ['image_generation_call', 'failed', null]);
    assert.match(textOf(r).text, /The image generation failed: the images endpoint answered HTTP 500: The image backend ran out of memory/);
  });

  it('tool_choice forces it; max_tool_calls caps it', async () => {
    const forced = await client.responses.create({
      model: MODEL, input: script({ calls: [draw('a red kite')] }), tools: [{ type: 'image_generation', size: '16x16' } as any], tool_choice: { type: 'image_generation' },
    });
    assert.deepEqual(chats().at(-2)!.body.tool_choice, { type: 'function', function: { name: 'image_generation' } });
    assert.equal(forced.output[0].type, 'image_generation_call');
    const before = images.requests.length;
    const capped = await client.responses.create({
      model: MODEL, input: script({ calls: [draw('one'), draw('two')], loop: true }), tools: [{ type: 'image_generation', size: '16x16' } as any], max_tool_calls: 1,
    } as any) as OpenAI.Responses.Response;
    assert.equal(capped.status, 'completed');
    assert.equal(capped.output.filter((i) => i.type === 'image_generation_call').length, 1);
    assert.equal(images.requests.length - before, 1);
  });

  it('runs in background mode, and a chained response tells the model what was drawn', async () => {
    let r = await client.responses.create({ model: MODEL, input: script({ calls: [draw('a paper boat')] }), tools: [{ type: 'image_generation', size: '16x16' } as any], background: true });
    for (let i = 0; i < 100 && (r.status === 'queued' || r.status === 'in_progress'); i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await client.responses.retrieve(r.id);
    }
    assert.equal(r.status, 'completed');
    assert.deepEqual(pngSize((r.output[0] as any).result), [16, 16]);
    await client.responses.create({ model: 'openai:mock-text', input: 'now make it blue', previous_response_id: r.id });
    const msgs = upstream.lastChat().body.messages;
    const call = msgs.find((m: any) => m.tool_calls?.[0]?.function?.name === 'image_generation');
    assert.deepEqual(JSON.parse(call.tool_calls[0].function.arguments), { prompt: 'A detailed picture: a paper boat' });
    assert.match(msgs.find((m: any) => m.role === 'tool').content, /The image was generated/);
    assert.ok(!JSON.stringify(msgs).includes((r.output[0] as any).result.slice(0, 40)));
  });

  it('cancelling a background response during generation ends the call and stops the request to the endpoint', async () => {
    const r = await client.responses.create({ model: MODEL, input: script({ calls: [draw('draw it slowly')] }), tools: [{ type: 'image_generation', size: '16x16' } as any], background: true });
    let seen = r;
    for (let i = 0; i < 100 && !seen.output.some((o) => o.type === 'image_generation_call'); i++) {
      await new Promise((res) => setTimeout(res, 50));
      seen = await client.responses.retrieve(r.id);
    }
    assert.equal((seen.output[0] as any).status, 'in_progress');
    const started = Date.now();
    const cancelled = await client.responses.cancel(r.id);
    let final = cancelled;
    for (let i = 0; i < 100 && final.status !== 'cancelled'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      final = await client.responses.retrieve(r.id);
    }
    assert.equal(final.status, 'cancelled');
    assert.ok(Date.now() - started < 5000, 'the 10 s generation was not waited for');
    assert.deepEqual([(final.output[0] as any).type, (final.output[0] as any).status], ['image_generation_call', 'failed']);
  });

  it('an input image beside it reaches the model; its URL is shown only with include', async () => {
    const png = `data:image/png;base64,${pngImage(8, 8).toString('base64')}`;
    const r = await client.responses.create({
      model: MODEL, tools: [{ type: 'image_generation', size: '16x16' } as any],
      input: [{ role: 'user', content: [{ type: 'input_text', text: script({ calls: [draw('the same, in watercolour')] }) }, { type: 'input_image', image_url: png, detail: 'auto' }] }],
    });
    assert.equal(r.status, 'completed');
    assert.equal(r.output[0].type, 'image_generation_call');
    const userMsg = chats().at(-2)!.body.messages.find((m: any) => m.role === 'user');
    assert.equal(userMsg.content.find((p: any) => p.type === 'image_url').image_url.url, png);
    const plain = await server.fetch(`/responses/${r.id}/input_items`).then((x) => x.json());
    assert.equal(plain.data[0].content[1].image_url, null);
    const withUrl = await server.fetch(`/responses/${r.id}/input_items?include[]=message.input_image.image_url`).then((x) => x.json());
    assert.equal(withUrl.data[0].content[1].image_url, png);
  });

  it('an image_generation_call given back as input is accepted and read by the model', async () => {
    const b64 = pngImage(4, 4).toString('base64');
    await client.responses.create({
      model: 'openai:mock-text',
      input: [{ type: 'image_generation_call', id: 'ig_earlier', status: 'completed', result: b64 } as any, { role: 'user', content: 'describe it' }],
    });
    const msgs = upstream.lastChat().body.messages;
    assert.equal(msgs.find((m: any) => m.role === 'tool').content.startsWith('The image was generated'), true);
  });

  it('refuses bad tool settings with a 400 naming the field', async () => {
    for (const [tool, param] of [
      [{ type: 'image_generation', size: 'huge' }, 'tools[0].size'],
      [{ type: 'image_generation', quality: 'ultra' }, 'tools[0].quality'],
      [{ type: 'image_generation', output_format: 'gif' }, 'tools[0].output_format'],
      [{ type: 'image_generation', background: 'clear' }, 'tools[0].background'],
      [{ type: 'image_generation', partial_images: 4 }, 'tools[0].partial_images'],
      [{ type: 'image_generation', output_compression: 101 }, 'tools[0].output_compression'],
    ] as const) {
      const s = await status(client.responses.create({ model: MODEL, input: 'x', tools: [tool as any] }));
      assert.deepEqual([s.status, s.param], [400, param]);
    }
    const conflict = await status(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'image_generation' }, { type: 'function', name: 'image_generation', parameters: {}, strict: false }] }));
    assert.deepEqual([conflict.status, conflict.param], [400, 'tools[1].name']);
    const absent = await status(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }], tool_choice: { type: 'image_generation' } }));
    assert.deepEqual([absent.status, absent.param], [400, 'tool_choice']);
  });
});

describe('image_generation without an images endpoint', () => {
  it('is accepted and echoed, not offered; forcing it is a 400 naming it', async () => {
    const plain = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
    try {
      const c = plain.client();
      const r = await c.responses.create({ model: 'openai:mock-text', input: 'hi', tools: [{ type: 'image_generation' }] });
      assert.equal(r.status, 'completed');
      assert.equal(upstream.lastChat().body.tools, undefined);
      for (const choice of [{ type: 'image_generation' }, { type: 'allowed_tools', mode: 'required', tools: [{ type: 'image_generation' }] }]) {
        const res = await plain.fetch('/responses', { method: 'POST', body: JSON.stringify({ model: 'openai:mock-text', input: 'hi', tools: [{ type: 'image_generation' }], tool_choice: choice }) });
        const body = await res.json();
        assert.deepEqual([res.status, body.error.param, body.error.code], [400, 'tool_choice', 'unsupported_tool']);
        assert.match(body.error.message, /'image_generation'.*IMAGES_BASE_URL/);
      }
    } finally {
      await plain.stop();
    }
  });
});
