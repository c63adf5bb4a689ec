// Configuration: environment variables and the provider file (RESPD_CONFIG) are validated when the
// server starts; a bad value stops it with a message naming the variable, or the file, provider and key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { startServer } from './support/server.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'respd-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a file of the given name in the temp folder and loads the config with it. */
function withFile(name: string, text: string, env: Record<string, string> = {}) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return { file, load: () => loadConfig({ RESPD_CONFIG: file, ...env }, dir) };
}

const refuses = (load: () => unknown, pattern: RegExp) =>
  assert.throws(load, (e: unknown) => e instanceof ConfigError && pattern.test(e.message), String(pattern));

describe('environment variables', () => {
  it('EMBEDDING_MODEL: provider:model of a configured provider, or unset', () => {
    assert.equal(loadConfig({}, dir).embeddingModel, undefined);
    assert.equal(loadConfig({ MODEL_PATH: 'm/model.gguf', EMBEDDING_MODEL: 'local:model' }, dir).embeddingModel, 'local:model');
    refuses(() => loadConfig({ MODEL_PATH: 'm/model.gguf', EMBEDDING_MODEL: 'model' }, dir), /EMBEDDING_MODEL/);
    refuses(() => loadConfig({ MODEL_PATH: 'm/model.gguf', EMBEDDING_MODEL: 'elsewhere:model' }, dir), /EMBEDDING_MODEL names provider 'elsewhere'/);
  });

  it('defaults, when nothing is set', () => {
    const c = loadConfig({}, dir);
    assert.equal(c.redisPrefix, 'respd');
    assert.equal(c.databaseSchema, undefined);
    assert.equal(c.sqliteBusyTimeoutMs, 5000);
    assert.equal(c.drainMs, 10_000);
    assert.deepEqual(c.websocket, { maxConnectionMs: 3_600_000, idleTimeoutMs: 600_000, maxLanes: 8 }, "OpenAI's 60 minutes; 10 idle; 8 lanes");
    assert.equal(c.commitTimeoutMs, 5000);
    assert.equal(c.vectorExtension, true, 'sqlite-vec / pgvector detection on by default');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.allowPrivateMcp, false);
    assert.deepEqual(c.metrics, { token: undefined, port: undefined, host: '127.0.0.1' }, 'no /metrics unless asked for');
    assert.deepEqual(c.providers, [], 'no model in the folder, no MODEL_PATH: no embedded engine');
  });

  it('reads each one into its Config field', () => {
    const c = loadConfig({
      REDIS_PREFIX: 'tenant_a', DATABASE_SCHEMA: 'respd_a', SQLITE_BUSY_TIMEOUT_MS: '250', DRAIN_MS: '0',
      MODEL_PATH: 'm/model.gguf', LLAMA_THREADS: '3', MCP_ALLOW_PRIVATE: 'true', LOG_LEVEL: 'warn',
      LLAMA_CHAT_WRAPPER: 'harmony', LLAMA_REASONING_INPUT: '1',
      WS_MAX_CONNECTION_MS: '90000', WS_IDLE_TIMEOUT_MS: '0', WS_MAX_LANES: '3',
      METRICS_TOKEN: 'scrape-token-0123456789', METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5',
    }, dir);
    assert.deepEqual(c.metrics, { token: 'scrape-token-0123456789', port: 9464, host: '10.0.0.5' });
    assert.equal(c.webSearch, undefined);
    assert.equal(c.images, undefined);
    assert.deepEqual(loadConfig({ IMAGES_BASE_URL: 'http://127.0.0.1:8081/v1/', IMAGES_API_KEY: 'k', IMAGES_MODEL: 'sd-turbo', IMAGES_TIMEOUT_MS: '5000' }, dir).images,
      { baseUrl: 'http://127.0.0.1:8081/v1', apiKey: 'k', model: 'sd-turbo', timeoutMs: 5000 });
    refuses(() => loadConfig({ WEB_SEARCH_BACKEND: 'searxng' }, dir), /WEB_SEARCH_BACKEND=searxng needs WEB_SEARCH_URL/);
    refuses(() => loadConfig({ WEB_SEARCH_BACKEND: 'brave' }, dir), /WEB_SEARCH_BACKEND=brave needs WEB_SEARCH_API_KEY/);
    assert.deepEqual(loadConfig({ WEB_SEARCH_BACKEND: 'searxng', WEB_SEARCH_URL: 'http://127.0.0.1:8888/' }, dir).webSearch,
      { backend: 'searxng', url: 'http://127.0.0.1:8888', apiKey: undefined, allowPrivate: false, timeoutMs: 10_000 });
    assert.equal(c.codeInterpreter, undefined, 'code_interpreter is off by default');
    refuses(() => loadConfig({ CODE_INTERPRETER: 'docker' }, dir), /CODE_INTERPRETER must be 'bwrap' or 'off', got 'docker'/);
    refuses(() => loadConfig({ CODE_INTERPRETER: 'bwrap', CODE_INTERPRETER_MEMORY_MB: '2048', CODE_INTERPRETER_MAX_MEMORY_MB: '1024' }, dir), /MAX_MEMORY_MB must be at least/);
    refuses(() => loadConfig({ CODE_INTERPRETER: 'bwrap', CODE_INTERPRETER_CPU_SECONDS: '0' }, dir), /CODE_INTERPRETER_CPU_SECONDS must be an integer >= 1/);
    const ci = loadConfig({ CODE_INTERPRETER: 'bwrap', CODE_INTERPRETER_TIMEOUT_MS: '5000' }, dir).codeInterpreter!;
    assert.deepEqual([ci.sandbox, ci.python, ci.timeoutMs, ci.cpuSeconds, ci.memoryMb, ci.maxMemoryMb, ci.idleMinutes], ['bwrap', '/usr/bin/python3', 5000, 30, 1024, 4096, 20]);
    assert.deepEqual(c.websocket, { maxConnectionMs: 90_000, idleTimeoutMs: 0, maxLanes: 3 });
    assert.equal(c.redisPrefix, 'tenant_a');
    assert.equal(c.databaseSchema, 'respd_a');
    assert.equal(c.sqliteBusyTimeoutMs, 250);
    assert.equal(loadConfig({ VECTOR_EXTENSION: 'off' }, dir).vectorExtension, false);
    assert.equal(c.drainMs, 0);
    assert.equal(c.allowPrivateMcp, true);
    assert.equal(c.logLevel, 'warn');
    assert.deepEqual(c.providers.map((p) => [p.id, p.type === 'llama' && p.modelPath, p.type === 'llama' && p.threads]),
      [['local', join(dir, 'm/model.gguf'), 3]], 'MODEL_PATH comes from the env given, not the process');
    assert.equal(c.autoModel, 'local:model');
    assert.deepEqual(c.providers.map((p) => p.type === 'llama' && [p.chatWrapper, p.reasoningInput]), [['harmony', true]]);
  });

  it('refuses a chat format the embedded engine does not know, naming the known ones', () => {
    refuses(() => loadConfig({ MODEL_PATH: 'm/model.gguf', LLAMA_CHAT_WRAPPER: 'chatml' }, dir),
      /LLAMA_CHAT_WRAPPER must be one of auto, general, qwen, qwen3\.5, deepseek, harmony, got 'chatml'/);
    refuses(() => loadConfig({ MODEL_PATH: 'm/model.gguf', LLAMA_REASONING_INPUT: 'yes' }, dir), /LLAMA_REASONING_INPUT must be 1, true, 0 or false/);
  });

  for (const [name, value, pattern] of [
    ['DRAIN_MS', 'soon', /DRAIN_MS must be an integer >= 0, got 'soon'/],
    ['COMMIT_TIMEOUT_MS', '0', /COMMIT_TIMEOUT_MS must be an integer >= 1/],
    ['SQLITE_BUSY_TIMEOUT_MS', '-5', /SQLITE_BUSY_TIMEOUT_MS must be an integer >= 0/],
    ['VECTOR_EXTENSION', 'on', /VECTOR_EXTENSION must be one of auto, off, got 'on'/],
    ['LLAMA_THREADS', '0', /LLAMA_THREADS must be an integer >= 1/],
    ['PORT', '80.5', /PORT must be an integer/],
    ['MCP_ALLOW_PRIVATE', 'yes', /MCP_ALLOW_PRIVATE must be 1, true, 0 or false, got 'yes'/],
    ['LOG_LEVEL', 'verbose', /LOG_LEVEL must be one of fatal, error/],
    ['REDIS_PREFIX', 'a b', /REDIS_PREFIX must be printable ASCII without spaces/],
    ['OPENAI_BASE_URL', 'localhost:9000', /OPENAI_BASE_URL must be an http\(s\) URL/],
    ['REDIS_URL', '127.0.0.1:6379', /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    ['BODY_LIMIT', '1e6', /BODY_LIMIT must be an integer >= 1024, got '1e6'/],
    ['WS_MAX_CONNECTION_MS', '0', /WS_MAX_CONNECTION_MS must be an integer >= 1, got '0'/],
    ['WS_IDLE_TIMEOUT_MS', '10m', /WS_IDLE_TIMEOUT_MS must be an integer >= 0, got '10m'/],
    ['WS_MAX_CONNECTION_MS', '2147483648', /WS_MAX_CONNECTION_MS must be at most 2147483647/],
    ['WS_MAX_LANES', '0', /WS_MAX_LANES must be an integer >= 1, got '0'/],
    ['WS_MAX_LANES', 'many', /WS_MAX_LANES must be an integer >= 1, got 'many'/],
    ['PORT', ' ', /PORT must be an integer >= 0, got ' '/],
    ['METRICS_TOKEN', 'short', /METRICS_TOKEN must be at least 16 printable ASCII characters without spaces/],
    ['METRICS_PORT', 'http', /METRICS_PORT must be an integer >= 0, got 'http'/],
    ['WEB_SEARCH_BACKEND', 'google', /WEB_SEARCH_BACKEND must be one of , searxng, brave, got 'google'/],
    ['WEB_SEARCH_URL', 'http://127.0.0.1:8888', /WEB_SEARCH_URL is set without WEB_SEARCH_BACKEND/],
    ['IMAGES_BASE_URL', 'localhost:8081', /IMAGES_BASE_URL must be an http\(s\) URL, got 'localhost:8081'/],
    ['IMAGES_MODEL', 'sd-turbo', /IMAGES_MODEL is set without IMAGES_BASE_URL/],
    ['DEFAULT_PROVIDER', 'meetkai', /DEFAULT_PROVIDER names provider 'meetkai', which is not configured \(configured: none\)/],
  ] as const) {
    it(`refuses ${name}=${value}`, () => refuses(() => loadConfig({ [name]: value }, dir), pattern));
  }
});

describe('provider file', () => {
  it('accepts the documented format (YAML), type defaulting to openai-compatible', () => {
    const { load } = withFile('ok.yaml', [
      'providers:',
      '  meetkai:',
      '    base_url: http://10.0.0.5:8000/v1',
      '    api_key_env: MEETKAI_KEY',
      '    models: [functionary-urdu-mini-pak]',
      '    timeout_ms: 5000',
      '    max_retries: 0',
      '  local:',
      '    type: llama',
      '    model_path: ./models/my-model.gguf',
      '    threads: 4',
      '    context_size: 1024',
      '    parallel: 2',
      '    stream_interval_ms: 0',
      'default_provider: meetkai',
      'auto: meetkai:functionary-urdu-mini-pak',
      '',
    ].join('\n'), { MEETKAI_KEY: 'sk-x' });
    const c = load();
    assert.deepEqual(c.providers[0], {
      type: 'openai-compatible', id: 'meetkai', baseUrl: 'http://10.0.0.5:8000/v1', apiKeyEnv: 'MEETKAI_KEY', apiKey: 'sk-x',
      models: ['functionary-urdu-mini-pak'], timeoutMs: 5000, maxRetries: 0,
    });
    assert.equal(c.providers[1]?.type, 'llama');
    assert.deepEqual(c.providers[1], {
      type: 'llama', id: 'local', modelPath: join(dir, 'models/my-model.gguf'), threads: 4, contextSize: 1024, parallel: 2, streamIntervalMs: 0, chatWrapper: 'auto', reasoningInput: false,
    });
    assert.equal(c.providers.length, 2, 'the file declares a llama provider: no implicit `local` one');
    assert.equal(c.defaultProvider, 'meetkai');
    assert.equal(c.autoModel, 'meetkai:functionary-urdu-mini-pak');
  });

  it('accepts JSON, and llama defaults (threads 1, parallel 4)', () => {
    const { load } = withFile('ok.json', JSON.stringify({ providers: { l: { type: 'llama', model_path: '/m.gguf' } } }));
    const l = load().providers[0];
    assert.deepEqual(l, { type: 'llama', id: 'l', modelPath: '/m.gguf', threads: 1, contextSize: undefined, parallel: 4, streamIntervalMs: undefined, chatWrapper: 'auto', reasoningInput: false });
  });

  const cases: Array<[string, string, RegExp]> = [
    ['threads: abc', 'providers:\n  local:\n    type: llama\n    model_path: /m.gguf\n    threads: abc\n',
      /bad1\.yaml: provider 'local': 'threads' must be an integer ≥ 1, got "abc"/],
    ['a negative number', 'providers:\n  up:\n    base_url: http://h/v1\n    timeout_ms: -1\n',
      /provider 'up': 'timeout_ms' must be an integer ≥ 1, got -1/],
    ['a fraction of a thread', 'providers:\n  local:\n    type: llama\n    model_path: /m.gguf\n    threads: 1.5\n',
      /provider 'local': 'threads' must be an integer ≥ 1, got 1.5/],
    ['an unknown key (a camelCase typo)', 'providers:\n  up:\n    baseUrl: http://h/v1\n',
      /provider 'up': unknown key 'baseUrl' \(known: type, base_url,/],
    ['an inherited name as key', 'providers:\n  up:\n    base_url: http://h/v1\n    toString: 1\n',
      /provider 'up': unknown key 'toString'/],
    ['a key of the other provider type', 'providers:\n  up:\n    base_url: http://h/v1\n    threads: 2\n',
      /provider 'up': unknown key 'threads'/],
    ['an unknown chat format', 'providers:\n  local:\n    type: llama\n    model_path: /m.gguf\n    chat_wrapper: chatml\n',
      /provider 'local': 'chat_wrapper' must be one of auto, general, qwen, qwen3\.5, deepseek, harmony, got "chatml"/],
    ['a missing key', 'providers:\n  local:\n    type: llama\n',
      /provider 'local' needs 'model_path'/],
    ['a wrong type', 'providers:\n  up:\n    base_url: http://h/v1\n    models: mock\n',
      /provider 'up': 'models' must be a list of model names, got "mock"/],
    ['a list of the wrong items', 'providers:\n  up:\n    base_url: http://h/v1\n    models: [1, 2]\n',
      /provider 'up': 'models' must be a list of model names, got \[1,2\]/],
    ['a base_url that is no URL', 'providers:\n  up:\n    base_url: 10.0.0.5:8000\n',
      /provider 'up': 'base_url' must be an http\(s\) URL/],
    ['an unknown type', 'providers:\n  up:\n    type: vllm\n    base_url: http://h/v1\n',
      /provider 'up' has unknown type "vllm" \(known: llama, openai-compatible\)/],
    ['an unknown top-level key', 'providers: {}\ndefault: up\n',
      /bad\d+\.yaml: unknown key 'default' \(known: providers, default_provider, auto\)/],
    ['providers as a list', 'providers:\n  - base_url: http://h/v1\n',
      /bad\d+\.yaml: 'providers' must be a map of provider id to provider/],
    ['a provider without keys', 'providers:\n  up:\n',
      /provider 'up' must be a map of keys to values/],
    ['a bad provider id', 'providers:\n  "a b":\n    base_url: http://h/v1\n',
      /provider id 'a b' must be/],
    ['a default_provider that is not declared', 'providers:\n  up:\n    base_url: http://h/v1\ndefault_provider: upp\n',
      /bad\d+\.yaml: default_provider names provider 'upp', which is not configured \(configured: up\)/],
    ['a YAML syntax error', 'providers:\n  up: [\n',
      /bad\d+\.yaml: /],
  ];
  cases.forEach(([what, text, pattern], i) => {
    it(`refuses ${what}`, () => refuses(withFile(`bad${i + 1}.yaml`, text).load, pattern));
  });

  it('refuses a file that does not exist, naming it', () => {
    refuses(() => loadConfig({ RESPD_CONFIG: join(dir, 'missing.yaml') }, dir), /missing\.yaml: ENOENT/);
  });
});

describe('the server', () => {
  it('stops at start, exit code 1, with the message naming file, provider and key', async () => {
    const file = join(dir, 'server-bad.yaml');
    writeFileSync(file, 'providers:\n  local:\n    type: llama\n    model_path: /m.gguf\n    threads: abc\n');
    const err = await startServer({ env: { RESPD_CONFIG: file } }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    assert.ok(err, 'the server must not start');
    assert.match(err.message, /server exited with 1/);
    assert.match(err.message, /respd: invalid configuration: .*server-bad\.yaml: provider 'local': 'threads' must be an integer ≥ 1, got "abc"/);
    assert.doesNotMatch(err.message, /at loadConfig/, 'one line, not a stack trace');
  });
});
