// Schemas of the Conversations endpoints (OpenAI's shapes; list/search/metadata filter from MKA1).
import { Type, type Static } from '@sinclair/typebox';
import { AnyObject, IncludeQuery, Metadata, Nullable } from './common.js';

export const ConversationIdParams = Type.Object({ conversation_id: Type.String({ minLength: 1, maxLength: 256 }) });
export const ItemParams = Type.Object({
  conversation_id: Type.String({ minLength: 1, maxLength: 256 }),
  item_id: Type.String({ minLength: 1, maxLength: 256 }),
});

export const CreateConversationBody = Type.Object({
  items: Type.Optional(Nullable(Type.Array(AnyObject, { maxItems: 20 }))),
  metadata: Type.Optional(Nullable(Metadata)),
}, { additionalProperties: false });
export type CreateConversationBody = Static<typeof CreateConversationBody>;

export const UpdateConversationBody = Type.Object({ metadata: Nullable(Metadata) }, { additionalProperties: false });

export const AddItemsBody = Type.Object({
  items: Type.Array(AnyObject, { minItems: 1, maxItems: 20 }),
}, { additionalProperties: false });

export const DeleteItemsBody = Type.Object({
  item_ids: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 100 }),
}, { additionalProperties: false });

export const IncludeOnlyQuery = Type.Object({
  include: Type.Optional(IncludeQuery),
  'include[]': Type.Optional(IncludeQuery),
}, { additionalProperties: false });

const order = Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')]));

export const ListItemsQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 256 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  order,
  include: Type.Optional(IncludeQuery),
  'include[]': Type.Optional(IncludeQuery),
}, { additionalProperties: false });

/**
 * `metadata` is a JSON object in a string (`?metadata={"k":"v"}`) or bracket pairs (`?metadata[k]=v`),
 * the two ways clients put an object in a query string; both are checked in the route.
 */
export const ListConversationsQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 256 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  order,
  metadata: Type.Optional(Type.String({ maxLength: 16 * 1024 })),
  search: Type.Optional(Type.String({ maxLength: 1000 })),
}, { additionalProperties: false, patternProperties: { '^metadata\\[[^\\]]{1,64}\\]$': Type.String({ maxLength: 512 }) } });

export const ConversationJson = Type.Object({
  id: Type.String(),
  object: Type.Literal('conversation'),
  created_at: Type.Integer(),
  metadata: Type.Record(Type.String(), Type.String()),
});

export const DeletedConversation = Type.Object({ id: Type.String(), object: Type.Literal('conversation.deleted'), deleted: Type.Boolean() });
