#!/usr/bin/env node
// `respd …` (package.json "bin"): operator commands next to the server. Store commands read the server's
// configuration (src/config); HTTP commands take --url/--key or RESPD_URL/RESPD_API_KEY. Each command is
// loaded only when run, so `respd tail` does not load the store drivers.
// Exit codes: 0 success, 1 the command failed, 2 bad usage, 130 interrupted.
import { UsageError } from './args.js';
import { ApiCallError } from './http-client.js';
import { CliFailure } from './store-access.js';

interface Command { run(argv: string[]): Promise<number>; usage: string }

const COMMANDS: Record<string, () => Promise<Command>> = {
  keys: () => import('./keys.js'),
  tail: () => import('./tail.js'),
  list: () => import('./list.js'),
  'export-conversation': () => import('./export-conversation.js'),
  check: () => import('./check.js'),
};

const HEADER = `respd: operator commands for a respd server (see README "Operating it: the respd command").

Usage:`;
const FOOTER = `Store commands (keys, check) read the server's environment (DATA_DIR, DATABASE_URL, RESPD_CONFIG, …).
HTTP commands (tail, list, export-conversation) take --url (default RESPD_URL, else http://127.0.0.1:$PORT)
and --key (default RESPD_API_KEY).`;

async function fullUsage(): Promise<string> {
  const parts = await Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).usage));
  return `${HEADER}\n${parts.map((p) => p.replace(/^/gm, '  ')).join('\n')}\n\n${FOOTER}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const text = await fullUsage();
    (name === undefined ? process.stderr : process.stdout).write(text);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`respd: unknown command '${name}'\n\n${await fullUsage()}`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`respd ${name}: ${err.message}\n\nUsage:\n${cmd.usage.replace(/^/gm, '  ')}\n`);
      return 2;
    }
    if (err instanceof CliFailure || err instanceof ApiCallError) {
      process.stderr.write(`respd ${name}: ${err.message}\n`);
      return 1;
    }
    // A store or network failure: one line naming it, not a stack trace.
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    process.stderr.write(`respd ${name}: ${e.message}${e.cause?.message ? ` (${e.cause.message})` : ''}\n`);
    return 1;
  }
}

// exitCode, not exit(): stdout piped to another process is flushed first.
process.exitCode = await main(process.argv.slice(2));
