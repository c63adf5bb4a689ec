// Files API over HTTP with the official `openai` client: upload, list, retrieve, content, delete;
// ownership between keys and end users; bad input as 4xx with nothing written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { KEY_B, startServer, type TestServer } from './support/server.js';
import { status } from './support/api-status.js';

let server: TestServer;
const LIMIT = 64 * 1024;

before(async () => {
  server = await startServer({ env: { FILES_MAX_BYTES: String(LIMIT) } });
});
after(async () => {
  await server?.stop();
});


/** server.fetch would label a FormData body as JSON: multipart goes through plain fetch. */
const postForm = (form: FormData) =>
  fetch(`${server.baseURL}/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${KEY_B}`, 'x-on-behalf-of': 'bad-input' } });

const upload = async (client: OpenAI, name: string, text: string | Buffer, purpose: any = 'assistants') =>
  client.files.create({ file: await toFile(Buffer.from(text), name), purpose });

describe('files with the openai client', () => {
  it('create, retrieve, content, list (order, after, limit, purpose), delete', async () => {
    const client = server.client();
    const a = await upload(client, 'notes.md', '# Title\n\nSome notes about wings.');
    assert.match(a.id, /^file_[0-9a-f]{32}$/);
    assert.equal(a.object, 'file');
    assert.equal(a.bytes, Buffer.byteLength('# Title\n\nSome notes about wings.'));
    assert.equal(a.filename, 'notes.md');
    assert.equal(a.purpose, 'assistants');
    assert.equal(a.status, 'processed');
    assert.equal(typeof a.created_at, 'number');
    assert.deepEqual(await client.files.retrieve(a.id), a);

    const content = await client.files.content(a.id);
    assert.equal(content.headers.get('content-type')?.split(';')[0], 'text/markdown');
    assert.equal(await content.text(), '# Title\n\nSome notes about wings.');

    const bin = Buffer.from([0, 1, 2, 255, 254, 0, 10]);
    const b = await upload(client, 'blob.bin', bin, 'user_data');
    const c = await upload(client, 'data.json', '{"a":1}', 'batch');
    const raw = Buffer.from(await (await client.files.content(b.id)).arrayBuffer());
    assert.deepEqual(raw, bin, 'binary bytes come back unchanged');

    const all: string[] = [];
    for await (const f of client.files.list({ limit: 1 })) all.push(f.id);
    assert.deepEqual(all, [c.id, b.id, a.id], 'newest first by default, paged by after');
    const asc = await client.files.list({ order: 'asc' });
    assert.deepEqual(asc.data.map((f) => f.id), [a.id, b.id, c.id]);
    const page = await client.files.list({ order: 'asc', after: a.id, limit: 1 });
    assert.deepEqual(page.data.map((f) => f.id), [b.id]);
    assert.equal(page.has_more, true);
    const onlyBatch = await client.files.list({ purpose: 'batch' });
    assert.deepEqual(onlyBatch.data.map((f) => f.id), [c.id]);

    assert.deepEqual(await client.files.delete(b.id), { id: b.id, object: 'file', deleted: true });
    assert.equal((await status(client.files.retrieve(b.id))).status, 404);
    assert.equal((await status(client.files.content(b.id))).status, 404);
    assert.equal((await status(client.files.delete(b.id))).status, 404);
    if (!process.env.TEST_DATABASE_URL) {
      assert.deepEqual(readdirSync(join(server.dataDir, 'files')).sort(), [a.id, c.id].sort(), 'the bytes of a deleted file are gone');
    }
  });

  it('expires_after is accepted and reported', async () => {
    const client = server.client();
    const f = await client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 3600 } });
    assert.equal(f.expires_at, f.created_at + 3600);
    const bad = await status(client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 5 } }));
    assert.deepEqual([bad.status, bad.param], [400, 'expires_after.seconds']);
  });

  it('is owned by key and end user', async () => {
    const alice = server.client(undefined, 'alice');
    const f = await upload(alice, 'a.txt', 'alice text');
    for (const other of [server.client(), server.client(undefined, 'bob'), server.client(KEY_B), server.client(KEY_B, 'alice')]) {
      assert.equal((await status(other.files.retrieve(f.id))).status, 404);
      assert.equal((await status(other.files.content(f.id))).status, 404);
      assert.equal((await status(other.files.delete(f.id))).status, 404);
      assert.ok(!(await other.files.list()).data.some((x) => x.id === f.id));
    }
    assert.equal((await alice.files.retrieve(f.id)).id, f.id);
  });

  it('refuses bad input with 4xx and writes nothing', async () => {
    const client = server.client(KEY_B, 'bad-input');
    const before = (await client.files.list()).data.length;
    const tooBig = await status(upload(client, 'big.txt', Buffer.alloc(LIMIT + 1, 97)));
    assert.deepEqual([tooBig.status, tooBig.code], [413, 'request_too_large']);
    const badPurpose = await status(upload(client, 'a.txt', 'x', 'nonsense'));
    assert.deepEqual([badPurpose.status, badPurpose.param], [400, 'purpose']);
    const empty = await status(upload(client, 'a.txt', ''));
    assert.equal(empty.status, 400);
    assert.equal((await status(client.files.retrieve('file_0123456789abcdef'))).status, 404);
    assert.equal((await status(client.files.retrieve('not-a-file-id'))).status, 400);

    const noFile = new FormData();
    noFile.set('purpose', 'assistants');
    let res = await postForm(noFile);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'file');

    const noPurpose = new FormData();
    noPurpose.set('file', new Blob(['hello']), 'a.txt');
    res = await postForm(noPurpose);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'purpose');

    const extra = new FormData();
    extra.set('purpose', 'assistants');
    extra.set('colour', 'blue');
    extra.set('file', new Blob(['hello']), 'a.txt');
    res = await postForm(extra);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'unknown_parameter');

    res = await server.fetch('/files', { method: 'POST', body: JSON.stringify({ purpose: 'assistants' }), key: KEY_B, endUser: 'bad-input' });
    assert.equal(res.status, 415);

    res = await server.fetch('/files', {
      method: 'POST', key: KEY_B, endUser: 'bad-input',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: '--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassis',
    });
    assert.ok(res.status >= 400 && res.status < 500, `truncated multipart: ${res.status}`);

    res = await server.fetch('/files?limit=0', { key: KEY_B });
    assert.equal(res.status, 400);
    assert.equal((await client.files.list()).data.length, before, 'nothing was written');
    if (!process.env.TEST_DATABASE_URL) {
      const left = readdirSync(join(server.dataDir, 'files')).filter((n) => n.endsWith('.part'));
      assert.deepEqual(left, [], 'no partial file is left behind');
    }
  });
});
