// The Containers API with the official client: create (name, expires_after, memory_limit, file_ids copied
// from /files), list (order, name, paging), retrieve, delete; container files uploaded as multipart or by
// file_id, listed, read back, deleted; ownership by key (another key's container is "not found");
// expiry after the last use (the record stays, "expired", its files are dropped); clear 400s. Needs no
// sandbox: containers are storage. Runs on SQLite here and on PostgreSQL in the store matrix.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI, { toFile } from 'openai';
import { status } from './support/api-status.js';
import { KEY_B, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let client: OpenAI;

before(async () => {
  server = await startServer();
  client = server.client();
});
after(async () => {
  await server?.stop();
});

describe('containers', () => {
  it('creates, retrieves, lists, and deletes a container', async () => {
    const c = await client.containers.create({ name: 'alpha', expires_after: { anchor: 'last_active_at', minutes: 30 }, memory_limit: '4g' });
    assert.match(c.id, /^cntr_/);
    assert.equal(c.object, 'container');
    assert.equal(c.status, 'running');
    assert.equal(c.name, 'alpha');
    assert.deepEqual(c.expires_after, { anchor: 'last_active_at', minutes: 30 });
    assert.equal(c.memory_limit, '4g');
    assert.equal(typeof c.last_active_at, 'number');
    const d = await client.containers.create({ name: 'beta' });
    assert.deepEqual(d.expires_after, { anchor: 'last_active_at', minutes: 20 }, 'OpenAI\'s default: 20 minutes');
    assert.equal(d.memory_limit, '1g');

    assert.deepEqual(await client.containers.retrieve(c.id), c);
    const page = await client.containers.list({ limit: 1, order: 'desc' });
    assert.deepEqual(page.data.map((x) => x.id), [d.id]);
    assert.equal(page.has_more, true);
    const all: string[] = [];
    for await (const x of client.containers.list({ order: 'asc', limit: 1 })) all.push(x.id);
    assert.ok(all.indexOf(c.id) < all.indexOf(d.id));
    const named = await client.containers.list({ name: 'alpha' } as any);
    assert.ok(named.data.every((x) => x.name === 'alpha') && named.data.some((x) => x.id === c.id));

    await client.containers.delete(d.id);
    assert.equal((await status(client.containers.retrieve(d.id))).status, 404);
    assert.equal((await status(client.containers.delete(d.id))).status, 404);
  });

  it('adds files by upload and by file_id, lists, reads, and deletes them', async () => {
    const up = await client.files.create({ file: await toFile(Buffer.from('x,y\n1,2\n'), 'table.csv'), purpose: 'user_data' });
    const c = await client.containers.create({ name: 'files', file_ids: [up.id] });
    const listed = await client.containers.files.list(c.id);
    assert.equal(listed.data.length, 1);
    assert.equal(listed.data[0]!.path, '/mnt/data/table.csv');
    assert.equal(listed.data[0]!.source, 'user');
    assert.equal(listed.data[0]!.container_id, c.id);

    const f = await client.containers.files.create(c.id, { file: await toFile(Buffer.from('hello'), 'notes.txt') });
    assert.match(f.id, /^cfile_/);
    assert.equal(f.object, 'container.file');
    assert.equal(f.bytes, 5);
    assert.equal(f.path, '/mnt/data/notes.txt');
    const copy = await client.containers.files.create(c.id, { file_id: up.id });
    assert.equal(copy.path, '/mnt/data/table.csv', 'the same path: the older copy is replaced');
    assert.equal((await client.containers.files.list(c.id)).data.length, 2);

    assert.deepEqual(await client.containers.files.retrieve(f.id, { container_id: c.id }), f);
    const res = await client.containers.files.content.retrieve(f.id, { container_id: c.id });
    assert.equal(await res.text(), 'hello');
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);

    await client.containers.files.delete(f.id, { container_id: c.id });
    assert.equal((await status(client.containers.files.retrieve(f.id, { container_id: c.id }))).status, 404);
    // Deleting the container deletes its files.
    await client.containers.delete(c.id);
    assert.equal((await status(client.containers.files.list(c.id))).status, 404);
  });

  it('keeps containers to their owner', async () => {
    const c = await client.containers.create({ name: 'mine' });
    const f = await client.containers.files.create(c.id, { file: await toFile(Buffer.from('secret'), 's.txt') });
    const other = server.client(KEY_B);
    assert.equal((await status(other.containers.retrieve(c.id))).status, 404);
    assert.equal((await status(other.containers.files.content.retrieve(f.id, { container_id: c.id }))).status, 404);
    assert.equal((await status(other.containers.delete(c.id))).status, 404);
    assert.ok(!(await other.containers.list()).data.some((x) => x.id === c.id));
    const foreignFile = await other.files.create({ file: await toFile(Buffer.from('b'), 'b.txt'), purpose: 'user_data' });
    const copy = await status(client.containers.create({ name: 'x', file_ids: [foreignFile.id] }));
    assert.equal(copy.status, 404, 'another key\'s file cannot be copied in');
    assert.equal(copy.param, 'file_ids[0]');
  });

  it('answers bad requests with 400s naming the parameter', async () => {
    const bad = (body: unknown) => status(client.containers.create(body as any));
    assert.deepEqual(await bad({}), { status: 400, param: 'name', code: 'missing_required_parameter' });
    assert.equal((await bad({ name: 'x', memory_limit: '2g' })).param, 'memory_limit');
    assert.equal((await bad({ name: 'x', expires_after: { anchor: 'created_at', minutes: 5 } })).param, 'expires_after.anchor');
    assert.equal((await bad({ name: 'x', expires_after: { anchor: 'last_active_at', minutes: 0 } })).param, 'expires_after.minutes');
    assert.equal((await bad({ name: 'x', network_policy: { type: 'allowlist', allowed_domains: ['example.org'] } })).param, 'network_policy');
    assert.equal((await bad({ name: 'x', colour: 'blue' })).code, 'unknown_parameter');
    assert.equal((await status(client.containers.retrieve('nope'))).status, 400);
    const c = await client.containers.create({ name: 'y' });
    assert.equal((await status(client.containers.files.create(c.id, {} as any))).status, 400);
    assert.equal((await status(client.containers.files.retrieve('cfile_x', { container_id: c.id }))).status, 404);
  });

  it('expires after its idle minutes: the record stays, its files are dropped, and it takes no more files', async (t) => {
    const db = join(server.dataDir, 'respd.db');
    if (!existsSync(db)) return t.skip('the clock is turned back in the SQLite file; PostgreSQL runs the rest of this suite');
    const c = await client.containers.create({ name: 'old', expires_after: { anchor: 'last_active_at', minutes: 1 } });
    await client.containers.files.create(c.id, { file: await toFile(Buffer.from('x'), 'x.txt') });
    const sqlite = new Database(db);
    sqlite.pragma('busy_timeout = 5000');
    sqlite.prepare('UPDATE containers SET last_active_at = last_active_at - 120 WHERE id = ?').run(c.id);
    sqlite.close();
    const expired = await client.containers.retrieve(c.id);
    assert.equal(expired.status, 'expired');
    assert.deepEqual((await client.containers.files.list(c.id)).data, []);
    const more = await status(client.containers.files.create(c.id, { file: await toFile(Buffer.from('y'), 'y.txt') }));
    assert.deepEqual(more, { status: 400, param: 'container_id', code: 'container_expired' });
  });
});
