import type { Embedder } from '../vector-stores/embedder.js';
import type { Config } from '../config/index.js';
import type { ProviderRouter } from '../providers/router.js';
import type { ResponsesService } from '../responses/service.js';
import type { RateLimiter } from './rate-limit.js';
import type { UsageService } from '../usage/service.js';
import type { GuardrailsService } from '../guardrails/service.js';
import type { PromptsService } from '../prompts/service.js';

/** What the HTTP layer needs from the rest of the server. */
export interface AppDeps {
  config: Config;
  responses: ResponsesService;
  usage: UsageService;
  /** Shared with ResponsesService: a PUT refreshes the cache the create path reads. */
  guardrails: GuardrailsService;
  prompts: PromptsService;
  router: ProviderRouter;
  limiter?: RateLimiter;
  /** Wakes this instance's vector store ingestion workers (files were attached). */
  ingestionQueued?: () => void;
  /** EMBEDDING_MODEL's embedder, when set. */
  embedder?: Embedder;
}
