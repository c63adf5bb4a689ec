// Routing and configuration: `provider:model` ids from a config file (JSON and YAML), bare names via the
// default provider, `auto` alias, API keys from named env vars (never logged), and the first-start key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startMockUpstream } from './support/mock-upstream.js';
import { startServer } from './support/server.js';

let upstream: Awaited<ReturnType<typeof startMockUpstream>>;
let dir: string;
before(async () => {
  upstream = await startMockUpstream();
  dir = mkdtempSync(join(tmpdir(), 'respd-config-'));
});
after(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('provider config', () => {
  for (const format of ['json', 'yaml'] as const) {
    it(`routes provider:model from a ${format} config file and keeps the key secret`, async () => {
      const secret = `sk-upstream-${format}-secret`;
      const file = join(dir, `providers.${format}`);
      const cfg = { providers: { meetkai: { type: 'openai-compatible', base_url: upstream.url, api_key_env: 'MEETKAI_KEY', models: ['mock-echo', 'mock-text'] } }, default_provider: 'meetkai', auto: 'meetkai:mock-echo' };
      writeFileSync(file, format === 'json' ? JSON.stringify(cfg) : [
        'providers:', '  meetkai:', '    type: openai-compatible', `    base_url: ${upstream.url}`, '    api_key_env: MEETKAI_KEY',
        '    models: [mock-echo, mock-text]', 'default_provider: meetkai', 'auto: meetkai:mock-echo', '',
      ].join('\n'));
      const s = await startServer({ env: { RESPD_CONFIG: file, MEETKAI_KEY: secret } });
      try {
        const c = s.client();
        const r = await c.responses.create({ model: 'meetkai:mock-echo', input: 'ping pong' });
        assert.equal(r.output_text, 'ping pong');
        assert.equal(r.model, 'meetkai:mock-echo');
        const last = upstream.lastChat();
        assert.equal(last.headers.authorization, `Bearer ${secret}`);
        assert.equal(last.body.model, 'mock-echo');
        assert.equal((await c.responses.create({ model: 'mock-text', input: 'x' })).status, 'completed', 'bare name via default provider');
        assert.equal((await c.responses.create({ model: 'auto', input: 'echo me' })).output_text, 'echo me', 'auto alias');
        await assert.rejects(c.responses.create({ model: 'meetkai:unknown', input: 'x' }), (e: any) => e.status === 400 && e.param === 'model');
        const ids = (await c.models.list()).data.map((m) => m.id);
        assert.ok(ids.includes('meetkai:mock-echo') && ids.includes('auto'));
        // The key appears in neither the logs nor the stored data.
        assert.ok(!s.logs.join('\n').includes(secret));
        for (const f of readdirSync(s.dataDir)) {
          assert.ok(!readFileSync(join(s.dataDir, f)).includes(secret), `${f} contains the upstream key`);
        }
      } finally {
        await s.stop();
      }
    });
  }

  it('OPENAI_BASE_URL declares provider openai with the upstream\'s models', async () => {
    const s = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
    try {
      const ids = (await s.client().models.list()).data.map((m) => m.id);
      assert.ok(ids.includes('openai:mock-text'));
      assert.ok(ids.some((id) => id.startsWith('local:')));
    } finally {
      await s.stop();
    }
  });
});

describe('first start without API_KEYS', () => {
  it('creates a key, prints it once, stores only its hash, and reuses it after restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'respd-keys-'));
    try {
      const s1 = await startServer({ dataDir, env: { API_KEYS: '' } });
      const key = /(sk-respd-[A-Za-z0-9_-]+)/.exec(s1.logs.join('\n'))?.[1];
      assert.ok(key, 'the key is printed');
      const stored = readFileSync(join(dataDir, 'api-keys.json'), 'utf8');
      assert.ok(!stored.includes(key!), 'only the hash is stored');
      await s1.stop();
      const s2 = await startServer({ dataDir, env: { API_KEYS: '' } });
      try {
        assert.ok(!s2.logs.join('\n').includes(key!), 'not printed again');
        const ok = new OpenAI({ apiKey: key!, baseURL: s2.baseURL });
        assert.ok((await ok.models.list()).data.length > 0);
        const bad = new OpenAI({ apiKey: 'sk-respd-wrong', baseURL: s2.baseURL, maxRetries: 0 });
        await assert.rejects(bad.models.list(), (e: any) => e.status === 401);
      } finally {
        await s2.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('LLAMA_STREAM_INTERVAL_MS', () => {
  async function streamedDeltas(interval: string): Promise<{ deltas: string[]; text: string }> {
    const s = await startServer({ env: { LLAMA_STREAM_INTERVAL_MS: interval } });
    try {
      const c = s.client();
      const local = (await c.models.list()).data.find((m) => m.id.startsWith('local:'));
      assert.ok(local, 'the embedded engine is served');
      const stream = await c.responses.create({ model: local.id, input: 'Once upon a time', max_output_tokens: 60, temperature: 0, stream: true });
      const deltas: string[] = [];
      let text = '';
      for await (const ev of stream) {
        if (ev.type === 'response.output_text.delta') deltas.push(ev.delta);
        if (ev.type === 'response.completed' || ev.type === 'response.incomplete') text = ev.response.output_text;
      }
      return { deltas, text };
    } finally {
      await s.stop();
    }
  }

  it('0 streams a delta per token; a long interval merges all but the first; the text is the same', async () => {
    const each = await streamedDeltas('0');
    const held = await streamedDeltas('60000');
    assert.ok(each.deltas.length >= 20, `deltas=${each.deltas.length}`);
    assert.equal(held.deltas.length, 2);
    assert.equal(held.deltas.join(''), each.deltas.join(''));
    assert.equal(held.text, each.text);
  });

  it('a value that is not a non-negative integer stops the server with a message', async () => {
    for (const bad of ['-1', 'soon']) {
      await assert.rejects(startServer({ env: { LLAMA_STREAM_INTERVAL_MS: bad } }), /LLAMA_STREAM_INTERVAL_MS/);
    }
  });
});
