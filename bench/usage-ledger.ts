// The usage ledger's cost per /chat/completions call (issue 23): what the request path does (reading the
// usage from a proxied body's tail, `UsageService.recordCompletion`'s push onto the buffer) and what the
// batched writes cost per row on the embedded SQLite store, measured in process (CPU µs per completion).
// Run: `node dist/bench/usage-ledger.js` after `npx tsc -p tsconfig.json`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { UsageService } from '../src/usage/service.js';
import { TailKeeper, usageFromTail } from '../src/usage/tail-usage.js';

const N = Number(process.env.N ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'respd-bench-ledger-'));
const store = new SqliteStore(join(dir, 'respd.db'));
await store.init();
const usage = new UsageService(store);
const owner = { tenant: '0123456789abcdef0123456789abcdef', endUser: 'alice' };

// A non-streamed chat completion as an upstream sends it (one chunk), and a streamed one's last frames.
const json = Buffer.from(JSON.stringify({
  id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(400) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46, prompt_tokens_details: { cached_tokens: 0 } },
}));
const frames = Array.from({ length: 32 }, (_, i) => Buffer.from(`data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok${i}"}}]}\n\n`));
frames.push(Buffer.from('data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":32,"total_tokens":44}}\n\ndata: [DONE]\n\n'));

function cpu(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}

const tailJson = cpu(() => { for (let i = 0; i < N; i++) { const t = new TailKeeper(); t.push(json); usageFromTail(t.text()); } });
const tailStream = cpu(() => { for (let i = 0; i < N; i++) { const t = new TailKeeper(); for (const f of frames) t.push(f); usageFromTail(t.text()); } });

// record(): on the request path. Flushes run on their timer/size trigger between the batches of 1,000.
let recordUs = 0;
const all = process.cpuUsage();
for (let i = 0; i < N; i += 1000) {
  const t = process.cpuUsage();
  for (let j = 0; j < 1000; j++) usage.recordCompletion(owner, 'openai:gpt-4o-mini', { input: 12, output: 34, cached: 0 }, false);
  const d = process.cpuUsage(t);
  recordUs += d.user + d.system;
  await new Promise((r) => setImmediate(r));
}
await usage.close();
const d = process.cpuUsage(all);
const rows = (await store.usage.completionRows({ tenant: owner.tenant, start: 0, end: 2 ** 40, width: 2 ** 40 }))[0].requests;
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  completions: N, rowsStored: rows,
  tailJsonUs: +tailJson.toFixed(2), tailStreamUs: +tailStream.toFixed(2),
  recordUs: +(recordUs / N).toFixed(3), recordPlusBatchedWriteUs: +((d.user + d.system) / N).toFixed(2),
}));
