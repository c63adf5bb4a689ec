// Picks the bus: in-process by default; Redis (REDIS_URL) for many instances.
import type { Config } from '../config/index.js';
import { LocalControlBus, LocalHub, LocalQueue } from './local.js';
import type { ControlBus, EventHub, JobQueue } from './types.js';

export interface Bus {
  hub: EventHub;
  control: ControlBus;
  queue: JobQueue;
  close(): Promise<void>;
}

export async function createBus(config: Config): Promise<Bus> {
  const hub = new LocalHub();
  const control = new LocalControlBus();
  const queue = new LocalQueue(config.backgroundConcurrency);
  return { hub, control, queue, close: async () => { await control.close(); } };
}
