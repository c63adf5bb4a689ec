// `respd check`: validates the configuration the way the server does at start (src/config), opens the
// store without migrating it (it may be serving), and reports its migrations and row counts; pings Redis
// when one is configured. Exit 1 on any problem, so it can gate a deploy.
import { existsSync } from 'node:fs';
import { parse } from './args.js';
import { CliFailure, config } from './store-access.js';
import { createStore, sqlitePathOf } from '../store/index.js';
import type { Config } from '../config/index.js';
import type { StoreInspection } from '../store/inspection.js';

export const usage = `respd check [--json]
  Validate the configuration (the server's env vars and RESPD_CONFIG), open the store, print applied and
  pending migrations and row counts. Exit 1 on a problem.`;

interface Report {
  ok: boolean;
  lines: Array<{ level: 'ok' | 'warn' | 'FAIL'; what: string; detail: string }>;
  migrations?: { applied: number[]; pending: number[]; unknown: number[] };
  counts?: Record<string, number>;
}

/** A URL without its password. */
const safeUrl = (url: string) => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } }, { names: [] });
  const report: Report = { ok: true, lines: [] };
  const add = (level: 'ok' | 'warn' | 'FAIL', what: string, detail: string) => {
    report.lines.push({ level, what, detail });
    if (level === 'FAIL') report.ok = false;
  };
  let cfg: Config | undefined;
  try {
    cfg = config();
    add('ok', 'config', 'valid');
  } catch (err) {
    if (!(err instanceof CliFailure)) throw err;
    add('FAIL', 'config', err.message);
  }
  if (cfg) {
    checkProviders(cfg, add);
    add('ok', 'api keys', cfg.apiKeys ? `${cfg.apiKeys.length} in API_KEYS (plus the store's)` : `the store's, and a key generated into ${cfg.dataDir} at first start if the store has none`);
    await checkStore(cfg, add, report);
    if (cfg.redisUrl) await checkRedis(cfg.redisUrl, add);
    else add('ok', 'bus', 'in-process (single instance; set REDIS_URL to scale out)');
  }
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else print(report);
  return report.ok ? 0 : 1;
}

type Add = (level: 'ok' | 'warn' | 'FAIL', what: string, detail: string) => void;

function checkProviders(cfg: Config, add: Add): void {
  if (!cfg.providers.length) add('warn', 'providers', 'none configured: no model can answer (see README "Configuration")');
  for (const p of cfg.providers) {
    if (p.type === 'llama') {
      // `npm start` creates the default model before the server starts; a named file must exist.
      if (existsSync(p.modelPath)) add('ok', `provider ${p.id}`, `llama, ${p.modelPath}`);
      else add('FAIL', `provider ${p.id}`, `llama model file not found: ${p.modelPath}`);
    } else {
      const key = p.apiKeyEnv && !p.apiKey ? ` (warning: ${p.apiKeyEnv} is not set)` : '';
      add(key ? 'warn' : 'ok', `provider ${p.id}`, `openai-compatible, ${p.baseUrl}${key}`);
    }
  }
  if (cfg.autoModel) add('ok', 'auto model', cfg.autoModel);
}

async function checkStore(cfg: Config, add: Add, report: Report): Promise<void> {
  const file = sqlitePathOf(cfg);
  const where = file !== undefined ? `sqlite ${file}` : `postgres ${safeUrl(cfg.databaseUrl!)}${cfg.databaseSchema ? ` schema ${cfg.databaseSchema}` : ''}`;
  let inspection: StoreInspection;
  if (file !== undefined && file !== ':memory:' && !existsSync(file)) {
    // Not created yet: opening it here would create it; the first start does, and migrates it.
    const { migrations } = await import('../store/sqlite/migrations.js');
    inspection = { applied: [], known: migrations.map((m) => m.version), counts: {} };
    add('ok', 'store', `${where} (not created yet: the first start creates it)`);
  } else {
    try {
      const store = await createStore(cfg);
      try {
        inspection = await store.inspect();
      } finally {
        await store.close().catch(() => {});
      }
      add('ok', 'store', where);
    } catch (err) {
      add('FAIL', 'store', `${where}: ${(err as Error).message}`);
      return;
    }
  }
  const applied = new Set(inspection.applied);
  const pending = inspection.known.filter((v) => !applied.has(v));
  const unknown = inspection.applied.filter((v) => !inspection.known.includes(v));
  report.migrations = { applied: inspection.applied, pending, unknown };
  report.counts = inspection.counts;
  if (unknown.length) add('FAIL', 'migrations', `applied versions this build does not know: ${unknown.join(', ')} (a newer respd migrated this store)`);
  else if (pending.length) add('ok', 'migrations', `${inspection.applied.length} applied, pending ${pending.join(', ')} (applied at the next start)`);
  else add('ok', 'migrations', `all ${inspection.applied.length} applied`);
}

async function checkRedis(url: string, add: Add): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    add('ok', 'bus', `redis ${safeUrl(url)}`);
  } catch (err) {
    add('FAIL', 'bus', `redis ${safeUrl(url)}: ${(err as Error).message}`);
  } finally {
    r.disconnect();
  }
}

function print(report: Report): void {
  for (const l of report.lines) process.stdout.write(`${l.level.padEnd(4)}  ${l.what}: ${l.detail}\n`);
  if (report.migrations) {
    const m = report.migrations;
    process.stdout.write(`migrations: applied [${m.applied.join(', ')}] pending [${m.pending.join(', ')}]\n`);
  }
  if (report.counts && Object.keys(report.counts).length) {
    process.stdout.write('rows:\n');
    for (const [t, n] of Object.entries(report.counts)) process.stdout.write(`  ${t.padEnd(22)} ${n}\n`);
  }
  process.stdout.write(report.ok ? 'check passed\n' : 'check FAILED\n');
}
