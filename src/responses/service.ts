// The Responses resource: create, retrieve, list, update, cancel, delete, input items. HTTP routes call
// this; it owns ownership checks (foreign ids are reported as not found) and the lifecycle rules.
import type { EventHub, ControlBus, JobQueue } from '../bus/types.js';
import { conversationStoreOf, loadConversationContext, newInputItems } from '../conversations/service.js';
import { errors } from '../http/errors.js';
import type { CreateResponseBody } from '../http/schemas/responses.js';
import type { ProviderRouter, ResolvedModel } from '../providers/router.js';
import { pageItems } from '../store/paging.js';
import type { Owner, PageQuery, ResponseRecord, Store } from '../store/types.js';
import { credentialVault } from '../tools/mcp/credentials.js';
import { prepareTools, type ToolPolicy } from '../tools/prepare.js';
import { isSleeping } from '../tools/sleep/tool.js';
import { buildInitialResponse } from './build-response.js';
import { Executor, type RunRequest } from './executor.js';
import { newId, RESPONSE_ID } from './ids.js';
import { presentResponse, presentStoredResponse } from './include.js';
import { normalizeInput } from './input.js';
import type { LiveLog } from './live-log.js';
import { finalize } from './runner.js';
import { fitContext } from './truncate.js';
import type { Item, ResponseObject } from './types.js';

const owns = (rec: ResponseRecord, o: Owner) => rec.tenant === o.tenant && rec.endUser === o.endUser;

export class ResponsesService {
  constructor(
    readonly store: Store,
    readonly hub: EventHub,
    readonly executor: Executor,
    private readonly router: ProviderRouter,
    private readonly queue: JobQueue,
    private readonly control: ControlBus,
    private readonly toolPolicy: ToolPolicy = { allowPrivateMcp: false },
  ) {}

  /** Loads a response the caller owns; anything else is "not found", never "forbidden". */
  async load(owner: Owner, id: string, param: string | null = null): Promise<ResponseRecord> {
    if (!RESPONSE_ID.test(id)) throw errors.invalid(`Invalid response id '${id.slice(0, 100)}': expected 'resp_' followed by letters and digits.`, param ?? 'response_id');
    // A foreground response is inserted by its first group commit: until then its record lives in memory.
    const rec = (await this.store.getResponse(id)) ?? this.hub.local(id)?.pendingCreate?.record;
    if (!rec || !owns(rec, owner)) throw errors.notFound('Response', id, param);
    return rec;
  }

  current(rec: ResponseRecord): ResponseObject {
    return this.hub.local(rec.id)?.state ?? JSON.parse(rec.snapshot);
  }

  /**
   * What a reader with `include` may see, as JSON text: a response reported finished is also committed
   * (with its conversation items), so a follow-up request that builds on it never races the group
   * commit. A stored response goes out as stored (see presentStoredResponse).
   */
  async settledJson(rec: ResponseRecord, include: string[]): Promise<string> {
    const live = this.hub.local(rec.id);
    if (live?.terminal) await live.durable();
    return live ? JSON.stringify(presentResponse(live.state, include)) : presentStoredResponse(rec.snapshot, include);
  }

  /** Items of every earlier turn of the chain ending at `id`, oldest first. (Public: /responses/compact uses it.) */
  async chainItems(owner: Owner, id: string): Promise<Item[]> {
    const ids: string[] = [];
    let cursor: string | null = id;
    while (cursor && ids.length < 10_000) {
      // A turn that just ended (its client already saw the terminal event) may still be in the group
      // commit: wait for it, so its status and output items are read from the store complete.
      const live = RESPONSE_ID.test(cursor) ? this.hub.local(cursor) : undefined;
      if (live?.terminal) await live.durable();
      const rec: ResponseRecord = await this.load(owner, cursor, 'previous_response_id').catch((e: unknown) => {
        if (cursor === id) throw errors.invalid(`Previous response with id '${id}' not found.`, 'previous_response_id', 'previous_response_not_found');
        throw e;
      });
      if (cursor === id && !Executor.isTerminal(rec.status)) {
        throw errors.invalid(`Previous response '${id}' is still ${rec.status}; wait for it to finish.`, 'previous_response_id');
      }
      ids.unshift(cursor);
      cursor = rec.previousResponseId;
    }
    const items: Item[] = [];
    for (const rid of ids) {
      const t = await this.store.getTurnItems(rid);
      for (const it of [...t.input, ...t.output]) items.push(JSON.parse(it.json));
    }
    return items;
  }

  async create(owner: Owner, body: CreateResponseBody): Promise<{ log: LiveLog; include: string[]; run: RunRequest; resolved: ResolvedModel }> {
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
      throw errors.invalid(`Invalid previous_response_id '${body.previous_response_id.slice(0, 100)}'.`, 'previous_response_id');
    }
    const resolved = await this.router.resolve(body.model);
    const input = normalizeInput(body.input);
    const caps = resolved.provider.capabilities(resolved.model);
    if ((input.hasImages && !caps.images) || (input.hasFiles && !caps.files)) {
      throw errors.invalid(`The model '${body.model}' cannot read ${input.hasImages ? 'images' : 'files'}; send text only.`, 'input', 'unsupported_input');
    }
    const include = body.include ?? [];
    const id = newId('resp');
    // Conversation (issue 5): ownership-checked first; its items are this turn's history.
    const conv = body.conversation ? await loadConversationContext(this.store, owner, body.conversation) : undefined;
    const initial = buildInitialResponse(body, id, Math.floor(Date.now() / 1000), conv?.id ?? null);
    if (initial.text.format.type === 'json_schema' && !caps.jsonSchema) {
      throw errors.invalid(`The model '${body.model}' cannot enforce a JSON schema.`, 'text.format');
    }
    const history = body.previous_response_id ? await this.chainItems(owner, body.previous_response_id) : conv?.history ?? [];
    const inputItems = this.resolveReferences(input.items, history);
    const newInput = conv ? newInputItems(history, inputItems) : inputItems;
    // Tools (issue 4): a 400 for what cannot run, the chain's tool state, credentials (memory only).
    const tools = await prepareTools({
      rawTools: (body.tools ?? []) as Array<Record<string, any>>, response: initial, history, input: inputItems,
      provider: resolved.provider, policy: this.toolPolicy,
    });
    // `truncation`: drops the oldest history items when the prompt would not fit (or 400 if disabled).
    const messages = await fitContext({
      provider: resolved.provider, model: resolved.model, truncation: initial.truncation, instructions: initial.instructions,
      history, input: newInput, tools: initial.tools, maxOutputTokens: initial.max_output_tokens,
    });
    const run: RunRequest = { include, messages, tools: tools.chain, credentialLabels: tools.credentialLabels };
    credentialVault.set(id, tools.headers);

    const record = store ? {
      id, tenant: owner.tenant, endUser: owner.endUser, createdAt: initial.created_at, status: initial.status,
      background: initial.background, previousResponseId: initial.previous_response_id, conversationId: conv?.id ?? null,
      // Only a queued job is ever run from its stored request; a foreground run that is interrupted is
      // failed, never re-run, so it need not store its (possibly large) prompt a second time.
      lastSeq: -1, snapshot: JSON.stringify(initial), request: initial.background ? JSON.stringify(run) : '{}',
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
    const log = this.executor.newLog(id, initial, 0, store, !body.stream && !initial.background);
    if (deferInsert) log.pendingCreate = { record, inputItems: storedInput };
    log.append({ type: 'response.created', response: initial });
    if (initial.background) {
      log.append({ type: 'response.queued', response: initial });
      await this.queue.enqueue(id);
    }
    return { log, include, run, resolved };
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
    const page = recs.slice(0, q.limit);
    return {
      object: 'list' as const,
      data: page.map((r) => this.current(r)),
      first_id: page[0]?.id ?? null,
      last_id: page[page.length - 1]?.id ?? null,
      has_more: recs.length > q.limit,
    };
  }

  async updateMetadata(owner: Owner, id: string, metadata: Record<string, string> | null): Promise<ResponseObject> {
    const rec = await this.load(owner, id);
    const live = this.hub.local(id);
    const next = { ...this.current(rec), metadata: metadata ?? {} };
    if (live) live.state.metadata = next.metadata;
    await this.store.updateSnapshot(id, JSON.stringify(next));
    return next;
  }

  async cancel(owner: Owner, id: string): Promise<ResponseObject> {
    const rec = await this.load(owner, id);
    if (!rec.background) throw errors.invalid('Only background responses can be cancelled.', 'response_id', 'not_background');
    const live = this.hub.local(id);
    const status = live?.state.status ?? rec.status;
    if (status === 'cancelled') return this.current(rec);
    if (Executor.isTerminal(status) || live?.terminal) {
      throw errors.invalid(`Cannot cancel a response with status '${live?.state.status ?? status}'; only queued or in-progress responses can be cancelled.`, 'response_id', 'response_not_cancellable');
    }
    if (live && this.executor.abort(id, 'cancelled')) {
      await live.durable();
      return live.state;
    }
    // Still queued here: end it now; the queue skips terminal responses.
    if (live) return this.endCancelled(live);
    // Scale-out: a job no worker has started is taken back from the shared queue and ended here.
    if (await this.queue.withdraw?.(id)) {
      const now = await this.store.getResponse(id);
      if (!now || Executor.isTerminal(now.status)) return now ? JSON.parse(now.snapshot) : this.current(rec);
      return this.endCancelled(this.executor.newLog(id, JSON.parse(now.snapshot), now.lastSeq + 1, true));
    }
    // Running on another instance: ask it, then wait for the terminal state to reach the store.
    await this.control.publish({ kind: 'cancel', id });
    for (let i = 0; i < 100; i++) {
      const now = await this.store.getResponse(id);
      if (!now || Executor.isTerminal(now.status)) return now ? JSON.parse(now.snapshot) : this.current(rec);
      await new Promise((r) => setTimeout(r, 50));
    }
    const still = await this.store.getResponse(id);
    if (still?.status === 'queued') {
      return this.endCancelled(this.executor.newLog(id, JSON.parse(still.snapshot), still.lastSeq + 1, true));
    }
    throw errors.unavailable('The instance running this response did not confirm the cancel in time; try again.');
  }

  /** Ends a response that no run is driving (queued, or handed back) as cancelled, on this instance. */
  private async endCancelled(log: LiveLog): Promise<ResponseObject> {
    finalize(log, 'response.cancelled', { status: 'cancelled' });
    await log.durable();
    return log.state;
  }

  async delete(owner: Owner, id: string) {
    const rec = await this.load(owner, id);
    const live = this.hub.local(id);
    if (live && !live.terminal) {
      if (!this.executor.abort(id, 'cancelled')) finalize(live, 'response.cancelled', { status: 'cancelled' });
      await live.durable();
    } else if (!live && !Executor.isTerminal(rec.status)) {
      await this.control.publish({ kind: 'cancel', id });
    }
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
    if (!rec.background || this.hub.local(id) || Executor.isTerminal(state.status) || !isSleeping(state)) {
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
    const page = items.slice(0, q.limit).map((it) => JSON.parse(it.json) as Item);
    return {
      object: 'list' as const,
      data: page,
      first_id: page[0]?.id ?? null,
      last_id: page[page.length - 1]?.id ?? null,
      has_more: items.length > q.limit,
    };
  }
}
