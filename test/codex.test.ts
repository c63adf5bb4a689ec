// OpenAI's Codex CLI, unchanged, against respd: `codex exec` with a custom model provider
// (`wire_api = "responses"`, base_url = respd's /api/v1/llm) on an OpenAI-compatible upstream that
// calls the shell tool Codex offers. Codex's real request (client_metadata, a `namespace` tool, a
// `web_search` tool, store: false, encrypted reasoning, its x-codex-* headers) must be accepted as sent,
// Codex must run the command, and its function_call_output must reach the upstream.
//
// Codex is installed on first use into test/peer/codex/ from its own lockfile (not a dependency of
// respd: its platform binary is ~400 MB) and reused afterwards. Without the npm registry the test is
// skipped with the reason; in CI (CI set) a failed install fails the test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream, type MockUpstream } from './support/mock-upstream.js';
import { KEY_A, ROOT, startServer, type TestServer } from './support/server.js';

const PEER = join(ROOT, 'test/peer/codex');
const CODEX = join(PEER, 'node_modules/.bin/codex');

/** The codex binary, installing it when missing; a reason string when that is impossible. */
function ensureCodex(): { bin: string } | { reason: string } {
  if (existsSync(CODEX)) return { bin: CODEX };
  const started = Date.now();
  process.stdout.write('installing Codex CLI (npm ci --prefix test/peer/codex)…\n');
  const r = spawnSync('npm', ['ci', '--prefix', PEER, '--no-audit', '--no-fund'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0 || !existsSync(CODEX)) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ');
    return { reason: `npm ci --prefix test/peer/codex failed (exit ${r.status}): ${why}` };
  }
  process.stdout.write(`Codex CLI installed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return { bin: CODEX };
}

const installed = ensureCodex();
const skip = 'reason' in installed && !process.env.CI ? `Codex CLI unavailable: ${installed.reason}` : false;

let server: TestServer;
let upstream: MockUpstream;
let dir: string;

before(async () => {
  if (skip) return;
  if ('reason' in installed) throw new Error(installed.reason);
  // Codex's prompt (instructions and ~20 tools) is ~10k tokens: a model with a real agent's window.
  upstream = await startMockUpstream({ maxModelLen: 128_000 });
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
  dir = mkdtempSync(join(tmpdir(), 'respd-codex-'));
});
after(async () => {
  await server?.stop();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runCodex(bin: string, home: string, work: string, prompt: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, [
      'exec', '--skip-git-repo-check', '--ephemeral', '--color', 'never', '--dangerously-bypass-approvals-and-sandbox', '-C', work, prompt,
    ], { env: { ...process.env, CODEX_HOME: home, RESPD_API_KEY: KEY_A }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('Codex CLI', { skip }, () => {
  it('codex exec runs a tool call round trip through respd', async () => {
    const home = join(dir, 'home');
    const work = join(dir, 'work');
    mkdirSync(home);
    mkdirSync(work);
    // The "Use with Codex" config of the README, pointed at this test's server.
    writeFileSync(join(home, 'config.toml'), [
      'model = "openai:mock-script"',
      'model_provider = "respd"',
      '',
      '[model_providers.respd]',
      'name = "respd"',
      `base_url = "${server.baseURL}"`,
      'env_key = "RESPD_API_KEY"',
      'wire_api = "responses"',
      '',
    ].join('\n'));
    // The mock upstream follows a script sent as the user's prompt: call Codex's shell tool, then answer.
    const marker = join(work, 'marker.txt');
    const prompt = JSON.stringify({
      calls: [{ name: 'exec_command', arguments: JSON.stringify({ cmd: `echo respd-codex-ok > ${marker}` }) }],
      answer: 'respd-codex-done',
    });
    const started = Date.now();
    const r = await runCodex((installed as { bin: string }).bin, home, work, prompt);
    const took = Date.now() - started;
    const all = `exit ${r.code} after ${took} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nserver:\n${server.logs.slice(-20).join('\n')}`;
    assert.equal(r.code, 0, all);
    assert.equal(readFileSync(marker, 'utf8').trim(), 'respd-codex-ok', all);
    assert.match(r.stdout + r.stderr, /respd-codex-done/, all);

    const chats = upstream.requests.filter((q) => q.path.endsWith('/chat/completions'));
    assert.ok(chats.length >= 2, `upstream saw ${chats.length} chat requests`);
    const first = chats[0]!.body;
    const names = first.tools.map((t: any) => t.function.name);
    assert.ok(names.includes('exec_command'), names.join());
    // The functions of Codex's `namespace` tool are offered under namespaced names; web_search (hosted,
    // not configured here) is not offered.
    assert.ok(names.some((n: string) => n.startsWith('multi_agent_v1__')), names.join());
    assert.ok(!names.includes('web_search'));
    // The round trip: the call the upstream made comes back as a tool message with Codex's output.
    const call = chats.map((q) => q.body.messages).flat().find((m: any) => m.role === 'assistant' && m.tool_calls?.length);
    assert.ok(call, 'a later upstream request replays the call');
    const answer = chats.map((q) => q.body.messages).flat().find((m: any) => m.role === 'tool' && m.tool_call_id === call.tool_calls[0].id);
    assert.ok(answer, 'the upstream received the function_call_output');
    assert.equal(call.tool_calls[0].function.name, 'exec_command');
    process.stdout.write(`codex exec round trip: ${took} ms, ${chats.length} upstream requests\n`);
  });
});
