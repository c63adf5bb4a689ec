// An empty body sent with `Content-Type: application/json` (what the Python SDK sends on delete and
// cancel) is no body: the route behaves as without the header. Raw HTTP, since the Node SDK never sends it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from './support/mock-upstream.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

/** A request with `Content-Type: application/json` and content-length 0, as the Python SDK sends it. */
const emptyJson = (method: string, path: string) =>
  server.fetch(path, { method, headers: { 'content-type': 'application/json' }, body: '' });

async function json(res: Response, status: number) {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text);
}

describe('empty body with Content-Type: application/json', () => {
  it('reaches the route: an unknown id is a 404, not invalid_json', async () => {
    const res = await emptyJson('DELETE', '/responses/resp_00000000000000000000000000000000');
    const err = await json(res, 404);
    assert.equal(err.error.code, 'not_found');
  });

  it('cancels a background response and deletes it', async () => {
    const bg = await server.client().responses.create({ model: 'openai:mock-slow', input: 'x', background: true });
    const cancelled = await json(await emptyJson('POST', `/responses/${bg.id}/cancel`), 200);
    assert.equal(cancelled.id, bg.id);
    assert.equal(cancelled.status, 'cancelled');
    const deleted = await json(await emptyJson('DELETE', `/responses/${bg.id}`), 200);
    assert.deepEqual(deleted, { id: bg.id, object: 'response', deleted: true });
  });

  it('deletes a conversation item and a conversation', async () => {
    const conv = await server.client().conversations.create({ items: [{ type: 'message', role: 'user', content: 'hi' }] });
    const items = await server.client().conversations.items.list(conv.id);
    const itemId = items.data[0]!.id!;
    const afterItem = await json(await emptyJson('DELETE', `/conversations/${conv.id}/items/${itemId}`), 200);
    assert.equal(afterItem.id, conv.id);
    assert.equal((await server.client().conversations.items.list(conv.id)).data.length, 0);
    const deleted = await json(await emptyJson('DELETE', `/conversations/${conv.id}`), 200);
    assert.deepEqual(deleted, { id: conv.id, object: 'conversation.deleted', deleted: true });
  });

  it('creates a conversation when the (optional) body is empty', async () => {
    const conv = await json(await emptyJson('POST', '/conversations'), 200);
    assert.equal(conv.object, 'conversation');
  });

  it('names the missing parameter where a body is required', async () => {
    const err = (await json(await emptyJson('POST', '/responses'), 400)).error;
    assert.equal(err.code, 'missing_required_parameter');
    assert.equal(err.param, 'model');
    const items = (await json(await emptyJson('DELETE', '/conversations/conv_x/items'), 400)).error;
    assert.equal(items.code, 'missing_required_parameter');
    assert.equal(items.param, 'item_ids');
  });

  it('still rejects a body that is present and malformed', async () => {
    for (const body of ['{', ' ', 'null x']) {
      const res = await server.fetch('/responses', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const err = (await json(res, 400)).error;
      assert.equal(err.code, 'invalid_json', `body ${JSON.stringify(body)}`);
    }
  });
});
