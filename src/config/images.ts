// IMAGES_*: the images endpoint the image_generation tool draws with (README "Tools"). Any server
// speaking OpenAI's images API (POST {base}/images/generations, b64_json answers): LocalAI, a
// stable-diffusion.cpp server, OpenAI itself. Unset IMAGES_BASE_URL = the tool is not offered.

export interface ImagesConfig {
  /** The API base, e.g. http://127.0.0.1:8080/v1 (no trailing slash). */
  baseUrl: string;
  /** IMAGES_API_KEY, sent as a bearer token; never logged. */
  apiKey?: string;
  /** IMAGES_MODEL: the model asked for when the tool names none (else the server's default). */
  model?: string;
  /** Per generation (ms); images take long on CPU. */
  timeoutMs: number;
}

export function parseImagesConfig(env: NodeJS.ProcessEnv, fail: (msg: string) => Error): ImagesConfig | undefined {
  const base = env.IMAGES_BASE_URL;
  const others = ['IMAGES_API_KEY', 'IMAGES_MODEL', 'IMAGES_TIMEOUT_MS'].filter((k) => env[k]);
  if (!base) {
    if (others.length) throw fail(`${others[0]} is set without IMAGES_BASE_URL (the images endpoint, e.g. http://127.0.0.1:8080/v1)`);
    return undefined;
  }
  if (!/^https?:\/\/\S+$/.test(base)) throw fail(`IMAGES_BASE_URL must be an http(s) URL, got '${base}'`);
  const rawTimeout = env.IMAGES_TIMEOUT_MS;
  let timeoutMs = 300_000;
  if (rawTimeout) {
    if (!/^\d+$/.test(rawTimeout) || Number(rawTimeout) < 1) throw fail(`IMAGES_TIMEOUT_MS must be an integer >= 1, got '${rawTimeout}'`);
    timeoutMs = Number(rawTimeout);
  }
  const model = env.IMAGES_MODEL?.trim();
  return { baseUrl: base.replace(/\/+$/, ''), apiKey: env.IMAGES_API_KEY || undefined, model: model || undefined, timeoutMs };
}
