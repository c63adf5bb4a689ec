// POST {baseUrl}/embeddings: the upstream embeds; we pass `dimensions` through and always ask for floats
// (base64 is a presentation choice respd makes for its own client).
import { ProviderError, type EmbedOptions, type EmbedResult } from '../types.js';
import { createCallSignal } from './call-signal.js';
import { readBodyText, type UpstreamClient } from './client.js';
import { errorFromResponse } from './errors.js';

export async function embed(client: UpstreamClient, model: string, inputs: string[], opts: EmbedOptions = {}): Promise<EmbedResult> {
  const call = createCallSignal(opts.signal, client.timeouts.totalMs);
  try {
    const body = JSON.stringify({ model, input: inputs, encoding_format: 'float', ...(opts.dimensions ? { dimensions: opts.dimensions } : {}) });
    const res = await client.send('POST', '/embeddings', body, call, 'application/json', true);
    const text = await readBodyText(res, 256 * 1024 * 1024);
    if (res.statusCode < 200 || res.statusCode >= 300) throw errorFromResponse(res.statusCode, res.statusText, text, client.apiKey);
    const bad = () => new ProviderError('upstream returned an invalid embeddings response', 502, false, 'upstream_bad_response');
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw bad();
    }
    if (!json || !Array.isArray(json.data) || json.data.length !== inputs.length) throw bad();
    const vectors: number[][] = new Array(inputs.length);
    for (const [i, d] of (json.data as any[]).entries()) {
      const at = typeof d?.index === 'number' ? d.index : i;
      if (!Array.isArray(d?.embedding) || at < 0 || at >= inputs.length) throw bad();
      vectors[at] = d.embedding as number[];
    }
    if (vectors.some((v) => !v)) throw bad();
    const promptTokens = typeof json.usage?.prompt_tokens === 'number' ? json.usage.prompt_tokens : 0;
    return { vectors, promptTokens };
  } finally {
    call.dispose();
  }
}
