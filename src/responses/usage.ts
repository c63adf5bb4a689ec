// Token usage: a provider reports each model turn's; a response (or a compaction) adds up its turns.
import type { Usage } from '../providers/types.js';
import type { UsageObject } from '../wire/types.js';

/** Adds one model turn's usage to `usage` (in place), total included. */
export function addUsage(usage: UsageObject, u: Usage): void {
  usage.input_tokens += u.inputTokens;
  usage.output_tokens += u.outputTokens;
  usage.input_tokens_details.cached_tokens += u.cachedTokens ?? 0;
  usage.output_tokens_details.reasoning_tokens += u.reasoningTokens ?? 0;
  usage.total_tokens = usage.input_tokens + usage.output_tokens;
}
