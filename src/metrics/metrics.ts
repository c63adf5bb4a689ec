// Prometheus metrics (prom-client). One registry per process: the lifecycle, the transports and the
// store report into it through the small functions below, so they do not depend on prom-client's API,
// and GET /metrics (http/metrics.ts) renders it. Every update is a counter or histogram bump: no
// allocation per event on the hot path (streams count per response, not per event).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'respd_' });

const httpRequests = new Counter({
  name: 'respd_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});
const responses = new Counter({
  name: 'respd_responses_total',
  help: 'Responses that ended on this instance, by terminal status and model.',
  labelNames: ['status', 'model'] as const,
  registers: [registry],
});
const firstOutput = new Histogram({
  name: 'respd_response_first_output_seconds',
  help: 'From the start of a run to its first output event (time to first output).',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
const duration = new Histogram({
  name: 'respd_response_duration_seconds',
  help: 'From the start of a run to its terminal event, by terminal status.',
  labelNames: ['status'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
  registers: [registry],
});
const tokens = new Counter({
  name: 'respd_tokens_total',
  help: 'Tokens of ended responses, by direction (input, output) and model.',
  labelNames: ['direction', 'model'] as const,
  registers: [registry],
});
const liveStreams = new Gauge({
  name: 'respd_live_streams',
  help: 'Server-sent event streams open now (created or resumed).',
  registers: [registry],
});
const websockets = new Gauge({
  name: 'respd_websockets_open',
  help: 'WebSocket connections open now.',
  registers: [registry],
});
const commitBatch = new Histogram({
  name: 'respd_commit_batch_responses',
  help: 'Responses written together by one group commit.',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  registers: [registry],
});
const commitSeconds = new Histogram({
  name: 'respd_commit_seconds',
  help: 'Time of one group commit (one store transaction), by outcome (ok, error).',
  labelNames: ['outcome'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  registers: [registry],
});
const upstreamErrors = new Counter({
  name: 'respd_upstream_errors_total',
  help: 'Model runs ended by a backend failure, by provider and error code.',
  labelNames: ['provider', 'code'] as const,
  registers: [registry],
});
const toolCalls = new Counter({
  name: 'respd_tool_calls_total',
  help: 'Tool calls made by models, by tool type and outcome (completed, failed, approval_requested, client).',
  labelNames: ['type', 'outcome'] as const,
  registers: [registry],
});

/** Reads the background queue's state when metrics are scraped (set by the server: the store knows it). */
export type QueueSource = () => Promise<{ depth: number; oldestAgeSeconds: number }>;
let queueSource: QueueSource | undefined;
// One store query per scrape serves both gauges.
let queueRead: Promise<{ depth: number; oldestAgeSeconds: number }> | undefined;
function readQueue() {
  queueRead ??= (queueSource ? queueSource() : Promise.resolve({ depth: 0, oldestAgeSeconds: 0 }))
    .catch(() => ({ depth: Number.NaN, oldestAgeSeconds: Number.NaN }))
    .finally(() => setImmediate(() => { queueRead = undefined; }));
  return queueRead;
}
new Gauge({
  name: 'respd_background_queue_depth',
  help: 'Background responses queued and not yet taken by an instance (all instances of the store).',
  registers: [registry],
  async collect() { this.set((await readQueue()).depth); },
});
new Gauge({
  name: 'respd_background_queue_oldest_seconds',
  help: 'Age of the oldest queued background response (0 when none).',
  registers: [registry],
  async collect() { this.set((await readQueue()).oldestAgeSeconds); },
});

export interface RunSummary {
  status: string;
  model: string;
  startedAt: number;
  firstOutputAt: number;
  endedAt: number;
  usage?: { input_tokens?: number; output_tokens?: number } | null;
}

export const metrics = {
  setQueueSource(source: QueueSource | undefined): void {
    queueSource = source;
  },
  httpRequest(method: string, route: string, status: number): void {
    httpRequests.inc({ method, route, status });
  },
  /** A run ended (times from performance.now()). */
  runEnded(r: RunSummary): void {
    responses.inc({ status: r.status, model: r.model });
    duration.observe({ status: r.status }, (r.endedAt - r.startedAt) / 1000);
    if (r.firstOutputAt) firstOutput.observe((r.firstOutputAt - r.startedAt) / 1000);
    const u = r.usage;
    if (u?.input_tokens) tokens.inc({ direction: 'input', model: r.model }, u.input_tokens);
    if (u?.output_tokens) tokens.inc({ direction: 'output', model: r.model }, u.output_tokens);
  },
  streamOpened(): void { liveStreams.inc(); },
  streamClosed(): void { liveStreams.dec(); },
  socketOpened(): void { websockets.inc(); },
  socketClosed(): void { websockets.dec(); },
  committed(responses: number, seconds: number, ok: boolean): void {
    if (ok) commitBatch.observe(responses);
    commitSeconds.observe({ outcome: ok ? 'ok' : 'error' }, seconds);
  },
  upstreamError(provider: string, code: string): void {
    upstreamErrors.inc({ provider, code });
  },
  toolCall(type: string, outcome: 'completed' | 'failed' | 'approval_requested' | 'client'): void {
    toolCalls.inc({ type, outcome });
  },
};
