// /conversations routes: thin adapters from HTTP to ConversationService.
import type { FastifyPluginAsync } from 'fastify';
import { ConversationService, conversationStoreOf } from '../../conversations/service.js';
import { parseInclude } from '../../wire/include.js';
import { ErrorBody } from '../../wire/schemas/common.js';
import {
  AddItemsBody, ConversationIdParams, ConversationJson, CreateConversationBody, DeleteItemsBody, DeletedConversation,
  IncludeOnlyQuery, ItemParams, ListConversationsQuery, ListItemsQuery, UpdateConversationBody,
} from '../../wire/schemas/conversations.js';
import type { AppDeps } from '../deps.js';
import { errors } from '../../wire/errors.js';

type ConvReq = { Params: { conversation_id: string } };
type ItemReq = { Params: { conversation_id: string; item_id: string } };
type IncludeQ = { include?: string[]; 'include[]'?: string[] };
const errorResponses = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };
const tags = ['conversations'];

/** The list's metadata filter, from `?metadata=<json>` or `?metadata[key]=value`, with the usual limits. */
function metadataFilter(q: Record<string, unknown>): Record<string, string> | undefined {
  let out: Record<string, unknown> | undefined;
  if (typeof q.metadata === 'string' && q.metadata !== '') {
    try {
      out = JSON.parse(q.metadata);
    } catch {
      throw errors.invalid(`'metadata' must be a JSON object of string values, e.g. {"topic":"billing"}.`, 'metadata');
    }
    if (!out || typeof out !== 'object' || Array.isArray(out)) throw errors.invalid(`'metadata' must be a JSON object.`, 'metadata');
  }
  for (const [k, v] of Object.entries(q)) {
    const m = /^metadata\[(.+)\]$/.exec(k);
    if (m) (out ??= {})[m[1]] = v;
  }
  if (!out) return undefined;
  const entries = Object.entries(out);
  if (entries.length > 16) throw errors.invalid(`'metadata' can have at most 16 keys.`, 'metadata');
  for (const [k, v] of entries) {
    if (k.length > 64) throw errors.invalid(`'metadata' keys can be at most 64 characters.`, 'metadata');
    if (typeof v !== 'string' || v.length > 512) throw errors.invalid(`'metadata.${k.slice(0, 64)}' must be a string of at most 512 characters.`, 'metadata');
  }
  return out as Record<string, string>;
}

export const conversationsRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  // Resolved per request so a store without conversations still starts (the routes answer 501).
  const svc = () => new ConversationService(conversationStoreOf(deps.responses.store));
  const include = (q: IncludeQ) => parseInclude(q.include, q['include[]']);

  app.post<{ Body: CreateConversationBody }>('/conversations', {
    schema: { body: CreateConversationBody, response: { 200: ConversationJson, ...errorResponses }, summary: 'Create a conversation', tags },
  }, async (req) => svc().create(req.owner, req.body));

  app.get<{ Querystring: Record<string, any> }>('/conversations', {
    schema: { querystring: ListConversationsQuery, summary: 'List conversations (by last update)', tags },
  }, async (req) => {
    const q = req.query;
    return svc().list(req.owner, {
      after: q.after, limit: q.limit ?? 20, order: q.order ?? 'asc', metadata: metadataFilter(q), search: q.search || undefined,
    });
  });

  app.get<ConvReq>('/conversations/:conversation_id', {
    schema: { params: ConversationIdParams, response: { 200: ConversationJson, ...errorResponses }, summary: 'Retrieve a conversation', tags },
  }, async (req) => svc().get(req.owner, req.params.conversation_id));

  app.post<ConvReq & { Body: { metadata: Record<string, string> | null } }>('/conversations/:conversation_id', {
    schema: { params: ConversationIdParams, body: UpdateConversationBody, response: { 200: ConversationJson, ...errorResponses }, summary: 'Update conversation metadata', tags },
  }, async (req) => svc().update(req.owner, req.params.conversation_id, req.body.metadata));

  app.delete<ConvReq>('/conversations/:conversation_id', {
    schema: { params: ConversationIdParams, response: { 200: DeletedConversation, ...errorResponses }, summary: 'Delete a conversation', tags },
  }, async (req) => svc().delete(req.owner, req.params.conversation_id));

  app.post<ConvReq & { Body: { items: unknown[] }; Querystring: IncludeQ }>('/conversations/:conversation_id/items', {
    schema: { params: ConversationIdParams, querystring: IncludeOnlyQuery, body: AddItemsBody, summary: 'Add items (1-20)', tags },
  }, async (req) => svc().addItems(req.owner, req.params.conversation_id, req.body.items, include(req.query)));

  app.get<ConvReq & { Querystring: Record<string, any> }>('/conversations/:conversation_id/items', {
    schema: { params: ConversationIdParams, querystring: ListItemsQuery, summary: 'List items', tags },
  }, async (req) => {
    const q = req.query;
    return svc().listItems(req.owner, req.params.conversation_id, { after: q.after, limit: q.limit ?? 20, order: q.order ?? 'asc' }, include(q));
  });

  app.delete<ConvReq & { Body: { item_ids: string[] } }>('/conversations/:conversation_id/items', {
    schema: { params: ConversationIdParams, body: DeleteItemsBody, response: { 200: ConversationJson, ...errorResponses }, summary: 'Delete several items', tags },
  }, async (req) => svc().deleteItems(req.owner, req.params.conversation_id, req.body.item_ids));

  app.get<ItemReq & { Querystring: IncludeQ }>('/conversations/:conversation_id/items/:item_id', {
    schema: { params: ItemParams, querystring: IncludeOnlyQuery, summary: 'Retrieve an item', tags },
  }, async (req) => svc().getItem(req.owner, req.params.conversation_id, req.params.item_id, include(req.query)));

  app.delete<ItemReq>('/conversations/:conversation_id/items/:item_id', {
    schema: { params: ItemParams, response: { 200: ConversationJson, ...errorResponses }, summary: 'Delete an item', tags },
  }, async (req) => svc().deleteItems(req.owner, req.params.conversation_id, [req.params.item_id], 'item_id'));
};
