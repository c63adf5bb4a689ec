// PostgreSQL and Redis for tests. The behavioural suite runs against them when TEST_DATABASE_URL
// (postgres://…) and/or TEST_REDIS_URL (redis://…) are set: every server started with its own data
// folder gets its own schema / key prefix (the same folder — a restart — gets the same ones), dropped
// when the folder is. The scale-out test uses the probes and cleaners directly.
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';

const tag = (dataDir: string) => createHash('sha1').update(dataDir).digest('hex').slice(0, 16);

const used = new Set<string>();
let cleanupRegistered = false;

/** Servers started with a data folder of the test's own are dropped when the test process ends. */
function dropAllAtExit(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  let done = false;
  process.on('beforeExit', () => {
    if (done) return;
    done = true;
    void Promise.allSettled([...used].map((d) => dropBackends(d)));
  });
}

export function sharedBackendEnv(dataDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.TEST_DATABASE_URL || process.env.TEST_REDIS_URL) {
    used.add(dataDir);
    dropAllAtExit();
  }
  if (process.env.TEST_DATABASE_URL) {
    env.DATABASE_URL = process.env.TEST_DATABASE_URL;
    env.DATABASE_SCHEMA = `respd_t_${tag(dataDir)}`;
  }
  if (process.env.TEST_REDIS_URL) {
    env.REDIS_URL = process.env.TEST_REDIS_URL;
    env.REDIS_PREFIX = `respd_t_${tag(dataDir)}`;
  }
  return env;
}

export async function dropBackends(dataDir: string): Promise<void> {
  used.delete(dataDir);
  if (process.env.TEST_DATABASE_URL) await dropSchema(process.env.TEST_DATABASE_URL, `respd_t_${tag(dataDir)}`).catch(() => {});
  if (process.env.TEST_REDIS_URL) await dropRedisPrefix(process.env.TEST_REDIS_URL, `respd_t_${tag(dataDir)}`).catch(() => {});
}

/** A name usable as a schema and as a key prefix. */
export const randomName = (base: string) => `${base}_${randomBytes(5).toString('hex')}`;

export async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** Deletes every key under `prefix:`. */
export async function dropRedisPrefix(url: string, prefix: string): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await r.connect();
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

export async function countRedisKeys(url: string, prefix: string): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await r.connect();
  try {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}

/** Whether something accepts TCP connections on host:port (a cheap "is the service there" probe). */
export function answers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
