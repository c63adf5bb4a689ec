// MKA1's responses usage (GET /usage/responses): `organization.usage.responses.result`s. Sums come from
// the store (Store.usageRows), grouped there by bucket × end user × model × background and rolled up
// here (query.ts) to the dimensions the caller asked for.
import type { UsageRow } from '../store/types.js';
import { bucketPage, type UsageParams, type UsageSpec } from './query.js';

export const RESPONSES_SPEC: UsageSpec = { groups: ['user_id', 'api_key_id', 'model', 'background'], models: true, background: true };

export interface ResponsesUsageResult {
  object: 'organization.usage.responses.result';
  input_tokens: number;
  output_tokens: number;
  input_cached_tokens: number;
  output_reasoning_tokens: number;
  num_model_requests: number;
  user_id: string | null;
  api_key_id: string | null;
  model: string | null;
  background: boolean | null;
}

/** The page the endpoint answers, from the store's rows of this page's buckets. */
export function responsesUsagePage(p: UsageParams, rows: UsageRow[], apiKeyId: string) {
  return bucketPage<UsageRow, ResponsesUsageResult>(p, rows, {
    keep: (r) => p.background === undefined || r.background === p.background,
    dims: (r, userId) => ({
      user_id: p.groupBy.has('user_id') ? userId : null,
      api_key_id: p.groupBy.has('api_key_id') ? apiKeyId : null,
      model: p.groupBy.has('model') ? r.model : null,
      background: p.groupBy.has('background') ? r.background : null,
    }),
    empty: (dims) => ({
      object: 'organization.usage.responses.result', input_tokens: 0, output_tokens: 0, input_cached_tokens: 0,
      output_reasoning_tokens: 0, num_model_requests: 0, ...dims,
    } as ResponsesUsageResult),
    add: (acc, r) => {
      acc.input_tokens += r.inputTokens;
      acc.output_tokens += r.outputTokens;
      acc.input_cached_tokens += r.cachedTokens;
      acc.output_reasoning_tokens += r.reasoningTokens;
      acc.num_model_requests += r.responses;
    },
  });
}
