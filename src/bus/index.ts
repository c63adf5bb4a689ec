// Picks the bus: in-process by default; Redis (REDIS_URL) for many instances.
import { pino, type Logger } from 'pino';
import type { Config } from '../config/index.js';
import { LocalControlBus, LocalHub, LocalQueue } from './local.js';
import { createRedisBus } from './redis/index.js';
import type { ControlBus, EventHub, JobQueue } from './types.js';

export interface Bus {
  hub: EventHub;
  control: ControlBus;
  queue: JobQueue;
  close(): Promise<void>;
}

export async function createBus(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<Bus> {
  if (config.redisUrl) {
    return createRedisBus(config, config.redisUrl, config.redisPrefix, logger);
  }
  const hub = new LocalHub();
  const control = new LocalControlBus();
  const queue = new LocalQueue(config.backgroundConcurrency);
  return { hub, control, queue, close: async () => { await control.close(); } };
}
