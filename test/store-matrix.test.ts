// The same behavioural suites, run again against PostgreSQL and against PostgreSQL + Redis: both stores
// and both buses must behave identically. Each run is a child `node --test` with TEST_DATABASE_URL /
// TEST_REDIS_URL set (test/support/server.ts then gives every server its own schema and key prefix).
// Skipped with a reason where PostgreSQL/Redis do not answer, except in CI, where they must.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { answers } from './support/backends.js';
import { ROOT } from './support/server.js';

const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
// Suites whose behaviour depends on the store or the bus. The code interpreter's sandbox does not: its
// container storage is the containers suite's, so the sandbox suite runs once, on SQLite.
const SUITES = ['responses-core', 'conversations', 'errors-auth', 'tools', 'usage', 'usage-completions', 'hybrid-search', 'cli', 'containers', 'guardrails', 'prompts'].map((f) => join(ROOT, 'dist/test', `${f}.test.js`));

function run(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    // Without NODE_TEST_CONTEXT the child reports as a top-level runner (plain TAP we can read).
    const { NODE_TEST_CONTEXT: _ctx, ...parentEnv } = process.env;
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...SUITES], {
      cwd: ROOT, env: { ...parentEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

async function reason(): Promise<string | undefined> {
  const pg = new URL(PG_URL);
  const rd = new URL(REDIS_URL);
  const up = await Promise.all([answers(pg.hostname, Number(pg.port || 5432)), answers(rd.hostname, Number(rd.port || 6379))]);
  if (up[0] && up[1]) return undefined;
  const why = `PostgreSQL ${up[0] ? 'answers' : 'does not answer'} at ${pg.host}, Redis ${up[1] ? 'answers' : 'does not answer'} at ${rd.host}`;
  if (process.env.CI) throw new Error(`CI must run the store matrix: ${why}`);
  return why;
}

describe('behavioural suites on the scale-out backends', async () => {
  const skip = await reason();
  for (const [name, env] of [
    ['PostgreSQL store', { TEST_DATABASE_URL: PG_URL }],
    ['PostgreSQL store + Redis bus', { TEST_DATABASE_URL: PG_URL, TEST_REDIS_URL: REDIS_URL }],
  ] as const) {
    it(name, { skip: skip ?? false, timeout: 600_000 }, async () => {
      const { code, out } = await run(env);
      const summary = out.split('\n').filter((l) => /^# (pass|fail|tests)/.test(l)).join(', ');
      console.log(`# ${name}: ${summary}`);
      // Each failing case with the lines that follow it (its error and stack), not only the run's tail.
      const lines = out.split('\n');
      const failures = lines.flatMap((l, i) => (/^\s*not ok/.test(l) && !/# SKIP/.test(l) ? [lines.slice(i, i + 25).join('\n')] : []));
      assert.match(summary, /# pass [1-9]/, 'the suites ran');
      assert.equal(code, 0, `failures on ${name}:\n${failures.join('\n---\n')}`);
    });
  }
});
