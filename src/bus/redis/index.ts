// The scale-out bus (REDIS_URL): Redis Streams fan-out + run leases (hub.ts), pub/sub control
// (control.ts) and a BullMQ job queue with leases (queue.ts). Keys start with REDIS_PREFIX.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { Bus } from '../index.js';
import type { HubLog } from '../types.js';
import { COMMAND_TIMEOUT_MS, connect, ready, RedisKeys, within } from './connection.js';
import { RedisControlBus } from './control.js';
import { BLOCK_MS, RedisHub } from './hub.js';
import { BullJobQueue } from './queue.js';

export async function createRedisBus<L extends HubLog>(config: Config, url: string, prefix: string, log: Logger): Promise<Bus<L>> {
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const keys = new RedisKeys(prefix);
  const leaseMs = config.leaseSeconds * 1000;
  const cmd = connect(url, `respd-cmd:${instanceId}`);
  const blk = connect(url, `respd-follow:${instanceId}`, {
    autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, commandTimeout: BLOCK_MS + COMMAND_TIMEOUT_MS,
  });
  // Subscriptions only (no caller waits on it), re-subscribed by ioredis after a reconnect.
  const sub = connect(url, `respd-control:${instanceId}`, { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  for (const [name, r] of [['cmd', cmd], ['follow', blk], ['control', sub]] as const) {
    // ioredis reconnects by itself; an unhandled 'error' event would end the process.
    r.on('error', (err) => log.debug({ err, connection: name }, 'redis connection error'));
  }
  try {
    await Promise.all([ready(cmd), ready(blk), ready(sub)]);
  } catch (err) {
    cmd.disconnect();
    blk.disconnect();
    sub.disconnect();
    throw new Error(`REDIS_URL: ${(err as Error).message}`);
  }
  // Run leases live 0.6 × the lease, like the queue's locks: a dead instance's foreground responses
  // are found by the sweep (every 0.2 × lease) and ended within the lease.
  const hub = new RedisHub<L>(cmd, blk, keys, instanceId, Math.round(leaseMs * 0.6), log);
  const control = new RedisControlBus(cmd, sub, keys.control, log, () => hub.reachable);
  try {
    await control.init();
  } catch (err) {
    await hub.close();
    for (const r of [cmd, blk, sub]) r.disconnect();
    throw err;
  }
  const queue = new BullJobQueue(url, prefix, config.backgroundConcurrency, leaseMs, hub, log);
  log.info({ instanceId, prefix }, 'scale-out bus on Redis');
  return {
    hub, control, queue,
    async close() {
      await control.close();
      await hub.close();
      // QUIT waits for Redis's answer: one known not to answer gets none, a hung one the command deadline,
      // then the connection is dropped.
      const quit = (r: Redis) => (hub.reachable ? within(r.quit(), COMMAND_TIMEOUT_MS, 'timeout') : Promise.resolve('timeout'));
      await Promise.allSettled([cmd, blk, sub].map((r) => quit(r).then(
        (v) => { if (v === 'timeout') r.disconnect(); },
        () => r.disconnect(),
      )));
    },
  };
}
