// Model listing: the configured list if given, otherwise the upstream's GET /models, cached for a
// minute so per-request model resolution does not cost an upstream round-trip. Concurrent callers
// share one in-flight fetch; failures are not cached.

import { ProviderError, type ModelInfo } from '../types.js';
import { createCallSignal } from './call-signal.js';
import { readBodyText, type UpstreamClient } from './client.js';
import { errorFromResponse } from './errors.js';

const CACHE_TTL_MS = 60_000;

type Obj = Record<string, unknown>;

function toModelInfo(raw: unknown, ownerFallback: string): ModelInfo | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const m = raw as Obj;
  if (typeof m.id !== 'string' || !m.id) return undefined;
  const info: ModelInfo = {
    id: m.id,
    created: typeof m.created === 'number' ? m.created : 0,
    ownedBy: typeof m.owned_by === 'string' && m.owned_by ? m.owned_by : ownerFallback,
  };
  // vLLM: max_model_len; OpenRouter & others: context_length / context_window.
  const ctx = [m.max_model_len, m.context_length, m.context_window].find((v) => typeof v === 'number' && v > 0);
  if (typeof ctx === 'number') info.contextWindow = ctx;
  return info;
}

export class ModelCatalog {
  private listing: { at: number; models: ModelInfo[] } | undefined;
  private inflight: Promise<ModelInfo[]> | undefined;

  constructor(
    private readonly client: UpstreamClient,
    private readonly providerId: string,
    configured: string[] | undefined,
  ) {
    if (configured) {
      this.listing = { at: Infinity, models: configured.map((id) => ({ id, created: 0, ownedBy: providerId })) };
    }
  }

  /** The listing if it is fresh, without waiting. */
  cached(): ModelInfo[] | undefined {
    return this.listing && Date.now() - this.listing.at < CACHE_TTL_MS ? this.listing.models : undefined;
  }

  async list(): Promise<ModelInfo[]> {
    const fresh = this.cached();
    if (fresh) return fresh;
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<ModelInfo[]> {
    // A listing is a quick metadata call: bound it by the first-byte timeout, not the 10-minute one.
    const call = createCallSignal(undefined, this.client.timeouts.firstByteMs);
    try {
      const res = await this.client.send('GET', '/models', undefined, call, 'application/json');
      const text = await readBodyText(res, 8 * 1024 * 1024);
      if (res.statusCode < 200 || res.statusCode >= 300) throw errorFromResponse(res.statusCode, res.statusText, text, this.client.apiKey);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ProviderError('upstream returned an invalid model list', res.statusCode, false, 'upstream_bad_response');
      }
      const list = Array.isArray(json) ? json : json && typeof json === 'object' && Array.isArray((json as Obj).data) ? ((json as Obj).data as unknown[]) : [];
      const models = list.map((m) => toModelInfo(m, this.providerId)).filter((m): m is ModelInfo => m !== undefined);
      this.listing = { at: Date.now(), models };
      return models;
    } finally {
      call.dispose();
    }
  }
}
