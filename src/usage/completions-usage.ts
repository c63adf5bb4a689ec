// MKA1's completions usage (GET /usage/completions): `organization.usage.completions.result`s from the
// usage ledger (one row per /chat/completions call, store/usage.ts). Chat completions here are never
// batch jobs and have no service tier or project: `batch` is false when grouped by, the others null.
import type { CompletionUsageRow } from '../store/usage.js';
import { bucketPage, type UsageParams, type UsageSpec } from './query.js';

export const COMPLETIONS_SPEC: UsageSpec = { groups: ['user_id', 'api_key_id', 'model', 'batch'], models: true };

export interface CompletionsUsageResult {
  object: 'organization.usage.completions.result';
  input_tokens: number;
  output_tokens: number;
  input_cached_tokens: number;
  num_model_requests: number;
  user_id: string | null;
  api_key_id: string | null;
  model: string | null;
  batch: boolean | null;
  service_tier: null;
  project_id: null;
}

export function completionsUsagePage(p: UsageParams, rows: CompletionUsageRow[], apiKeyId: string) {
  return bucketPage<CompletionUsageRow, CompletionsUsageResult>(p, rows, {
    dims: (r, userId) => ({
      user_id: p.groupBy.has('user_id') ? userId : null,
      api_key_id: p.groupBy.has('api_key_id') ? apiKeyId : null,
      model: p.groupBy.has('model') ? r.model : null,
      batch: p.groupBy.has('batch') ? false : null,
    }),
    empty: (dims) => ({
      object: 'organization.usage.completions.result', input_tokens: 0, output_tokens: 0, input_cached_tokens: 0,
      num_model_requests: 0, ...dims, service_tier: null, project_id: null,
    } as CompletionsUsageResult),
    add: (acc, r) => {
      acc.input_tokens += r.inputTokens;
      acc.output_tokens += r.outputTokens;
      acc.input_cached_tokens += r.cachedTokens;
      acc.num_model_requests += r.requests;
    },
  });
}
