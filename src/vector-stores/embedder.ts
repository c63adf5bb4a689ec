// The server's embedding model (EMBEDDING_MODEL) as vector stores use it: texts in, unit-length float32
// vectors out, in batches so one large file is not one giant upstream request.
import type { ProviderRouter } from '../providers/router.js';
import { ProviderError } from '../providers/types.js';
import { errors, fromBackend } from '../wire/errors.js';

const BATCH = 64;

export interface Embedder {
  /** The configured `provider:model`, recorded on each store it embeds. */
  readonly model: string;
  embed(texts: string[]): Promise<Float32Array[]>;
}

export function createEmbedder(router: ProviderRouter, model: string): Embedder {
  return {
    model,
    async embed(texts: string[]): Promise<Float32Array[]> {
      const { provider, model: local, id } = await router.resolve(model);
      if (!provider.embed) throw errors.invalid(`The model '${id}' cannot make embeddings.`, 'model');
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += BATCH) {
        let vectors: number[][];
        try {
          vectors = (await provider.embed(local, texts.slice(i, i + BATCH))).vectors;
        } catch (err) {
          throw err instanceof ProviderError ? fromBackend(err, 'Embedding failed: ') : err;
        }
        for (const v of vectors) out.push(unit(v));
      }
      return out;
    },
  };
}

/** Unit length, so cosine similarity is a dot product at search time. */
function unit(v: number[]): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return Float32Array.from(v, (x) => x / n);
}
