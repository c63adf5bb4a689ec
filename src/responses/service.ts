// The Responses resource: create, retrieve, list, update, cancel, delete, input items. HTTP routes call
// this; it owns ownership checks (foreign ids are reported as not found) and the lifecycle rules.
import type { EventHub, ControlBus, JobQueue } from '../bus/types.js';
import { conversationStoreOf, loadConversationContext, newInputItems } from '../conversations/service.js';
import { errors } from '../wire/errors.js';
import type { CreateResponseBody } from '../wire/schemas/responses.js';
import type { ProviderRouter, ResolvedModel } from '../providers/router.js';
import { pageItems, toListPage } from '../store/paging.js';
import type { Owner, PageQuery, ResponseRecord, Store } from '../store/types.js';
import { credentialVault } from '../tools/mcp/credentials.js';
import { prepareTools, type ToolPolicy } from '../tools/prepare.js';
import { isSleeping } from '../tools/sleep/tool.js';
import { buildInitialResponse, sentSampling } from './build-response.js';
import { Executor, type RunRequest } from './executor.js';
import { isTerminalStatus } from '../wire/status.js';
import { newId, RESPONSE_ID } from '../wire/ids.js';
import { ResponseHandle } from './handle.js';
import { withMetadata } from './metadata.js';
import { normalizeInput } from '../wire/input.js';
import { ENCRYPTED_REASONING } from '../wire/include.js';
import { openHistoryReasoning, openInputReasoning } from './reasoning.js';
import type { LiveLog } from './live-log.js';
import { finalize, warmUp } from './runner.js';
import { HttpSteering } from './steer.js';
import { endBackground } from './end-background.js';
import { fitContext } from './truncate.js';
import { Cancel } from '../util/cancel.js';
import type { Item, ResponseObject } from '../wire/types.js';
import { evaluate, inputText, type GuardrailsService } from '../guardrails/service.js';
import type { PromptsService } from '../prompts/service.js';
import { refuse } from './refusal.js';

const owns = (rec: { tenant: string; endUser: string }, o: Owner) => rec.tenant === o.tenant && rec.endUser === o.endUser;

/** Longest `previous_response_id` chain a turn may build on. */
const MAX_CHAIN = 10_000;

/**
 * Chains a caller holds in memory (a WebSocket connection's cache), so a `previous_response_id` it
 * knows needs no store read, and a `store: false` chain can be continued at all.
 */
export interface ChainCache {
  /** Every item of the chain ending at `id` (its turns' inputs and outputs), oldest first; undefined if not held. */
  items(id: string): Item[] | undefined;
  /** A new response `id` starts from `items` (its chain's earlier items, then its own input). */
  started(id: string, items: Item[]): void;
}

export class ResponsesService {
  /** POST /responses/{id}/steer (see responses/steer.ts). */
  readonly steering: HttpSteering;

  constructor(
    readonly store: Store,
    readonly hub: EventHub<LiveLog>,
    readonly executor: Executor,
    private readonly router: ProviderRouter,
    readonly queue: JobQueue,
    readonly control: ControlBus,
    private readonly toolPolicy: ToolPolicy = { allowPrivateMcp: false },
    /** Issue 23: the key's guardrails (checked before any model run) and the prompt repository. */
    private readonly features: { guardrails?: GuardrailsService; prompts?: PromptsService } = {},
  ) {
    this.steering = new HttpSteering(this);
  }

  /** Loads a response the caller owns; anything else is "not found", never "forbidden". */
  async load(owner: Owner, id: string, param: string | null = null): Promise<ResponseRecord> {
    if (!RESPONSE_ID.test(id)) throw errors.invalid(`Invalid response id '${id.slice(0, 100)}': expected 'resp_' followed by letters and digits.`, param ?? 'response_id');
    // A foreground response is inserted by its first group commit: until then its record lives in memory.
    // The store is asked for the owner's response only, so another owner's id costs what an unknown one does.
    // The in-memory record is taken before the read: the first commit may land during it, clearing it and
    // taking the log off the hub, and the read (begun before that commit) still finds nothing.
    const pending = this.hub.local(id)?.pendingCreate?.record;
    const rec = (await this.store.getResponse(id, owner)) ?? pending;
    if (!rec || !owns(rec, owner)) throw errors.notFound('Response', id, param);
    return rec;
  }

  current(rec: ResponseRecord): ResponseObject {
    const live = this.hub.local(rec.id);
    if (live) return live.state;
    return withMetadata(JSON.parse(rec.snapshot), rec.metadata ? JSON.parse(rec.metadata) : undefined);
  }

  /** A handle on a response the caller owns (retrieve, resume, poll). */
  async open(owner: Owner, id: string, include: string[]): Promise<ResponseHandle> {
    // Taken before the store read: a log that commits its end and leaves the hub during that read would
    // otherwise leave the handle with the snapshot read before that commit (a stale, unfinished response).
    const live = this.hub.local(id);
    const rec = await this.load(owner, id);
    return new ResponseHandle(this, rec.id, rec, live ?? this.hub.local(rec.id), include);
  }

  /** Items of every earlier turn of the chain ending at `id`, oldest first. (Public: /responses/compact uses it.) */
  async chainItems(owner: Owner, id: string): Promise<Item[]> {
    const notFound = () => errors.invalid(`Previous response with id '${id}' not found.`, 'previous_response_id', 'previous_response_not_found');
    if (!RESPONSE_ID.test(id)) throw notFound();
    // A turn that just ended (its client already saw the terminal event) may still be in the group
    // commit: wait for it, so the chain is read from the store complete. Earlier turns ended before
    // this one was created, so they are committed.
    const live = this.hub.local(id);
    if (live?.terminal) await live.durable();
    const { links, items } = await this.store.getChain(id, MAX_CHAIN);
    const head = links[0] ?? (live?.pendingCreate && { ...live.pendingCreate.record, status: live.state.status });
    if (!head || !owns(head, owner)) throw notFound();
    if (!isTerminalStatus(head.status)) {
      throw errors.invalid(`Previous response '${id}' is still ${head.status}; wait for it to finish.`, 'previous_response_id');
    }
    // Every earlier turn must be the caller's too (a chain never crosses owners; anything else is "not found").
    const foreign = links.find((l) => !owns(l, owner));
    if (foreign) throw errors.notFound('Response', foreign.id, 'previous_response_id');
    return items.map((it) => JSON.parse(it.json) as Item);
  }

  /**
   * Creates a response and starts it: a foreground run at once on this instance, a background one
   * through the job queue. The handle presents it to whichever transport asked. `generate: false`
   * (WebSocket warm-up) checks and prepares everything a run would, then completes without output.
   */
  async create(owner: Owner, body: CreateResponseBody, chain?: ChainCache, opts: { generate?: boolean } = {}): Promise<ResponseHandle> {
    const store = body.store ?? true;
    if (body.background && !store) throw errors.invalid('Background responses require store: true.', 'background');
    if (store && this.executor.storeFailing) {
      const e = errors.unavailable('The response store cannot take writes right now (full, locked or unreachable); retry shortly.', 'store_unavailable');
      e.headers['retry-after'] = '1';
      throw e;
    }
    if (body.previous_response_id && body.conversation) {
      throw errors.invalid('Use either conversation or previous_response_id, not both.', 'conversation');
    }
    if (body.conversation && !store) throw errors.invalid('A response on a conversation must be stored; remove store: false.', 'store');
    if (body.previous_response_id && !RESPONSE_ID.test(body.previous_response_id)) {
      // No response ever had such an id: the same answer as for an id that does not exist.
      throw errors.invalid(`Previous response with id '${body.previous_response_id.slice(0, 100)}' not found.`, 'previous_response_id', 'previous_response_not_found');
    }
    const resolved = await this.router.resolve(body.model);
    const input = normalizeInput(body.input);
    // A prompt template (issue 23): rendered before the instructions; its image and file variables
    // reach the model as a user message ahead of the input.
    const prompt = body.prompt ? await this.promptsService().resolve(owner, body.prompt) : undefined;
    const promptInput = prompt?.media.length ? normalizeInput([{ type: 'message', role: 'user', content: prompt.media }]) : undefined;
    // Guardrails (issue 23): the key's settings, cached (one Map lookup when it has none).
    let rules = this.features.guardrails?.rulesFor(owner.tenant) ?? null;
    if (rules instanceof Promise) rules = await rules;
    const verdict = rules ? evaluate(rules, inputText(input.items, prompt?.variableText)) : undefined;
    const caps = resolved.provider.capabilities(resolved.model);
    if (promptInput) {
      input.hasImages ||= promptInput.hasImages;
      input.hasFiles ||= promptInput.hasFiles;
    }
    if ((input.hasImages && !caps.images) || (input.hasFiles && !caps.files)) {
      throw errors.invalid(`The model '${body.model}' cannot read ${input.hasImages ? 'images' : 'files'}; send text only.`, 'input', 'unsupported_input');
    }
    const include = body.include ?? [];
    const id = newId('resp');
    // Conversation (issue 5): ownership-checked first; its items are this turn's history.
    const conv = body.conversation ? await loadConversationContext(this.store, owner, body.conversation) : undefined;
    const initial = buildInitialResponse(body, id, Math.floor(Date.now() / 1000), conv?.id ?? null, prompt?.echo);
    if (initial.text.format.type === 'json_schema' && !caps.jsonSchema) {
      throw errors.invalid(`The model '${body.model}' cannot enforce a JSON schema.`, 'text.format');
    }
    const prev = body.previous_response_id;
    const chained = prev ? chain?.items(prev) ?? await this.chainItems(owner, prev) : undefined;
    const history = chained ?? conv?.history ?? [];
    // Encrypted reasoning sent back (store: false clients) is opened for the model, or a 400 naming it.
    openInputReasoning(input.items, owner, this.executor.sealer);
    openHistoryReasoning(history, owner, this.executor.sealer);
    const inputItems = this.resolveReferences(input.items, history);
    checkToolOutputs(inputItems, history);
    const newInput = conv ? newInputItems(history, inputItems) : inputItems;
    // Tools (issue 4): a 400 for what cannot run, the chain's tool state, credentials (memory only).
    const tools = await prepareTools({
      rawTools: (body.tools ?? []) as Array<Record<string, any>>, response: initial, history, input: inputItems,
      capabilities: caps, policy: this.toolPolicy, owner,
    });
    // `truncation`: drops the oldest history items when the prompt would not fit (or 400 if disabled).
    const messages = await fitContext({
      provider: resolved.provider, model: resolved.model, truncation: initial.truncation,
      instructions: prompt ? [prompt.text, initial.instructions].filter(Boolean).join('\n\n') : initial.instructions,
      history, input: promptInput ? [...promptInput.items, ...newInput] : newInput, tools: initial.tools, maxOutputTokens: initial.max_output_tokens,
    });
    const run: RunRequest = {
      include, messages, sampling: sentSampling(body), tools: tools.chain, credentialLabels: tools.credentialLabels,
      owner: include.includes(ENCRYPTED_REASONING) ? owner : undefined,
      toolOwner: initial.tools.some((t) => t.type === 'code_interpreter') ? owner : undefined,
    };
    credentialVault.set(id, tools.headers);
    chain?.started(id, chained ? [...chained, ...inputItems] : inputItems);

    const record = store ? {
      id, tenant: owner.tenant, endUser: owner.endUser, createdAt: initial.created_at, status: initial.status,
      background: initial.background, previousResponseId: initial.previous_response_id, conversationId: conv?.id ?? null,
      // Only a queued job is ever run from its stored request; a foreground run that is interrupted is
      // failed, never re-run, so it need not store its (possibly large) prompt a second time.
      lastSeq: -1, metadata: null, snapshot: JSON.stringify(initial), request: initial.background ? JSON.stringify(run) : '{}',
    } : undefined;
    const storedInput = store ? inputItems.map((it) => ({ id: it.id!, json: JSON.stringify(it) })) : [];
    // Foreground responses on one instance are inserted by their first group commit (one transaction
    // fewer per request). Background ones are stored before we answer "queued"; with a shared bus other
    // instances must find the row at once; conversations register pending items against the row.
    const deferInsert = record && !initial.background && !conv && !this.hub.claim;
    if (record && !deferInsert) {
      // Registered before the response exists, so its terminal commit always finds what to append.
      if (conv) await conversationStoreOf(this.store).registerPending(id, conv.id, newInput.map((it) => ({ id: it.id!, json: JSON.stringify(it) })));
      await this.store.createResponse(record, storedInput, []);
    }
    const blocking = !body.stream && !initial.background;
    const log = this.executor.newLog(id, initial, 0, store, blocking, deferInsert ? { record, inputItems: storedInput } : undefined, owner.tenant);
    log.append({ type: 'response.created', response: initial });
    // Blocked by a guardrail: answered with a refusal and no model call (responses/refusal.ts).
    if (verdict && !verdict.passed) return new ResponseHandle(this, id, record, log, include, { done: refuse(log, verdict.rejection_message!), cancel: new Cancel() });
    if (opts.generate === false) return new ResponseHandle(this, id, record, log, include, { done: warmUp(log), cancel: new Cancel() });
    if (initial.background) {
      log.append({ type: 'response.queued', response: initial });
      await this.queue.enqueue(id);
      return new ResponseHandle(this, id, record, log, include);
    }
    return new ResponseHandle(this, id, record, log, include, this.executor.startForeground(log, run, resolved));
  }

  private promptsService(): PromptsService {
    if (!this.features.prompts) throw errors.invalid('This server does not support prompt templates.', 'prompt', 'not_implemented');
    return this.features.prompts;
  }

  private resolveReferences(items: Item[], history: Item[]): Item[] {
    return items.map((it, i) => {
      if (it.type !== 'item_reference') return it;
      const found = history.find((h) => h.id === it.id);
      if (!found) throw errors.invalid(`Item reference '${it.id}' does not name an item of the previous responses.`, `input[${i}].id`);
      return found;
    });
  }

  async list(owner: Owner, q: PageQuery) {
    const recs = await this.store.listResponses(owner, { ...q, limit: q.limit + 1 });
    return toListPage(recs, q.limit, (r) => this.current(r));
  }

  /**
   * Metadata lives apart from the log (see responses/metadata.ts): stored in its own column, and handed
   * to the live log of the instance running the response, here or through the ControlBus.
   */
  async updateMetadata(owner: Owner, id: string, metadata: Record<string, string> | null): Promise<ResponseObject> {
    const rec = await this.load(owner, id);
    const next = metadata ?? {};
    const live = this.hub.local(id);
    // A response not yet inserted is only in memory: its first group commit stores the update with it.
    if (live?.pendingCreate) live.pendingCreate.record.metadata = JSON.stringify(next);
    else await this.store.updateMetadata(id, JSON.stringify(next));
    if (live) live.updateMetadata(next);
    else if (!isTerminalStatus(rec.status)) await this.control.publish({ kind: 'metadata', id, metadata: next });
    return { ...this.current(rec), metadata: next };
  }

  async cancel(owner: Owner, id: string): Promise<ResponseObject> {
    const rec = await this.load(owner, id);
    if (!rec.background) throw errors.invalid('Only background responses can be cancelled.', 'response_id', 'not_background');
    const live = this.hub.local(id);
    const status = live?.state.status ?? rec.status;
    if (status === 'cancelled') return this.current(rec);
    if (isTerminalStatus(status) || live?.terminal) {
      throw errors.invalid(`Cannot cancel a response with status '${live?.state.status ?? status}'; only queued or in-progress responses can be cancelled.`, 'response_id', 'response_not_cancellable');
    }
    return (await endBackground(this, id, 'cancel')) ?? this.current(rec);
  }

  async delete(owner: Owner, id: string) {
    const rec = await this.load(owner, id);
    const live = this.hub.local(id);
    if (live && !live.terminal) {
      if (!this.executor.abort(id, 'cancelled')) finalize(live, { status: 'cancelled' });
      await live.durable();
    } else if (!live && !isTerminalStatus(rec.status)) {
      await this.control.publish({ kind: 'cancel', id });
    }
    // An ended log the store has not taken yet (its commits fail) is written no more: a commit retried
    // once the store is back must not bring back a response answered as deleted.
    if (live) await this.executor.drop(live);
    await this.store.deleteResponse(id);
    this.hub.remove(id);
    return { id, object: 'response' as const, deleted: true };
  }

  /**
   * POST /responses/{id}/wake: delivers `input` to a background response sleeping in a sleep_call, here
   * or (through the ControlBus) on the instance running it. Anything else is a 409.
   */
  async wake(owner: Owner, id: string, input: string): Promise<void> {
    const rec = await this.load(owner, id);
    if (this.executor.sleepers.wake(id, input)) return;
    const state = this.current(rec);
    if (!rec.background || this.hub.local(id) || isTerminalStatus(state.status) || !isSleeping(state)) {
      throw errors.conflict(
        `Response '${id}' is not sleeping (status '${state.status}'): only a background response waiting in a sleep tool call can be woken.`,
        'response_id', 'response_not_sleeping',
      );
    }
    await this.control.publish({ kind: 'wake', id, input });
  }

  async inputItems(owner: Owner, id: string, q: PageQuery) {
    await this.load(owner, id);
    // A running response whose first group commit has not inserted it yet: its items are in memory.
    const pending = this.hub.local(id)?.pendingCreate;
    const oneMore = { ...q, limit: q.limit + 1 };
    const items = pending ? pageItems(pending.inputItems, oneMore) : await this.store.listInputItems(id, oneMore);
    return toListPage(items, q.limit, (it) => JSON.parse(it.json) as Item);
  }
}

/** A function tool's output must answer a call of the chain or of this input (as OpenAI requires). */
function checkToolOutputs(input: Item[], history: Item[]): void {
  let calls: Set<string> | undefined;
  input.forEach((it, i) => {
    if (it.type !== 'function_call_output') return;
    calls ??= new Set([...history, ...input].filter((c) => c.type === 'function_call').map((c) => c.call_id as string));
    if (!calls.has(it.call_id)) {
      throw errors.invalid(`No tool call found for function call output with call_id '${String(it.call_id).slice(0, 100)}'.`, `input[${i}].call_id`);
    }
  });
}
