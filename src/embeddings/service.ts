// Embeddings: input checks, routing to the provider that embeds, and OpenAI's response shape.
import type { ProviderRouter } from '../providers/router.js';
import { ProviderError } from '../providers/types.js';
import { errors, fromBackend } from '../wire/errors.js';
import { MAX_EMBEDDING_INPUTS } from '../wire/schemas/embeddings.js';

export interface EmbeddingBody {
  input: unknown;
  model: string;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
}

/** The texts of `input`; token arrays and empty strings are refused with a 400 naming the param. */
export function embeddingInputs(input: unknown): string[] {
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0) {
    throw errors.invalid('input must be a non-empty string or a non-empty array of strings.', 'input');
  }
  if (list.length > MAX_EMBEDDING_INPUTS) throw errors.invalid(`input has more than ${MAX_EMBEDDING_INPUTS} items.`, 'input');
  list.forEach((s, i) => {
    if (typeof s !== 'string') {
      throw errors.invalid('Token-id inputs are not supported: send text (a string or an array of strings).', `input[${i}]`);
    }
    if (s.length === 0) throw errors.invalid('input must not contain empty strings.', `input[${i}]`);
  });
  return list as string[];
}

/** float32 little-endian bytes, base64: what the openai SDK decodes for encoding_format=base64. */
const toBase64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');

export async function createEmbeddings(router: ProviderRouter, body: EmbeddingBody, signal?: AbortSignal) {
  const inputs = embeddingInputs(body.input);
  const resolved = await router.resolve(body.model);
  if (!resolved.provider.embed) {
    throw errors.invalid(`The model '${resolved.id}' cannot make embeddings.`, 'model');
  }
  let result;
  try {
    result = await resolved.provider.embed(resolved.model, inputs, { dimensions: body.dimensions, signal });
  } catch (err) {
    if (err instanceof ProviderError) throw fromBackend(err);
    throw err;
  }
  const vectors = result.vectors.map((v) => (body.dimensions && v.length > body.dimensions ? normalize(v.slice(0, body.dimensions)) : v));
  return {
    object: 'list' as const,
    data: vectors.map((v, index) => ({
      object: 'embedding' as const, index, embedding: body.encoding_format === 'base64' ? toBase64(v) : v,
    })),
    model: resolved.id,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

/** A shortened vector is renormalised, as Matryoshka-style truncation expects. */
function normalize(v: number[]): number[] {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}
