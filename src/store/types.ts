// One persistence interface; sqlite/ and postgres/ implement it with the same numbered migrations.
// Events are stored as batches ("chunks") of pre-serialised lines: one row per group commit, not per
// token, and replay needs no JSON parsing (see responses/event-line.ts for the line format).
import type { ResponseStatus } from '../wire/status.js';
import type { ApiKeyStore } from './api-keys.js';
import type { ConversationStore } from './conversations.js';
import type { StoreInspection } from './inspection.js';
import type { FileStore } from './files.js';
import type { ContainerStore } from './containers.js';
import type { GuardrailStore } from './guardrails.js';
import type { PromptStore } from './prompts.js';
import type { AdminResponseStore } from './admin.js';
import type { UsageStore } from './usage.js';
import type { VectorStoreStore } from './vector-stores.js';

export type { ResponseStatus };

export interface Owner {
  tenant: string;
  /** '' when the request named no end user. */
  endUser: string;
}

export interface ResponseRecord {
  id: string;
  tenant: string;
  endUser: string;
  createdAt: number;
  status: ResponseStatus;
  background: boolean;
  previousResponseId: string | null;
  conversationId: string | null;
  /** Highest stored sequence number, -1 before the first event. */
  lastSeq: number;
  /** JSON of the Response projection as of lastSeq. */
  snapshot: string;
  /** JSON of what the runner needs to (re-)run the response. */
  request: string;
  /**
   * JSON of the metadata once updated after creation (null until then). Kept apart from the snapshot,
   * which the instance running the response rewrites at every commit: an update made anywhere survives
   * those commits, and every read lays it over the snapshot and the events (see responses/metadata.ts).
   */
  metadata: string | null;
}

/** One turn of a `previous_response_id` chain, as ownership checks and chaining need it. */
export interface ChainLink {
  id: string;
  tenant: string;
  endUser: string;
  status: ResponseStatus;
  previousResponseId: string | null;
}

export interface StoredItem {
  id: string;
  /** JSON of the item. */
  json: string;
}

export interface EventChunk {
  firstSeq: number;
  /** Event lines joined by '\n'. */
  data: string;
}

export interface PageQuery {
  after?: string;
  before?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export interface AppendBatch {
  responseId: string;
  firstSeq: number;
  lines: string[];
  /** Projection after the batch. */
  status: ResponseStatus;
  snapshot: string;
  /**
   * Group-committed creation: a foreground response's row and input items are inserted by its first
   * batch instead of a transaction of their own (one commit fewer per response on the hot path).
   */
  create?: { record: ResponseRecord; inputItems: StoredItem[] };
  /** Output items to persist once the response is terminal (for previous_response_id chains). */
  outputItems?: StoredItem[];
  /**
   * Set by a store that refused the batch (PostgreSQL's fence: the response was deleted, had already
   * ended, or another instance wrote it meanwhile). A refused batch is not in the log and is not fanned out.
   */
  rejected?: boolean;
  /** Webhook outbox rows written in the same transaction as this (terminal) batch (see webhooks/). */
  webhooks?: OutboxRow[];
}

/** One webhook event for one endpoint, durable until delivered or given up (see webhooks/worker.ts). */
export interface OutboxRow {
  /** evt_… id plus the endpoint's index: unique per (event, endpoint). */
  id: string;
  tenant: string;
  endpoint: string;
  /** The event's JSON body, exactly as it is signed and sent. */
  event: string;
  createdAt: number;
  attempts?: number;
}

/** The outbox the delivery worker drains; claims take a lease so two instances never send one row at once. */
export interface WebhookOutbox {
  /** Rows due now (ms) whose lease has lapsed, leased until now + leaseMs. */
  claim(nowMs: number, leaseMs: number, limit: number): Promise<OutboxRow[]>;
  delivered(id: string, nowMs: number): Promise<void>;
  /** Another attempt at `nextMs`, or never again (nextMs = null: given up). */
  retry(id: string, attempts: number, nextMs: number | null): Promise<void>;
  /**
   * Deletes up to `limit` rows delivered, or given up on, before `beforeMs`; returns how many. Pending
   * rows are never pruned, however old.
   */
  prune(beforeMs: number, limit: number): Promise<number>;
}

/** What the usage endpoint asks of the store: one owner's responses created in [start, end), by bucket. */
export interface UsageQuery {
  tenant: string;
  /** Only this end user's responses; undefined = every end user of the tenant. */
  endUser?: string;
  start: number;
  end: number;
  /** Bucket width in seconds; bucket k covers [start + k·width, start + (k+1)·width). */
  width: number;
}

/** Sums over one bucket × end user × model × background. */
export interface UsageRow {
  bucket: number;
  endUser: string;
  model: string;
  background: boolean;
  responses: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

export interface Store extends AdminResponseStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Conversations (see conversations.ts); a store without them answers the conversation routes with 501. */
  readonly conversations?: ConversationStore;
  /** Uploaded files (see files.ts); absent = the file routes answer 501. */
  readonly files?: FileStore;
  /** Vector stores (see vector-stores.ts); absent = those routes answer 501. */
  readonly vectorStores?: VectorStoreStore;
  /** Webhook outbox (issue 22). */
  readonly webhooks?: WebhookOutbox;
  /** API keys made with `respd keys` (issue 23); available after init(). */
  readonly apiKeys?: ApiKeyStore;
  /** Containers of the code_interpreter tool (see containers.ts); absent = the container routes answer 501. */
  readonly containers?: ContainerStore;
  /** Guardrail settings per tenant (issue 23); absent = the guardrail routes answer 501. */
  readonly guardrails?: GuardrailStore;
  /** The prompt repository (issue 23); absent = the prompt routes and `prompt` answer 501. */
  readonly prompts?: PromptStore;
  /** The usage ledger and the completions/conversations usage sums (issue 23); absent = those routes answer 501. */
  readonly usage?: UsageStore;
  /** Applies pending migrations (and prepares the store for use). */
  init(): Promise<void>;
  /** Applied and known migrations and row counts, read without migrating (needs no init()): `respd check`. */
  inspect(): Promise<StoreInspection>;
  close(): Promise<void>;

  /** Inserts the response, its input items and its first events atomically. */
  createResponse(rec: ResponseRecord, inputItems: StoredItem[], firstEvents: string[]): Promise<void>;
  /** With `owner`, only a response of that owner: another owner's id costs the same as an unknown one. */
  getResponse(id: string, owner?: Owner): Promise<ResponseRecord | undefined>;
  listResponses(owner: Owner, q: PageQuery): Promise<ResponseRecord[]>;
  /** Group commit: many batches (possibly of many responses) in one transaction. */
  appendEvents(batches: AppendBatch[]): Promise<void>;
  /**
   * One page of the log: at most `limit` chunks, from the one holding afterSeq + 1 on (its lines up to
   * afterSeq included). The caller continues after the last sequence number it got; a page shorter than
   * `limit` is the end of what is stored.
   */
  readEvents(responseId: string, afterSeq: number, limit: number): Promise<EventChunk[]>;
  updateMetadata(id: string, metadata: string): Promise<void>;
  listInputItems(responseId: string, q: PageQuery): Promise<StoredItem[]>;
  /**
   * The chain ending at `id` (`previous_response_id` links), newest first, at most `maxLinks` long, and
   * every item of its turns oldest first (each turn's input, then its output): what a follow-up turn
   * sees, in two queries whatever the chain's length.
   */
  getChain(id: string, maxLinks: number): Promise<{ links: ChainLink[]; items: StoredItem[] }>;
  deleteResponse(id: string): Promise<boolean>;
  listUnfinished(): Promise<ResponseRecord[]>;
  /**
   * Optional: moves what the store's own write-ahead log holds into its data and shrinks the log, so
   * a backlog written in several transactions needs room for one of them at a time (SQLite).
   */
  checkpoint?(): Promise<void>;
  /** Background responses waiting for an instance (all instances), and when the oldest was created. */
  queueStats(): Promise<{ depth: number; oldestCreatedAt: number | null }>;
  /** Usage sums, aggregated from the responses themselves (see usage/responses-usage.ts). */
  usageRows(q: UsageQuery): Promise<UsageRow[]>;
  /** Retention: delete responses created before the given unix time; returns how many. */
  deleteOlderThan(unixSeconds: number): Promise<number>;
}
