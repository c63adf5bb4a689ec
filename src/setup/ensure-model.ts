// Makes sure the `auto` model has a file to load before the server (or the test suite) starts.
// Run by `npm start` / `npm test` on every launch, so the common path (model already present) only
// stats a few files. Resolution order:
//   1. env MODEL_PATH — must exist (exit 1 otherwise: a typo should not silently fall back);
//   2. the first *.gguf (by name) in ./models/;
//   3. copy ../shared/models/stories260K.gguf into ./models/ (a real trained model, when available);
//   4. generate a tiny random-weight model into ./models/respd-tiny.gguf (no network needed).
// `resolveDefaultModelPath` is the side-effect-free part (1 and 2) for the server's config loader.

import { chmod, copyFile, mkdir, rename } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { modelPathFromEnv } from '../config/model-path.js';
import { generateTinyGguf } from './generate-tiny-gguf.js';

const SHARED_MODEL = join('..', 'shared', 'models', 'stories260K.gguf');
const GENERATED_NAME = 'respd-tiny.gguf';

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** First `*.gguf` file in `dir`, sorted by name, or undefined. */
function firstGguf(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const name = names
    .filter((n) => n.toLowerCase().endsWith('.gguf'))
    .sort()
    .find((n) => isFile(join(dir, n)));
  return name === undefined ? undefined : join(dir, name);
}

/**
 * The model file `auto` uses: `MODEL_PATH` when set (returned even if missing, so callers can report
 * it), else the first `*.gguf` in `<cwd>/models/`. Undefined when neither exists. No side effects.
 */
export function resolveDefaultModelPath(cwd: string = process.cwd(), env?: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = modelPathFromEnv(env);
  if (fromEnv) return resolve(cwd, fromEnv);
  return firstGguf(join(cwd, 'models'));
}

export interface EnsureModelResult {
  path: string;
  source: 'env' | 'models-dir' | 'copied-shared' | 'generated';
}

/** Resolves (and if needed creates) the default model file. Throws when MODEL_PATH points nowhere. */
export async function ensureModel(cwd: string = process.cwd(), env?: NodeJS.ProcessEnv): Promise<EnsureModelResult> {
  const fromEnv = modelPathFromEnv(env);
  if (fromEnv) {
    const path = resolve(cwd, fromEnv);
    if (!isFile(path)) throw new Error(`MODEL_PATH is set to ${fromEnv} but no file exists at ${path}`);
    return { path, source: 'env' };
  }
  const modelsDir = join(cwd, 'models');
  const existing = firstGguf(modelsDir);
  if (existing) return { path: existing, source: 'models-dir' };

  const shared = resolve(cwd, SHARED_MODEL);
  if (isFile(shared)) {
    const target = join(modelsDir, 'stories260K.gguf');
    await mkdir(modelsDir, { recursive: true });
    // Copy via a temp name so a concurrent/aborted run never leaves a half-written *.gguf behind.
    const tmp = `${target}.${process.pid}.tmp`;
    await copyFile(shared, tmp);
    await chmod(tmp, 0o644); // the shared original is read-only; the local copy belongs to this checkout
    await rename(tmp, target);
    return { path: target, source: 'copied-shared' };
  }

  const target = join(modelsDir, GENERATED_NAME);
  await generateTinyGguf(target);
  return { path: target, source: 'generated' };
}

const DESCRIPTIONS: Record<EnsureModelResult['source'], string> = {
  env: 'from MODEL_PATH',
  'models-dir': 'found in ./models',
  'copied-shared': 'copied from ../shared/models',
  generated: 'generated tiny random-weight model; set MODEL_PATH or put a .gguf in ./models for a real one',
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureModel().then(
    (r) => console.log(`model "auto" uses ${r.path} (${DESCRIPTIONS[r.source]})`),
    (err: unknown) => {
      console.error(`ensure-model: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
