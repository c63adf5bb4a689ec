// The `respd` command (src/cli/), run as a child process the way an operator runs it, against a server
// started on a free port with its own data folder (and, in the store matrix, its own PostgreSQL schema:
// the CLI gets the same backend env as the server). Keys made by the CLI are used with the `openai`
// client; a tail is interrupted and resumed, and another has its connection cut under it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { dropBackends, sharedBackendEnv } from './support/backends.js';
import { startMockUpstream } from './support/mock-upstream.js';
import { KEY_A, ROOT, startServer, type TestServer } from './support/server.js';
import { waitFor } from './support/wait.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
/** The server re-reads the store's keys this often: the bound a revoke must meet. */
const REFRESH_MS = 500;

let server: TestServer;
let upstream: Awaited<ReturnType<typeof startMockUpstream>>;

interface Run { code: number | null; stdout: string; stderr: string }

/** Starts the CLI with the server's environment (data folder, backend); `env` adds or overrides. */
function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess & { out: { stdout: string; stderr: string }; done: Promise<Run> } {
  const { NODE_TEST_CONTEXT: _ctx, RESPD_URL: _u, RESPD_API_KEY: _k, API_KEYS: _a, ...parentEnv } = process.env;
  const proc = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...parentEnv, DATA_DIR: server.dataDir, ...sharedBackendEnv(server.dataDir), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  proc.stdout!.on('data', (d) => { out.stdout += d; });
  proc.stderr!.on('data', (d) => { out.stderr += d; });
  const done = new Promise<Run>((resolve) => proc.on('close', (code) => resolve({ code, ...out })));
  return Object.assign(proc, { out, done });
}

const cli = (args: string[], env: Record<string, string> = {}) => spawnCli(args, env).done;
const httpArgs = () => ['--url', server.url, '--key', KEY_A];

before(async () => {
  // A reply of 60 chunks 60 ms apart (~3.6 s): long enough to interrupt a tail in the middle.
  upstream = await startMockUpstream({ models: ['mock-tail', 'mock-text'], scenario: { kind: 'text', chunks: 60, chunkSize: 5, delayMs: 60 } });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url, KEYS_REFRESH_MS: String(REFRESH_MS) } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

describe('respd keys', () => {
  it('creates a key the server accepts at once, lists it, and revokes it within KEYS_REFRESH_MS', async () => {
    const created = await cli(['keys', 'create', '--name', 'ci robot']);
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^sk-respd-[A-Za-z0-9_-]{32}$/);
    assert.match(created.stderr, /shown only once/);

    const c = new OpenAI({ apiKey: key, baseURL: server.baseURL, maxRetries: 0 });
    const r = await c.responses.create({ model: 'openai:mock-text', input: 'hi' });
    assert.equal(r.status, 'completed');
    // The key is a tenant of its own: its response is its own, not KEY_A's.
    assert.equal((await c.responses.retrieve(r.id)).id, r.id);
    assert.equal((await server.fetch(`/responses/${r.id}`)).status, 404);

    const listed = await cli(['keys', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const mine = (JSON.parse(listed.stdout) as Array<{ id: string; name: string; tenant: string; revoked_at: number | null }>).find((k) => k.name === 'ci robot');
    assert.ok(mine, listed.stdout);
    assert.equal(mine.revoked_at, null);
    assert.ok(!listed.stdout.includes(key), 'the key itself is never listed');

    const revoked = await cli(['keys', 'revoke', mine.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const t0 = Date.now();
    let status = 200;
    while (status !== 401 && Date.now() - t0 < 10_000) {
      status = (await server.fetch('/models', { key })).status;
      if (status !== 401) await new Promise((res) => setTimeout(res, 25));
    }
    const tookMs = Date.now() - t0;
    console.log(`# revoke took effect after ${tookMs} ms (KEYS_REFRESH_MS ${REFRESH_MS})`);
    assert.equal(status, 401);
    // The bound plus one reload query and scheduling slack on a busy machine.
    assert.ok(tookMs <= REFRESH_MS + 1000, `revoke took ${tookMs} ms`);
    await assert.rejects(c.responses.retrieve(r.id), (e: { status?: number }) => e.status === 401);
    // The keys of API_KEYS are untouched.
    assert.equal((await server.fetch('/models')).status, 200);

    assert.equal((await cli(['keys', 'revoke', 'key_nope'])).code, 1);
  });

  it('without API_KEYS, a first start generates no key when the store already holds keys', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'respd-cli-'));
    const backend = { DATA_DIR: dataDir, ...sharedBackendEnv(dataDir) };
    try {
      const created = await cli(['keys', 'create', '--name', 'first'], backend);
      assert.equal(created.code, 0, created.stderr);
      const fresh = await startServer({ dataDir, env: { API_KEYS: '', OPENAI_BASE_URL: upstream.url } });
      try {
        assert.ok(!existsSync(join(dataDir, 'api-keys.json')), 'no generated key file');
        assert.ok(fresh.logs.some((l) => /none generated/.test(l)), fresh.logs.join('\n'));
        assert.equal((await fresh.fetch('/models', { key: created.stdout.trim() })).status, 200);
        assert.equal((await fresh.fetch('/models')).status, 401);
      } finally {
        await fresh.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await dropBackends(dataDir);
    }
  });
});

describe('respd tail', () => {
  it('prints the text of a running response; interrupted and resumed with --starting-after, the pieces make output_text', async () => {
    const c = server.client();
    const bg = await c.responses.create({ model: 'openai:mock-tail', input: 'go', background: true });
    const first = spawnCli(['tail', bg.id, ...httpArgs()]);
    // Interrupt once some text was printed and the response is still running.
    await waitFor(() => first.out.stdout.length >= 40, 15_000);
    first.kill('SIGINT');
    const r1 = await first.done;
    assert.equal(r1.code, 130, r1.stderr);
    const m = /--starting-after (\d+)/.exec(r1.stderr);
    assert.ok(m, r1.stderr);
    assert.match(r1.stderr, /\d+ events · seq \d+ · ~?\d+ tokens · /, 'a progress line');

    const second = await cli(['tail', bg.id, '--starting-after', m[1]!, ...httpArgs()]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /completed/);
    const done = await c.responses.retrieve(bg.id);
    assert.equal(done.status, 'completed');
    assert.ok(r1.stdout.length < done.output_text.length, 'the first tail was interrupted midway');
    assert.equal(r1.stdout + second.stdout, done.output_text);

    // Resumed after the very last event: nothing to print, and the response's end is reported, not waited for.
    const last = [...second.stderr.matchAll(/seq (\d+)/g)].at(-1)![1]!;
    const t0 = Date.now();
    const nothingLeft = await cli(['tail', bg.id, '--starting-after', last, ...httpArgs()]);
    assert.equal(nothingLeft.code, 0, nothingLeft.stderr);
    assert.equal(nothingLeft.stdout, '');
    assert.ok(Date.now() - t0 < 5000);
  });

  it('reconnects by itself after the connection is cut, resuming after the last sequence number seen', async () => {
    // A proxy that cuts the first stream after 1 s; later requests pass through.
    const target = new URL(server.url);
    let cuts = 0;
    const resumedFrom: string[] = [];
    const proxy = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      if (u.searchParams.get('stream') === 'true') resumedFrom.push(u.searchParams.get('starting_after') ?? 'start');
      const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode!, upRes.headers);
        upRes.pipe(res);
        if (u.searchParams.get('stream') === 'true' && cuts === 0) {
          cuts++;
          setTimeout(() => { upRes.destroy(); res.destroy(); }, 1000);
        }
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const c = server.client();
      const bg = await c.responses.create({ model: 'openai:mock-tail', input: 'go again', background: true });
      const run = await cli(['tail', bg.id, '--url', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, '--key', KEY_A]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(cuts, 1);
      assert.equal(resumedFrom.length, 2, resumedFrom.join(' '));
      assert.equal(resumedFrom[0], 'start');
      assert.match(resumedFrom[1]!, /^\d+$/, 'the second request resumes after a sequence number');
      assert.match(run.stderr, /reconnecting/);
      const done = await c.responses.retrieve(bg.id);
      assert.equal(run.stdout, done.output_text);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('an unknown response or a bad key: exit 1 with the server\'s message', async () => {
    const unknown = await cli(['tail', 'resp_nope', ...httpArgs()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /HTTP 404/);
    const badKey = await cli(['tail', 'resp_nope', '--url', server.url, '--key', 'wrong']);
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /HTTP 401/);
  });
});

describe('respd list and export-conversation', () => {
  it('lists the responses of the key, newest first', async () => {
    const r = await server.client().responses.create({ model: 'openai:mock-text', input: 'listed' });
    const run = await cli(['list', '--limit', '5', ...httpArgs()]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+STATUS/);
    assert.match(lines[1]!, new RegExp(`^${r.id}\\s+completed`));
    const json = await cli(['list', '--json', ...httpArgs()], { RESPD_URL: server.url, RESPD_API_KEY: KEY_A });
    assert.equal(JSON.parse(json.stdout).data[0].id, r.id);
  });

  it('exports a conversation with all its items, across pages', async () => {
    const c = server.client();
    const items = Array.from({ length: 130 }, (_, i) => ({ type: 'message' as const, role: 'user' as const, content: `item ${i}` }));
    const conv = await c.conversations.create({ metadata: { topic: 'export' }, items: items.slice(0, 20) });
    // At most 20 items per call.
    for (let i = 20; i < items.length; i += 20) await c.conversations.items.create(conv.id, { items: items.slice(i, i + 20) });
    // Through the env vars this time.
    const run = await cli(['export-conversation', conv.id], { RESPD_URL: `${server.url}/api/v1/llm`, RESPD_API_KEY: KEY_A });
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as { conversation: { id: string; metadata: Record<string, string> }; items: Array<{ content: Array<{ text: string }> }> };
    assert.equal(doc.conversation.id, conv.id);
    assert.deepEqual(doc.conversation.metadata, { topic: 'export' });
    assert.equal(doc.items.length, 130);
    assert.deepEqual(doc.items.map((it) => it.content[0]!.text), items.map((it) => it.content));
    const missing = await cli(['export-conversation', 'conv_nope', ...httpArgs()]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /HTTP 404/);
  });
});

describe('respd check', () => {
  it('passes on the server\'s configuration, with its migrations and row counts', async () => {
    const run = await cli(['check']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /migrations: applied \[1(, \d+)+\] pending \[\]/);
    assert.match(run.stdout, /responses\s+\d+/);
    assert.match(run.stdout, /check passed/);
    const json = JSON.parse((await cli(['check', '--json'])).stdout) as { ok: boolean; counts: Record<string, number> };
    assert.equal(json.ok, true);
    assert.ok(json.counts.responses! >= 1 && json.counts.api_keys! >= 1, JSON.stringify(json.counts));
    for (const t of ['containers', 'guardrails', 'prompts', 'prompt_versions']) assert.equal(typeof json.counts[t], 'number', `${t} counted`);
  });

  it('fails (exit 1) on a bad setting, an unreachable store or a missing model file', async () => {
    const badSetting = await cli(['check'], { PORT: 'eighty' });
    assert.equal(badSetting.code, 1);
    assert.match(badSetting.stdout, /FAIL\s+config: invalid configuration: PORT must be an integer/);
    const noStore = await cli(['check'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' });
    assert.equal(noStore.code, 1);
    assert.match(noStore.stdout, /FAIL\s+store: postgres/);
    const noModel = await cli(['check'], { MODEL_PATH: '/nonexistent/model.gguf' });
    assert.equal(noModel.code, 1);
    assert.match(noModel.stdout, /llama model file not found/);
  });
});

describe('usage', () => {
  for (const [args, why] of [
    [[], 'no command'],
    [['frobnicate'], 'unknown command'],
    [['tail'], 'missing response id'],
    [['tail', 'resp_1', 'extra', '--key', 'k'], 'extra positional'],
    [['tail', 'resp_1', '--starting-after', 'x', '--key', 'k'], 'not an integer'],
    [['keys', 'create', '--bogus'], 'unknown option'],
    [['keys', 'shred'], 'unknown keys subcommand'],
    [['list', '--limit', '0', '--key', 'k'], 'limit out of range'],
    [['list', '--url', 'ftp://x', '--key', 'k'], 'not an http URL'],
    [['list', '--url', 'http://127.0.0.1:1'], 'no key'],
  ] as const) {
    it(`${why}: usage on stderr, exit 2`, async () => {
      const run = await cli([...args]);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /Usage:/);
      assert.equal(run.stdout, '');
    });
  }

  it('--help prints the usage on stdout, exit 0; npx respd runs the same bin', async () => {
    const run = await cli(['--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /respd keys create/);
    const viaNpx = await new Promise<Run>((resolve) => {
      const p = spawn('npx', ['--no-install', 'respd', 'tail', '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(viaNpx.code, 0, viaNpx.stderr);
    assert.match(viaNpx.stdout, /respd tail <response_id>/);
  });
});
