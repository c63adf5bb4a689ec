// Persistence of conversations: an ordered, owned list of items. sqlite/conversations.ts and
// postgres/conversations.ts implement it; the main Store exposes one as `store.conversations`.
//
// Items produced by a response are not written by the service: the service registers them as
// *pending* when the response is created, and the store's group commit appends them (input, then
// output) inside the same transaction that stores the response's terminal event — so a response that
// finished is in its conversation, one that failed or was cancelled adds nothing, and two responses
// racing on one conversation each land as one contiguous block.
import type { Owner, StoredItem } from './types.js';

export interface ConversationRecord {
  id: string;
  tenant: string;
  endUser: string;
  createdAt: number;
  metadata: Record<string, string>;
}

export interface ConversationItemRecord {
  id: string;
  /** JSON of the item. */
  json: string;
  /** The response that produced the item; null for items added through the API. */
  responseId: string | null;
}

export interface ConversationListQuery {
  /** Conversation id cursor. */
  after?: string;
  limit: number;
  /** By last update. */
  order: 'asc' | 'desc';
  /** Every pair must match exactly. */
  metadata?: Record<string, string>;
  /** Full-text: a conversation matches when one of its items contains every word. */
  search?: string;
}

export interface ItemPageQuery {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export interface ConversationStore {
  /** Creates the conversation with its first items (one transaction). */
  createConversation(rec: ConversationRecord, items: StoredItem[]): Promise<void>;
  getConversation(id: string): Promise<ConversationRecord | undefined>;
  listConversations(owner: Owner, q: ConversationListQuery): Promise<ConversationRecord[]>;
  updateConversationMetadata(id: string, metadata: Record<string, string>): Promise<boolean>;
  /** Deletes the conversation and its items. */
  deleteConversation(id: string): Promise<boolean>;
  /** Appends items as one contiguous block; false when the conversation no longer exists. */
  appendItems(conversationId: string, items: StoredItem[], responseId: string | null): Promise<boolean>;
  listItems(conversationId: string, q: ItemPageQuery): Promise<ConversationItemRecord[]>;
  /** Every item, oldest first: what a response on this conversation sees. */
  allItems(conversationId: string): Promise<ConversationItemRecord[]>;
  getItem(conversationId: string, itemId: string): Promise<ConversationItemRecord | undefined>;
  /** All or nothing: returns the ids that do not exist (then nothing was deleted). */
  deleteItems(conversationId: string, itemIds: string[]): Promise<string[]>;
  /** Input items of a response that will be appended, with its output, if it completes. */
  registerPending(responseId: string, conversationId: string, inputItems: StoredItem[]): Promise<void>;
}

/** Statuses whose items are appended to the conversation; failed and cancelled add nothing. */
export const APPENDING_STATUSES: ReadonlySet<string> = new Set(['completed', 'incomplete']);

/** The searchable text of an item: what a person would recognise as its words. */
export function itemText(json: string): string {
  let it: any;
  try {
    it = JSON.parse(json);
  } catch {
    return '';
  }
  const out: string[] = [];
  const parts = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) for (const p of v) out.push(typeof p === 'string' ? p : p?.text ?? p?.refusal ?? '');
  };
  parts(it?.content);
  parts(it?.summary);
  for (const k of ['arguments', 'output', 'encrypted_content', 'name', 'error']) {
    if (typeof it?.[k] === 'string') out.push(it[k]);
    else if (k === 'output') parts(it?.output);
  }
  // NUL is not allowed in PostgreSQL text; it carries no words anyway.
  return out.filter(Boolean).join('\n').replace(/\u0000/g, ' ');
}

/** Words of a search string (letters and digits), at most 32: the same for both backends. */
export function searchTerms(search: string): string[] {
  return (search.normalize('NFKC').match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, 32);
}
