// Runs small Python scripts with OpenAI's Python SDK against a test server, for the defects only that
// client shows. The SDK is installed once (pinned) into a cache folder under node_modules, outside the
// tracked tree and outside `npm ci`; where python3 or pip is missing, callers skip with the reason.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './server.js';

const run = promisify(execFile);

export const PYTHON_OPENAI_VERSION = '3.22.1';
const CACHE = join(ROOT, 'node_modules', '.cache', `respd-python-openai-${PYTHON_OPENAI_VERSION}`);

export interface PythonSdk {
  /** Runs `script` with the SDK importable; resolves with stdout, rejects (with stderr) on a non-zero exit. */
  run(script: string, env?: Record<string, string>): Promise<string>;
}

let ready: Promise<PythonSdk | string> | undefined;

/** The SDK runner, or why it is unavailable (a reason to skip with). */
export function pythonSdk(): Promise<PythonSdk | string> {
  ready ??= prepare();
  return ready;
}

async function prepare(): Promise<PythonSdk | string> {
  try {
    await run('python3', ['--version']);
  } catch {
    return 'python3 is not installed';
  }
  if (!existsSync(join(CACHE, 'openai'))) {
    try {
      await run('python3', ['-m', 'pip', '--version']);
    } catch {
      return 'pip is not available for python3';
    }
    // Install next to the cache and rename, so an interrupted install is never taken for a complete one.
    const tmp = `${CACHE}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      await run('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--retries', '1',
        '--target', tmp, `openai==${PYTHON_OPENAI_VERSION}`], { timeout: 300_000 });
      rmSync(CACHE, { recursive: true, force: true });
      renameSync(tmp, CACHE);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      return `pip could not install openai==${PYTHON_OPENAI_VERSION}: ${(err as { stderr?: string }).stderr?.trim().split('\n').pop() ?? err}`;
    }
  }
  return {
    async run(script, env = {}) {
      try {
        const { stdout } = await run('python3', ['-c', script], {
          env: { ...process.env, PYTHONPATH: CACHE, PYTHONDONTWRITEBYTECODE: '1', ...env },
          timeout: 60_000,
        });
        return stdout;
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        throw new Error(`python script failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
      }
    },
  };
}
