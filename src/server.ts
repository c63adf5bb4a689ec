// Wires the server together from its configuration: store, bus, providers, responses, HTTP.
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createBus } from './bus/index.js';
import type { Config } from './config/index.js';
import { buildApp } from './http/app.js';
import { KeyRing } from './http/auth.js';
import { createRouter, preload } from './providers/factory.js';
import { Executor } from './responses/executor.js';
import { Flusher } from './responses/flusher.js';
import { WebhookWorker } from './webhooks/worker.js';
import { outboxRows } from './webhooks/events.js';
import type { LiveLog } from './responses/live-log.js';
import { ReasoningSealer } from './responses/sealed-reasoning.js';
import { ResponsesService } from './responses/service.js';
import { createStore } from './store/index.js';
import { RateLimiter } from './http/rate-limit.js';
import { startRetention } from './responses/retention.js';
import { Ingestor } from './vector-stores/ingestor.js';
import { VectorStoreFileSearch } from './vector-stores/file-search.js';
import { createEmbedder } from './vector-stores/embedder.js';
import { VectorStoresService } from './vector-stores/service.js';
import { FilesService } from './files/service.js';
import { UsageService } from './usage/service.js';
import { GuardrailsService } from './guardrails/service.js';
import { PromptsService } from './prompts/service.js';
import { webSearchBackend } from './tools/web-search/backend.js';
import { codeInterpreterBackend } from './tools/code-interpreter/backend.js';
import { ContainersService } from './containers/service.js';
import { containerAccess } from './containers/tool-access.js';
import { imagesBackend } from './tools/image-generation/backend.js';
import { metrics } from './metrics/metrics.js';
import { startMetricsListener } from './http/metrics.js';

export interface Server {
  app: FastifyInstance;
  url: string;
  close(graceMs?: number): Promise<void>;
}

export async function startServer(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<Server> {
  const print = (msg: string) => logger.info(msg);
  const store = await createStore(config);
  await store.init();
  // Which path vector search takes (README "Hybrid search"): sqlite-vec, or the exact JS path and why.
  if (store.vectorStores) logger.info(`vector search: ${store.vectorStores.searchPath.detail}`);
  const bus = await createBus<LiveLog>(config, logger);
  const { hub, control, queue } = bus;
  const router = createRouter(config, print);
  await preload(router);
  const embedder = config.embeddingModel ? createEmbedder(router, config.embeddingModel) : undefined;
  // Webhooks (README "Webhooks"): terminal commits write outbox rows, the worker delivers them.
  const hooks = config.webhooks && store.webhooks ? new WebhookWorker(store.webhooks, config.webhooks, logger) : undefined;
  const flusher = new Flusher(store, logger, (l) => {
    hub.remove(l.id);
    if (l.terminal) hooks?.poke();
  }, hub, config.commitIntervalMs, undefined, config.commitTimeoutMs);
  if (hooks) {
    const endpoints = config.webhooks!.endpoints;
    flusher.webhooksFor = (l) => outboxRows(endpoints, l.tenant, l.id, l.state.status);
  }
  if (!config.reasoningKeys && (config.redisUrl || config.databaseUrl?.startsWith('postgres'))) {
    logger.warn('REASONING_KEYS is not set: this instance seals encrypted reasoning with a key of its own data folder, which other instances cannot open. Set the same REASONING_KEYS on every instance.');
  }
  const sealer = config.reasoningKeys ? new ReasoningSealer(config.reasoningKeys) : ReasoningSealer.fromDataDir(config.dataDir, print);
  // file_search runs over the store's vector stores (checked for ownership when a response is created).
  const fileSearch = store.vectorStores && store.files
    ? new VectorStoreFileSearch(new VectorStoresService(store.vectorStores, new FilesService(store.files), undefined, embedder))
    : undefined;
  const webSearch = config.webSearch ? webSearchBackend(config.webSearch) : undefined;
  // code_interpreter: the sandbox from config, containers from the store (tools/ sees them through ContainerAccess).
  const idleMinutes = config.codeInterpreter?.idleMinutes ?? 20;
  const containers = store.containers ? new ContainersService(store.containers, store.files, idleMinutes) : undefined;
  const codeInterpreter = codeInterpreterBackend(config.codeInterpreter, containers && containerAccess(containers, idleMinutes), (msg) => logger.warn(msg));
  const images = config.images ? imagesBackend(config.images) : undefined;
  const executor = new Executor(store, hub, flusher, router, queue, control, logger, sealer, fileSearch, webSearch, codeInterpreter, images);
  // Guardrails and prompts (issue 23): one instance each, shared by the create path and their routes.
  const guardrails = new GuardrailsService(store.guardrails, config.guardrailsCacheMs);
  const prompts = new PromptsService(store.prompts);
  const responses = new ResponsesService(store, hub, executor, router, queue, control, {
    allowPrivateMcp: config.allowPrivateMcp, fileSearch, webSearch: Boolean(webSearch), codeInterpreter: Boolean(codeInterpreter), images: Boolean(images),
    containers: codeInterpreter && containers && ((owner, tool, p) => containers.checkTool(owner, tool, p)),
  }, { guardrails, prompts });
  const recovered = await executor.recover();
  if (recovered.requeued || recovered.failed || recovered.continued) logger.info(recovered, 'recovered unfinished responses');
  executor.start();
  // Rows a crash left undelivered (here or on another instance) are due now.
  hooks?.start();

  const storeKeys = store.apiKeys ? await store.apiKeys.list() : [];
  const keys = config.apiKeys ? KeyRing.fromKeys(config.apiKeys) : KeyRing.fromDataDir(config.dataDir, print, storeKeys.length > 0);
  // Keys made with `respd keys` work next to those; a revoke reaches this instance within KEYS_REFRESH_MS.
  if (store.apiKeys) await keys.attach(store.apiKeys, config.keysRefreshMs, (err) => logger.warn({ err }, 'could not re-read the API keys from the store; keeping the last ones'));
  const limiter = config.rateLimit ? new RateLimiter(config.rateLimit) : undefined;
  const stopRetention = startRetention(store, config.retentionDays, logger);
  // Vector store files queued before a restart (or by other instances) are picked up from the store.
  const ingestor = store.vectorStores && store.files ? new Ingestor(store.vectorStores, store.files, logger, { workers: config.ingestWorkers, embedder }) : undefined;
  await ingestor?.start();
  // Chat completions' usage ledger: buffered here, written in batches, flushed on shutdown.
  const usage = new UsageService(store, (err, msg) => logger.warn({ err }, msg));
  const app = await buildApp({ config, responses, usage, guardrails, prompts, router, limiter, ingestionQueued: () => ingestor?.kick(), embedder }, logger, keys, config.bodyLimit);
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  metrics.setQueueSource(async () => {
    const q = await store.queueStats();
    return { depth: q.depth, oldestAgeSeconds: q.oldestCreatedAt === null ? 0 : Math.max(0, Date.now() / 1000 - q.oldestCreatedAt) };
  });
  const metricsListener = await startMetricsListener(config.metrics);
  if (metricsListener) logger.info(`metrics served at ${metricsListener.url}/metrics`);

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        // Stop accepting first, then let in-flight work finish (or fail it with a reason), then flush.
        stopRetention();
        keys.close();
        // Ingestion takes no new file from now on; the one in hand finishes (its lease lets another
        // instance take it if this one dies first).
        const ingestClosed = ingestor?.close();
        const closed = app.close();
        const deadline = Date.now() + graceMs;
        await executor.drain(graceMs);
        // Keep-alive connections that went idle after their last response would otherwise hold the
        // close open until the keep-alive timeout (72 s).
        app.server.closeIdleConnections();
        const t = setTimeout(() => app.server.closeAllConnections(), 1000);
        await closed;
        clearTimeout(t);
        // What is left to write gets the rest of the drain time (at least a second): a store that
        // refuses writes must not hold the exit past DRAIN_MS.
        await flusher.close(Math.max(1000, deadline - Date.now()));
        // Every completion has answered (the HTTP server is closed): its ledger rows go to the store now.
        await usage.close();
        await ingestClosed;
        await metricsListener?.close();
        metrics.setQueueSource(undefined);
        await hooks?.stop();
        await router.close();
        await bus.close();
        await store.close();
      })();
      return closing;
    },
  };
}
