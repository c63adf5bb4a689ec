// Configuration: environment variables first (the two-command setup needs no file), optionally a
// provider file (JSON or YAML) named by RESPD_CONFIG. Validated here, at the boundary, so the rest of
// the server can trust it.
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { resolveDefaultModelPath } from '../setup/ensure-model.js';
import { DEFAULT_COMMIT_INTERVAL_MS } from '../responses/flusher.js';
import type { HttpLimits } from '../http/limits.js';

export interface LlamaProviderConfig {
  type: 'llama';
  id: string;
  modelPath: string;
  threads: number;
  contextSize?: number;
  parallel: number;
  /** Minimum ms between two streamed deltas (faster tokens are merged); undefined = the provider's default. */
  streamIntervalMs?: number;
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
}

export type ProviderConfig = LlamaProviderConfig | UpstreamProviderConfig;

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  apiKeys?: string[];
  bodyLimit: number;
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
  /** Request/header/keep-alive timeouts and connection caps (see http/limits.ts). */
  http: HttpLimits;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

function nonNegative(v: unknown, what: string): number {
  const n = Number(v);
  if (typeof v === 'boolean' || !Number.isFinite(n) || n < 0) throw new ConfigError(`${what} must be a number ≥ 0`);
  return n;
}

function readProviderFile(path: string, env: NodeJS.ProcessEnv) {
  const text = readFileSync(path, 'utf8');
  const doc = (path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Record<string, unknown>;
  if (!doc || typeof doc !== 'object') throw new ConfigError(`${path}: expected an object`);
  const providers: ProviderConfig[] = [];
  const raw = (doc.providers ?? {}) as Record<string, Record<string, unknown>>;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${path}: 'providers' must be a map of id → provider`);
  for (const [id, p] of Object.entries(raw)) {
    if (!/^[a-zA-Z0-9_.-]+$/.test(id)) throw new ConfigError(`${path}: provider id '${id}' must be [a-zA-Z0-9_.-]+`);
    const type = p.type ?? 'openai-compatible';
    if (type === 'llama') {
      const modelPath = String(p.model_path ?? '');
      if (!modelPath) throw new ConfigError(`${path}: provider '${id}' needs model_path`);
      providers.push({
        type: 'llama', id, modelPath: resolve(modelPath),
        threads: Number(p.threads ?? 1), contextSize: p.context_size ? Number(p.context_size) : undefined,
        parallel: Number(p.parallel ?? 4),
        streamIntervalMs: p.stream_interval_ms !== undefined ? nonNegative(p.stream_interval_ms, `${path}: provider '${id}' stream_interval_ms`) : undefined,
      });
    } else if (type === 'openai-compatible') {
      if (typeof p.base_url !== 'string') throw new ConfigError(`${path}: provider '${id}' needs base_url`);
      const apiKeyEnv = typeof p.api_key_env === 'string' ? p.api_key_env : undefined;
      providers.push({
        type: 'openai-compatible', id, baseUrl: p.base_url, apiKeyEnv,
        apiKey: apiKeyEnv ? env[apiKeyEnv] : undefined,
        models: Array.isArray(p.models) ? p.models.map(String) : undefined,
        timeoutMs: p.timeout_ms ? Number(p.timeout_ms) : undefined,
        maxRetries: p.max_retries !== undefined ? Number(p.max_retries) : undefined,
      });
    } else {
      throw new ConfigError(`${path}: provider '${id}' has unknown type '${String(type)}'`);
    }
  }
  return {
    providers,
    defaultProvider: typeof doc.default_provider === 'string' ? doc.default_provider : undefined,
    autoModel: typeof doc.auto === 'string' ? doc.auto : undefined,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const fromFile = env.RESPD_CONFIG ? readProviderFile(resolve(cwd, env.RESPD_CONFIG), env) : undefined;
  const providers: ProviderConfig[] = [...(fromFile?.providers ?? [])];
  const threads = int(env, 'LLAMA_THREADS', 1, 1);

  // The embedded engine: always present unless the config file declares its own llama provider.
  if (!providers.some((p) => p.type === 'llama')) {
    const modelPath = resolveDefaultModelPath(cwd);
    if (modelPath) {
      providers.push({
        type: 'llama', id: 'local', modelPath, threads,
        contextSize: env.LLAMA_CONTEXT_SIZE ? int(env, 'LLAMA_CONTEXT_SIZE', 2048, 64) : undefined,
        parallel: int(env, 'LLAMA_PARALLEL', 4, 1),
        streamIntervalMs: env.LLAMA_STREAM_INTERVAL_MS ? int(env, 'LLAMA_STREAM_INTERVAL_MS', 20, 0) : undefined,
      });
    }
  }
  // Shortcut without a config file: OPENAI_BASE_URL declares provider `openai`.
  if (env.OPENAI_BASE_URL && !providers.some((p) => p.id === 'openai')) {
    providers.push({
      type: 'openai-compatible', id: 'openai', baseUrl: env.OPENAI_BASE_URL.replace(/\/+$/, ''),
      apiKeyEnv: 'OPENAI_API_KEY', apiKey: env.OPENAI_API_KEY || undefined,
      timeoutMs: env.OPENAI_TIMEOUT_MS ? int(env, 'OPENAI_TIMEOUT_MS', 600_000, 1) : undefined,
    });
  }
  const llama = providers.find((p): p is LlamaProviderConfig => p.type === 'llama');
  const autoModel = env.AUTO_MODEL || fromFile?.autoModel
    || (llama ? `${llama.id}:${basename(llama.modelPath).replace(/\.gguf$/i, '')}` : undefined);

  const rlRequests = int(env, 'RATE_LIMIT_REQUESTS', 0);
  const apiKeys = env.API_KEYS ? env.API_KEYS.split(',').map((k) => k.trim()).filter(Boolean) : undefined;
  return {
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 8080),
    dataDir: resolve(cwd, env.DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    apiKeys: apiKeys?.length ? apiKeys : undefined,
    bodyLimit: int(env, 'BODY_LIMIT', 4 * 1024 * 1024, 1024),
    logLevel: env.LOG_LEVEL || 'info',
    providers,
    defaultProvider: env.DEFAULT_PROVIDER || fromFile?.defaultProvider || providers[0]?.id,
    autoModel,
    backgroundConcurrency: int(env, 'BACKGROUND_CONCURRENCY', 8, 1),
    leaseSeconds: int(env, 'LEASE_SECONDS', 30, 2),
    rateLimit: rlRequests > 0 || int(env, 'RATE_LIMIT_MAX_STREAMS', 0) > 0 ? {
      requests: rlRequests || Number.MAX_SAFE_INTEGER,
      windowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1),
      maxStreams: int(env, 'RATE_LIMIT_MAX_STREAMS', 0),
    } : undefined,
    retentionDays: env.RETENTION_DAYS ? int(env, 'RETENTION_DAYS', 0, 1) : undefined,
    allowPrivateMcp: env.MCP_ALLOW_PRIVATE === '1' || env.MCP_ALLOW_PRIVATE === 'true',
    commitIntervalMs: int(env, 'COMMIT_INTERVAL_MS', DEFAULT_COMMIT_INTERVAL_MS, 1),
    http: {
      headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 1),
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 60_000, 1),
      keepAliveTimeoutMs: int(env, 'HTTP_KEEPALIVE_TIMEOUT_MS', 72_000, 1),
      maxConnections: int(env, 'MAX_CONNECTIONS', 10_000),
      maxConnectionsPerAddress: int(env, 'MAX_CONNECTIONS_PER_ADDRESS', 512),
    },
  };
}
