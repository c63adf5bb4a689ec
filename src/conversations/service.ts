// The Conversations resource: ownership (foreign ids are "not found", as for responses), validation of
// items with the param paths clients expect, and the wire shapes. Storage is a ConversationStore.
import { ApiError, errors } from '../wire/errors.js';
import { presentInputItem } from '../wire/include.js';
import { newId } from '../wire/ids.js';
import { normalizeInput } from '../wire/input.js';
import type { Item } from '../wire/types.js';
import type { ConversationItemRecord, ConversationListQuery, ConversationRecord, ConversationStore, ItemPageQuery } from '../store/conversations.js';
import type { Owner, Store, StoredItem } from '../store/types.js';
import { toListPage } from '../store/paging.js';

export const CONVERSATION_ID = /^conv[-_][a-zA-Z0-9]+$/;

export interface ConversationObject {
  id: string;
  object: 'conversation';
  created_at: number;
  metadata: Record<string, string>;
}

const owns = (rec: ConversationRecord, o: Owner) => rec.tenant === o.tenant && rec.endUser === o.endUser;

export function present(rec: ConversationRecord, extraMetadata?: Record<string, string>): ConversationObject {
  return { id: rec.id, object: 'conversation', created_at: rec.createdAt, metadata: { ...rec.metadata, ...extraMetadata } };
}

/** An item as the API shows it: the stored item plus the response that produced it. */
export function presentItem(r: ConversationItemRecord, include: string[] = []): Item {
  return { ...presentInputItem(JSON.parse(r.json) as Item, include), response_id: r.responseId };
}

export function conversationStoreOf(store: Store): ConversationStore {
  if (!store.conversations) throw new ApiError('not_implemented', `Conversations are not available with the '${store.kind}' store.`);
  return store.conversations;
}

/**
 * Validates items for a conversation. input.ts names params `input[i]…`; here the field is `items`,
 * so errors are re-labelled. References make no sense inside a conversation and are refused.
 */
export function normalizeItems(raw: unknown[], existing: ReadonlySet<string> = new Set()): StoredItem[] {
  let items: Item[];
  try {
    items = normalizeInput(raw).items;
  } catch (e) {
    if (!(e instanceof ApiError) || !e.param?.startsWith('input')) throw e;
    const param = `items${e.param.slice('input'.length)}`;
    throw new ApiError(e.code, e.message.replaceAll(e.param, param), param, e.headers, e.status);
  }
  const seen = new Set(existing);
  return items.map((it, i) => {
    if (it.type === 'item_reference') throw errors.invalid(`'items[${i}]': item references cannot be added to a conversation; add the item itself.`, `items[${i}].type`);
    if (seen.has(it.id!)) throw errors.invalid(`An item with id '${it.id}' is already in this conversation.`, `items[${i}].id`, 'duplicate_item_id');
    seen.add(it.id!);
    return { id: it.id!, json: JSON.stringify(it) };
  });
}

/** For POST /responses with `conversation`: the conversation, checked for ownership, and its items. */
export async function loadConversationContext(store: Store, owner: Owner, ref: string | { id: string }): Promise<{ id: string; history: Item[] }> {
  const id = typeof ref === 'string' ? ref : ref.id;
  const svc = new ConversationService(conversationStoreOf(store));
  await svc.load(owner, id, 'conversation');
  const history = (await svc.store.allItems(id)).map((r) => JSON.parse(r.json) as Item);
  return { id, history };
}

/**
 * Input items a response on a conversation adds: those not already in it. Clients often send back an
 * item they got from the conversation (a function_call before its output, a resolved reference); it
 * is neither shown to the model twice nor appended twice.
 */
export function newInputItems(history: Item[], input: Item[]): Item[] {
  const known = new Set(history.map((h) => h.id));
  return input.filter((it) => !known.has(it.id));
}

export class ConversationService {
  constructor(readonly store: ConversationStore) {}

  async load(owner: Owner, id: string, param = 'conversation_id'): Promise<ConversationRecord> {
    if (!CONVERSATION_ID.test(id)) throw errors.invalid(`Invalid conversation id '${id.slice(0, 100)}': expected 'conv_' followed by letters and digits.`, param);
    const rec = await this.store.getConversation(id);
    if (!rec || !owns(rec, owner)) throw errors.notFound('Conversation', id, param);
    return rec;
  }

  async create(owner: Owner, body: { items?: unknown[] | null; metadata?: Record<string, string> | null }): Promise<ConversationObject> {
    const items = normalizeItems(body.items ?? []);
    const rec: ConversationRecord = {
      id: newId('conv'), tenant: owner.tenant, endUser: owner.endUser, createdAt: Math.floor(Date.now() / 1000), metadata: body.metadata ?? {},
    };
    await this.store.createConversation(rec, items);
    return present(rec);
  }

  async list(owner: Owner, q: ConversationListQuery) {
    const recs = await this.store.listConversations(owner, { ...q, limit: q.limit + 1 });
    return toListPage(recs, q.limit, (r) => present(r));
  }

  async get(owner: Owner, id: string): Promise<ConversationObject> {
    return present(await this.load(owner, id));
  }

  async update(owner: Owner, id: string, metadata: Record<string, string> | null): Promise<ConversationObject> {
    const rec = await this.load(owner, id);
    rec.metadata = metadata ?? {};
    if (!(await this.store.updateConversationMetadata(id, rec.metadata))) throw errors.notFound('Conversation', id, 'conversation_id');
    return present(rec);
  }

  async delete(owner: Owner, id: string) {
    await this.load(owner, id);
    await this.store.deleteConversation(id);
    return { id, object: 'conversation.deleted' as const, deleted: true };
  }

  async addItems(owner: Owner, id: string, raw: unknown[], include: string[]) {
    await this.load(owner, id);
    // The duplicate-id check reads ids outside the append's transaction; a racing add of the same
    // client-chosen id can still slip through, which only makes `get item` return the older one.
    const existing = new Set((await this.store.allItems(id)).map((r) => r.id));
    const items = normalizeItems(raw, existing);
    if (!(await this.store.appendItems(id, items, null))) throw errors.notFound('Conversation', id, 'conversation_id');
    return toListPage(items, items.length, (it) => presentItem({ id: it.id, json: it.json, responseId: null }, include));
  }

  async listItems(owner: Owner, id: string, q: ItemPageQuery, include: string[]) {
    await this.load(owner, id);
    const rows = await this.store.listItems(id, { ...q, limit: q.limit + 1 });
    return toListPage(rows, q.limit, (r) => presentItem(r, include));
  }

  async getItem(owner: Owner, id: string, itemId: string, include: string[]): Promise<Item> {
    await this.load(owner, id);
    const row = await this.store.getItem(id, itemId);
    if (!row) throw errors.notFound('Item', itemId, 'item_id');
    return presentItem(row, include);
  }

  /** Deletes items (all or none) and returns the conversation, naming the last one removed. */
  async deleteItems(owner: Owner, id: string, itemIds: string[], param = 'item_ids'): Promise<ConversationObject> {
    const rec = await this.load(owner, id);
    const missing = await this.store.deleteItems(id, itemIds);
    if (missing.length) throw errors.notFound('Item', missing[0], param);
    // Reported, not stored: the caller's own metadata (and its 16-key budget) stays untouched.
    return present(rec, { last_removed_item_id: itemIds[itemIds.length - 1] });
  }
}
