// OpenAI's Python SDK against respd, for what only that client shows (it sends `Content-Type:
// application/json` with an empty body on delete/cancel). Skipped, with the reason, without python3/pip.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { pythonSdk, type PythonSdk } from './support/python-sdk.js';
import { KEY_A, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;
let sdk: PythonSdk | string;

before(async () => {
  sdk = await pythonSdk();
  if (typeof sdk === 'string') {
    console.log(`# python-sdk tests skipped: ${sdk}`);
    return;
  }
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

/** Runs a script with `c`, a client of the test server, and returns what it printed as JSON. */
async function py(body: string): Promise<any> {
  const script = `import json, openai\nc = openai.OpenAI(max_retries=0, timeout=30)\nout = {}\n${body}\nprint(json.dumps(out))\n`;
  const stdout = await (sdk as PythonSdk).run(script, { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: KEY_A });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('python openai SDK', () => {
  it('cancels and deletes responses, deletes conversations and their items', async (t) => {
    if (typeof sdk === 'string') return t.skip(sdk);
    const out = await py(`
bg = c.responses.create(model="openai:mock-slow", input="x", background=True)
out["cancel"] = c.responses.cancel(bg.id).status
c.responses.delete(bg.id)
try:
    c.responses.retrieve(bg.id)
    out["after_delete"] = "found"
except openai.NotFoundError:
    out["after_delete"] = "not_found"
conv = c.conversations.create(items=[{"type": "message", "role": "user", "content": "hi"}])
item = c.conversations.items.list(conv.id).data[0]
c.conversations.items.delete(item.id, conversation_id=conv.id)
out["items_after"] = len(c.conversations.items.list(conv.id).data)
out["conversation_deleted"] = c.conversations.delete(conv.id).deleted
`);
    assert.deepEqual(out, { cancel: 'cancelled', after_delete: 'not_found', items_after: 0, conversation_deleted: true });
  });
});
