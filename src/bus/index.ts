// Picks the bus: in-process by default; Redis (REDIS_URL) for many instances.
import { pino, type Logger } from 'pino';
import type { Config } from '../config/index.js';
import { LocalControlBus, LocalHub, LocalQueue } from './local.js';
import { createRedisBus } from './redis/index.js';
import type { ControlBus, EventHub, HubLog, JobQueue } from './types.js';

export interface Bus<L extends HubLog = HubLog> {
  hub: EventHub<L>;
  control: ControlBus;
  queue: JobQueue;
  close(): Promise<void>;
}

export async function createBus<L extends HubLog>(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<Bus<L>> {
  if (config.redisUrl) {
    // REDIS_PREFIX namespaces every key, so deployments (or test runs) can share one Redis.
    return createRedisBus<L>(config, config.redisUrl, config.redisPrefix, logger);
  }
  const hub = new LocalHub<L>();
  const control = new LocalControlBus();
  const queue = new LocalQueue(config.backgroundConcurrency);
  return { hub, control, queue, close: async () => { await control.close(); } };
}
