// OpenAI's Python SDK against respd, for what only that client shows: it sends `Content-Type:
// application/json` with an empty body on delete/cancel, and its stream helper takes the final response
// only from `response.completed`. Skipped, with the reason, without python3/pip.
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
  // mock-long: 200 chunks 50 ms apart, so a cancel sent by a (slow to start) Python process lands mid-reply.
  upstream = await startMockUpstream({ models: ['mock-slow', 'mock-long'], scenario: { kind: 'text', chunks: 200, delayMs: 50 } });
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

  it('stream helpers reach the final response of a cancelled background response', async (t) => {
    if (typeof sdk === 'string') return t.skip(sdk);
    const out = await py(`
def read(stream, rid=None):
    seen, cancelled = [], None
    for ev in stream:
        seen.append(ev.type)
        if ev.type == "response.created":
            rid = ev.response.id
        if ev.type == "response.output_text.delta" and cancelled is None:
            cancelled = c.responses.cancel(rid).status
    final = stream.get_final_response()
    return {"cancel": cancelled, "final": final.status, "last": seen[-1], "deltas": seen.count("response.output_text.delta")}

with c.responses.stream(model="openai:mock-long", input="go", background=True) as s:
    out["create"] = read(s)
bg = c.responses.create(model="openai:mock-long", input="go", background=True)
with c.responses.stream(response_id=bg.id) as s:
    out["retrieve"] = read(s, bg.id)
`);
    for (const k of ['create', 'retrieve']) {
      const r = out[k];
      assert.deepEqual([r.cancel, r.final, r.last], ['cancelled', 'cancelled', 'response.completed'], `${k}: ${JSON.stringify(r)}`);
      assert.ok(r.deltas < 200, `${k}: generation stopped (${r.deltas} deltas)`);
    }
  });
});
