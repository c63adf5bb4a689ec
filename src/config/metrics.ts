// METRICS_*: where GET /metrics is served and what guards it (README "Operating it"); off unless a token
// or a port is set.
import { int, matching } from './env.js';

/** Where the Prometheus endpoint is served, and what guards it (never the tenants' API keys). */
export interface MetricsConfig {
  /** METRICS_TOKEN: GET /metrics on the API port answers a request bearing this token. */
  token?: string;
  /** METRICS_PORT: a listener of its own, serving only GET /metrics (the token too, when set); 0 = any free port. */
  port?: number;
  /** METRICS_HOST: the address that listener binds (default 127.0.0.1: reachable from this machine only). */
  host: string;
}

export function loadMetrics(env: NodeJS.ProcessEnv): MetricsConfig {
  return {
    // Printable, no spaces, long enough not to be guessed.
    token: matching(env, 'METRICS_TOKEN', /^[\x21-\x7e]{16,}$/, 'at least 16 printable ASCII characters without spaces'),
    port: env.METRICS_PORT ? int(env, 'METRICS_PORT', 0) : undefined,
    host: env.METRICS_HOST || '127.0.0.1',
  };
}
