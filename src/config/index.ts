// Configuration: environment variables first (the two-command setup needs no file), optionally a
// provider file (JSON or YAML) named by RESPD_CONFIG. Validated here, at the boundary, so the rest of
// the server can trust it.
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { resolveDefaultModelPath } from '../setup/ensure-model.js';
import { loadWebhooks, type WebhookConfig } from './webhooks.js';
import { loadCodeInterpreter, type CodeInterpreterConfig } from './code-interpreter.js';
import { parseReasoningKeys, type ReasoningKey } from './reasoning-keys.js';
import { parseImagesConfig, type ImagesConfig } from './images.js';
import { bool, ConfigError, int, matching, oneOf, timer } from './env.js';
import { loadWebSearch, type WebSearchConfig } from './web-search.js';
import { loadMetrics, type MetricsConfig } from './metrics.js';
import { parseConsoleConfig, type ConsoleConfig } from './console.js';

export type { ConsoleConfig, ImagesConfig, MetricsConfig, WebSearchConfig };
export { ConfigError };

/** Chat formats the embedded engine can be told to use (LLAMA_CHAT_WRAPPER); see providers/llama/chat-wrappers.ts. */
export const CHAT_WRAPPER_NAMES = ['auto', 'general', 'qwen', 'qwen3.5', 'deepseek', 'harmony'] as const;
export type ChatWrapperName = (typeof CHAT_WRAPPER_NAMES)[number];

export interface LlamaProviderConfig {
  type: 'llama';
  id: string;
  modelPath: string;
  threads: number;
  contextSize?: number;
  parallel: number;
  /** Minimum ms between two streamed deltas (faster tokens are merged); undefined = the provider's default. */
  streamIntervalMs?: number;
  /** The chat format; 'auto' = the one node-llama-cpp recognises from the file. */
  chatWrapper: ChatWrapperName;
  /** Earlier reasoning is given back in the prompt as the format's thought segment (default false). */
  reasoningInput: boolean;
}

export interface UpstreamProviderConfig {
  type: 'openai-compatible';
  id: string;
  baseUrl: string;
  /** Name of the env var holding the key: the key itself never appears in config or logs. */
  apiKeyEnv?: string;
  apiKey?: string;
  models?: string[];
  timeoutMs?: number;
  maxRetries?: number;
  /** Models that take their earlier reasoning back: all (true), none (false, the default) or those named. */
  reasoningInput?: boolean | string[];
  /** How the upstream continues a trailing assistant message (`vllm` or `prefill`); absent: it cannot. */
  continuation?: 'vllm' | 'prefill';
}

export type ProviderConfig = LlamaProviderConfig | UpstreamProviderConfig;

export interface Config {
  /** WEBHOOKS_FILE and the WEBHOOK_* settings; undefined = no webhooks. */
  webhooks?: WebhookConfig;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  apiKeys?: string[];
  /** KEYS_REFRESH_MS: how often the store's API keys (`respd keys`) are re-read: the bound on a revoke taking effect (ms). */
  keysRefreshMs: number;
  bodyLimit: number;
  /** FILES_MAX_BYTES: largest file POST /files takes (413 above). */
  filesMaxBytes: number;
  /** EMBEDDING_MODEL: `provider:model` that embeds vector store chunks and queries; unset = lexical search only. */
  embeddingModel?: string;
  /** INGEST_WORKERS: files this instance parses and indexes at once for vector stores (0 = none here). */
  ingestWorkers: number;
  /** GUARDRAILS_CACHE_MS: how long an instance trusts its cached guardrail settings of a key before re-reading the store (a PUT on the same instance applies at once). */
  guardrailsCacheMs: number;
  logLevel: string;
  providers: ProviderConfig[];
  defaultProvider?: string;
  /** What `auto` means: a full `provider:model` id. */
  autoModel?: string;
  backgroundConcurrency: number;
  /** Seconds a worker may hold a background job without renewing before others take over. */
  leaseSeconds: number;
  rateLimit?: { requests: number; windowMs: number; maxStreams: number };
  retentionDays?: number;
  allowPrivateMcp: boolean;
  /** Single instance: longest wait of streamed events for their group commit (ms); see responses/flusher.ts. */
  commitIntervalMs: number;
  /**
   * How long events may wait for a commit while the store refuses writes (full, locked, unreachable):
   * then running responses end failed (`store_unavailable`) and requests waiting on a commit get 503.
   */
  commitTimeoutMs: number;
  /** REDIS_PREFIX: starts every Redis key, so deployments (or test runs) can share one Redis. */
  redisPrefix: string;
  /** DATABASE_SCHEMA: PostgreSQL schema when the URL has no `?schema=`. */
  databaseSchema?: string;
  /** How long a write waits for a locked SQLite file (ms). */
  sqliteBusyTimeoutMs: number;
  /** VECTOR_EXTENSION=auto|off: sqlite-vec / pgvector for vector search when present, or always the exact JS path. */
  vectorExtension: boolean;
  /** On SIGTERM: how long in-flight responses may finish before they are failed (ms). */
  drainMs: number;
  /** Keys that seal encrypted reasoning (the first seals); unset: generated once into dataDir. */
  reasoningKeys?: ReasoningKey[];
  /** Request/header/keep-alive timeouts and connection caps (see http/limits.ts). */
  http: HttpLimits;
  /** WebSocket mode of /responses: how long a connection may live, and stay unused (see http/routes/responses-ws.ts). */
  websocket: WebSocketLimits;
  /** GET /metrics (see http/metrics.ts): off unless a token or a port is set. */
  metrics: MetricsConfig;
  /** The web_search tool's backend (tools/web-search/); absent = the tool is not offered. */
  webSearch?: WebSearchConfig;
  /** The code_interpreter tool's sandbox (config/code-interpreter.ts); absent = CODE_INTERPRETER off. */
  codeInterpreter?: CodeInterpreterConfig;
  /** The image_generation tool's images endpoint (config/images.ts); absent = the tool is not offered. */
  images?: ImagesConfig;
  /** The operator console and /admin (config/console.ts); absent = both answer 404. */
  console?: ConsoleConfig;
}

/** Lifetime limits of a WebSocket connection to /responses. */
export interface WebSocketLimits {
  /** A connection is ended this long after it opened (OpenAI's WebSocket mode: 60 minutes) (ms). */
  maxConnectionMs: number;
  /** A connection with no turn running and no message for this long is closed (ms); 0 = never. */
  idleTimeoutMs: number;
  /** Lanes (`stream_id`, the default lane included) that may have a turn running or waiting at once on a connection. */
  maxLanes: number;
}

/** Single instance: how long streamed events may wait for their group commit (see responses/flusher.ts). */
export const DEFAULT_COMMIT_INTERVAL_MS = 100;
/** See Config.commitTimeoutMs. */
export const DEFAULT_COMMIT_TIMEOUT_MS = 5000;

/** Request/header/keep-alive timeouts and connection caps, applied by http/limits.ts. */
export interface HttpLimits {
  /** Whole request head must arrive within this (ms). */
  headersTimeoutMs: number;
  /** Whole request, body included, must arrive within this (ms). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
  /** Open connections of the process; more are closed at once. 0 = no cap. */
  maxConnections: number;
  /** Open connections per remote address; more are closed at once. 0 = no cap. */
  maxConnectionsPerAddress: number;
}

// The provider file's format (README "Provider file"): snake_case keys, `type` defaults to
// openai-compatible. Each key's schema also words the error, so a bad file names file, provider and key.
const LlamaEntry = Type.Object({
  type: Type.Literal('llama'),
  model_path: Type.String({ minLength: 1, description: 'a file path' }),
  threads: Type.Optional(Type.Integer({ minimum: 1 })),
  context_size: Type.Optional(Type.Integer({ minimum: 64 })),
  parallel: Type.Optional(Type.Integer({ minimum: 1 })),
  stream_interval_ms: Type.Optional(Type.Number({ minimum: 0 })),
  chat_wrapper: Type.Optional(Type.Union(CHAT_WRAPPER_NAMES.map((n) => Type.Literal(n)), { description: `one of ${CHAT_WRAPPER_NAMES.join(', ')}` })),
  reasoning_input: Type.Optional(Type.Boolean({ description: 'true or false' })),
}, { additionalProperties: false });

const UpstreamEntry = Type.Object({
  type: Type.Optional(Type.Literal('openai-compatible')),
  base_url: Type.String({ pattern: '^https?://[^\\s]+$', description: 'an http(s) URL' }),
  api_key_env: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'an environment variable name' })),
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of model names' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  max_retries: Type.Optional(Type.Integer({ minimum: 0 })),
  reasoning_input: Type.Optional(Type.Union([Type.Boolean(), Type.Array(Type.String({ minLength: 1 }))], { description: 'true, false or a list of model names' })),
  continuation: Type.Optional(Type.Union([Type.Literal('vllm'), Type.Literal('prefill')], { description: 'vllm or prefill' })),
}, { additionalProperties: false });

const FileDoc = Type.Object({
  providers: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'a map of provider id to provider' })),
  default_provider: Type.Optional(Type.String({ minLength: 1, description: 'a provider id' })),
  auto: Type.Optional(Type.String({ minLength: 1, description: 'a model id (provider:model)' })),
}, { additionalProperties: false });

const ENTRY_SCHEMAS = { llama: LlamaEntry, 'openai-compatible': UpstreamEntry } as const;

/** What a value of `schema` looks like, in words. */
function expected(schema: TSchema): string {
  if (typeof schema.description === 'string') return schema.description;
  const min = typeof schema.minimum === 'number' ? ` ≥ ${schema.minimum}` : '';
  if (schema.type === 'integer') return `an integer${min}`;
  if (schema.type === 'number') return `a number${min}`;
  if (schema.const !== undefined) return `'${String(schema.const)}'`;
  return schema.minLength ? 'a non-empty string' : `a ${String(schema.type)}`;
}

/** Checks `value` against an object schema key by key; throws naming `where` and the first bad key. */
function checkObject(schema: TObject, value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where} must be a map of keys to values`);
  const props = schema.properties as Record<string, TSchema>;
  const unknown = Object.keys(value).find((k) => !Object.hasOwn(props, k));
  if (unknown !== undefined) throw new ConfigError(`${where}: unknown key '${unknown}' (known: ${Object.keys(props).join(', ')})`);
  for (const key of schema.required ?? []) {
    if ((value as Record<string, unknown>)[key] === undefined) throw new ConfigError(`${where} needs '${key}' (${expected(props[key]!)})`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (!Value.Check(props[key]!, v)) throw new ConfigError(`${where}: '${key}' must be ${expected(props[key]!)}, got ${JSON.stringify(v) ?? String(v)}`);
  }
}

/** OPENAI_REASONING_INPUT: `true`/`false`, or a comma-separated list of the models that take reasoning back. */
function reasoningInputEnv(env: NodeJS.ProcessEnv): boolean | string[] | undefined {
  const raw = env.OPENAI_REASONING_INPUT;
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  return raw.split(',').map((m) => m.trim()).filter(Boolean);
}

/** EMBEDDING_MODEL names a configured provider explicitly: a store records it, so it must not depend on defaults. */
function embeddingModel(env: NodeJS.ProcessEnv, providers: ProviderConfig[]): string | undefined {
  const raw = matching(env, 'EMBEDDING_MODEL', /^[^:\s]+:\S+$/, 'provider:model');
  if (raw && !providers.some((p) => p.id === raw.slice(0, raw.indexOf(':')))) {
    throw new ConfigError(`EMBEDDING_MODEL names provider '${raw.slice(0, raw.indexOf(':'))}', which is not configured`);
  }
  return raw;
}

function readProviderFile(path: string, env: NodeJS.ProcessEnv, cwd: string) {
  let doc: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  checkObject(FileDoc, doc, path);
  const file = doc as Static<typeof FileDoc>;
  const providers: ProviderConfig[] = [];
  for (const [id, p] of Object.entries(file.providers ?? {})) {
    const where = `${path}: provider '${id}'`;
    if (!/^[a-zA-Z0-9_.-]+$/.test(id)) throw new ConfigError(`${path}: provider id '${id}' must be [a-zA-Z0-9_.-]+`);
    const type = (p as { type?: unknown } | null)?.type ?? 'openai-compatible';
    if (typeof type !== 'string' || !Object.hasOwn(ENTRY_SCHEMAS, type)) {
      throw new ConfigError(`${where} has unknown type ${JSON.stringify(type)} (known: ${Object.keys(ENTRY_SCHEMAS).join(', ')})`);
    }
    checkObject(ENTRY_SCHEMAS[type as keyof typeof ENTRY_SCHEMAS], p, where);
    if (type === 'llama') {
      const l = p as Static<typeof LlamaEntry>;
      providers.push({
        type: 'llama', id, modelPath: resolve(cwd, l.model_path), threads: l.threads ?? 1, contextSize: l.context_size,
        parallel: l.parallel ?? 4, streamIntervalMs: l.stream_interval_ms,
        chatWrapper: l.chat_wrapper ?? 'auto', reasoningInput: l.reasoning_input ?? false,
      });
    } else {
      const u = p as Static<typeof UpstreamEntry>;
      providers.push({
        type: 'openai-compatible', id, baseUrl: u.base_url, apiKeyEnv: u.api_key_env,
        apiKey: u.api_key_env ? env[u.api_key_env] : undefined,
        models: u.models, timeoutMs: u.timeout_ms, maxRetries: u.max_retries,
        ...(u.reasoning_input !== undefined ? { reasoningInput: u.reasoning_input } : {}),
        ...(u.continuation ? { continuation: u.continuation } : {}),
      });
    }
  }
  return { providers, defaultProvider: file.default_provider, autoModel: file.auto };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const fromFile = env.RESPD_CONFIG ? readProviderFile(resolve(cwd, env.RESPD_CONFIG), env, cwd) : undefined;
  const providers: ProviderConfig[] = [...(fromFile?.providers ?? [])];
  const threads = int(env, 'LLAMA_THREADS', 1, 1);

  // The embedded engine: always present unless the config file declares its own llama provider.
  if (!providers.some((p) => p.type === 'llama')) {
    const modelPath = resolveDefaultModelPath(cwd, env);
    if (modelPath) {
      providers.push({
        type: 'llama', id: 'local', modelPath, threads,
        contextSize: env.LLAMA_CONTEXT_SIZE ? int(env, 'LLAMA_CONTEXT_SIZE', 2048, 64) : undefined,
        parallel: int(env, 'LLAMA_PARALLEL', 4, 1),
        streamIntervalMs: env.LLAMA_STREAM_INTERVAL_MS ? int(env, 'LLAMA_STREAM_INTERVAL_MS', 20, 0) : undefined,
        chatWrapper: oneOf(env, 'LLAMA_CHAT_WRAPPER', CHAT_WRAPPER_NAMES, 'auto') as ChatWrapperName,
        reasoningInput: bool(env, 'LLAMA_REASONING_INPUT'),
      });
    }
  }
  // Shortcut without a config file: OPENAI_BASE_URL declares provider `openai`.
  const openaiBaseUrl = matching(env, 'OPENAI_BASE_URL', /^https?:\/\/\S+$/, 'an http(s) URL');
  if (openaiBaseUrl && !providers.some((p) => p.id === 'openai')) {
    providers.push({
      type: 'openai-compatible', id: 'openai', baseUrl: openaiBaseUrl.replace(/\/+$/, ''),
      apiKeyEnv: 'OPENAI_API_KEY', apiKey: env.OPENAI_API_KEY || undefined,
      timeoutMs: env.OPENAI_TIMEOUT_MS ? int(env, 'OPENAI_TIMEOUT_MS', 600_000, 1) : undefined,
      ...(env.OPENAI_REASONING_INPUT ? { reasoningInput: reasoningInputEnv(env) } : {}),
      // OPENAI_CONTINUATION: how the upstream continues a trailing assistant message (off by default).
      ...(env.OPENAI_CONTINUATION && env.OPENAI_CONTINUATION !== 'none'
        ? { continuation: oneOf(env, 'OPENAI_CONTINUATION', ['vllm', 'prefill', 'none'], 'none') as 'vllm' | 'prefill' } : {}),
    });
  }
  const llama = providers.find((p): p is LlamaProviderConfig => p.type === 'llama');
  const autoModel = env.AUTO_MODEL || fromFile?.autoModel
    || (llama ? `${llama.id}:${basename(llama.modelPath).replace(/\.gguf$/i, '')}` : undefined);

  const defaultProvider = env.DEFAULT_PROVIDER || fromFile?.defaultProvider || providers[0]?.id;
  if (defaultProvider !== undefined && !providers.some((p) => p.id === defaultProvider)) {
    const known = providers.map((p) => p.id).join(', ') || 'none';
    throw new ConfigError(`${env.DEFAULT_PROVIDER ? 'DEFAULT_PROVIDER' : `${env.RESPD_CONFIG}: default_provider`} names provider '${defaultProvider}', which is not configured (configured: ${known})`);
  }
  const rlRequests = int(env, 'RATE_LIMIT_REQUESTS', 0);
  let reasoningKeys: ReasoningKey[] | undefined;
  try {
    reasoningKeys = env.REASONING_KEYS ? parseReasoningKeys(env.REASONING_KEYS) : undefined;
  } catch (err) {
    throw new ConfigError(`REASONING_KEYS: ${(err as Error).message}`);
  }
  const apiKeys = env.API_KEYS ? env.API_KEYS.split(',').map((k) => k.trim()).filter(Boolean) : undefined;
  const images = parseImagesConfig(env, (m) => new ConfigError(m));
  return {
    images,
    webhooks: loadWebhooks(env, cwd),
    console: parseConsoleConfig(env, (m) => new ConfigError(m)),
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 8080),
    dataDir: resolve(cwd, env.DATA_DIR || './data'),
    codeInterpreter: loadCodeInterpreter(env, (n, d, m) => int(env, n, d, m), (msg) => new ConfigError(msg)),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: matching(env, 'REDIS_URL', /^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL'),
    apiKeys: apiKeys?.length ? apiKeys : undefined,
    keysRefreshMs: timer(env, 'KEYS_REFRESH_MS', 5000, 100),
    bodyLimit: int(env, 'BODY_LIMIT', 4 * 1024 * 1024, 1024),
    filesMaxBytes: int(env, 'FILES_MAX_BYTES', 64 * 1024 * 1024, 1),
    embeddingModel: embeddingModel(env, providers),
    ingestWorkers: int(env, 'INGEST_WORKERS', 1),
    guardrailsCacheMs: int(env, 'GUARDRAILS_CACHE_MS', 5000),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    providers,
    defaultProvider,
    autoModel,
    backgroundConcurrency: int(env, 'BACKGROUND_CONCURRENCY', 8, 1),
    leaseSeconds: int(env, 'LEASE_SECONDS', 30, 2),
    rateLimit: rlRequests > 0 || int(env, 'RATE_LIMIT_MAX_STREAMS', 0) > 0 ? {
      requests: rlRequests || Number.MAX_SAFE_INTEGER,
      windowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1),
      maxStreams: int(env, 'RATE_LIMIT_MAX_STREAMS', 0),
    } : undefined,
    retentionDays: env.RETENTION_DAYS ? int(env, 'RETENTION_DAYS', 0, 1) : undefined,
    allowPrivateMcp: bool(env, 'MCP_ALLOW_PRIVATE'),
    commitIntervalMs: int(env, 'COMMIT_INTERVAL_MS', DEFAULT_COMMIT_INTERVAL_MS, 1),
    commitTimeoutMs: int(env, 'COMMIT_TIMEOUT_MS', DEFAULT_COMMIT_TIMEOUT_MS, 1),
    redisPrefix: matching(env, 'REDIS_PREFIX', /^[\x21-\x7e]+$/, 'printable ASCII without spaces') ?? 'respd',
    databaseSchema: env.DATABASE_SCHEMA || undefined,
    sqliteBusyTimeoutMs: int(env, 'SQLITE_BUSY_TIMEOUT_MS', 5000),
    vectorExtension: oneOf(env, 'VECTOR_EXTENSION', ['auto', 'off'], 'auto') === 'auto',
    drainMs: int(env, 'DRAIN_MS', 10_000),
    reasoningKeys,
    http: {
      headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 1),
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 60_000, 1),
      keepAliveTimeoutMs: int(env, 'HTTP_KEEPALIVE_TIMEOUT_MS', 72_000, 1),
      maxConnections: int(env, 'MAX_CONNECTIONS', 10_000),
      maxConnectionsPerAddress: int(env, 'MAX_CONNECTIONS_PER_ADDRESS', 512),
    },
    websocket: {
      maxConnectionMs: timer(env, 'WS_MAX_CONNECTION_MS', 60 * 60_000, 1),
      idleTimeoutMs: timer(env, 'WS_IDLE_TIMEOUT_MS', 10 * 60_000),
      maxLanes: int(env, 'WS_MAX_LANES', 8, 1),
    },
    webSearch: loadWebSearch(env),
    metrics: loadMetrics(env),
  };
}
