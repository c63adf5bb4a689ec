// MODEL_PATH, on its own so that src/setup/ensure-model.ts (run as a script before the server starts)
// can read it without loading the whole configuration module.

/** The `auto` model file the operator named (MODEL_PATH), or undefined. */
export function modelPathFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.MODEL_PATH || undefined;
}
