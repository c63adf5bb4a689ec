// Wires the server together from its configuration: store, bus, providers, responses, HTTP.
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { LocalControlBus, LocalHub, LocalQueue } from './bus/local.js';
import type { Config } from './config/index.js';
import { buildApp } from './http/app.js';
import { KeyRing } from './http/auth.js';
import { createRouter, preload } from './providers/factory.js';
import { Executor } from './responses/executor.js';
import { Flusher } from './responses/flusher.js';
import { ResponsesService } from './responses/service.js';
import { SqliteStore } from './store/sqlite/index.js';
import type { Store } from './store/types.js';

export interface Server {
  app: FastifyInstance;
  url: string;
  close(graceMs?: number): Promise<void>;
}

function createStore(config: Config): Store {
  const url = config.databaseUrl;
  if (!url) return new SqliteStore(join(config.dataDir, 'respd.db'));
  if (url.startsWith('sqlite://')) return new SqliteStore(url.slice('sqlite://'.length));
  throw new Error(`Unsupported DATABASE_URL '${url.split(':')[0]}:…' (use sqlite://path or postgres://…)`);
}

export async function startServer(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<Server> {
  const print = (msg: string) => logger.info(msg);
  const store = createStore(config);
  await store.init();
  const hub = new LocalHub();
  const control = new LocalControlBus();
  const queue = new LocalQueue(config.backgroundConcurrency);
  const router = createRouter(config, print);
  await preload(router);
  const flusher = new Flusher(store, logger, (l) => hub.remove(l.id));
  const executor = new Executor(store, hub, flusher, router, queue, control, logger);
  const responses = new ResponsesService(store, hub, executor, router, queue, control);
  const recovered = await executor.recover();
  if (recovered.requeued || recovered.failed) logger.info(recovered, 'recovered unfinished responses');
  executor.start();

  const keys = config.apiKeys ? KeyRing.fromKeys(config.apiKeys) : KeyRing.fromDataDir(config.dataDir, print);
  const app = await buildApp({ config, responses, router }, logger, keys, config.bodyLimit);
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        // Stop accepting first, then let in-flight work finish (or fail it with a reason), then flush.
        const closed = app.close();
        await executor.drain(graceMs);
        await closed;
        await flusher.close();
        await router.close();
        await control.close();
        await store.close();
      })();
      return closing;
    },
  };
}
