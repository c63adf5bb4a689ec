// MKA1's conversations usage (GET /usage/conversations): `organization.usage.conversations.result`s
// computed from the conversations tables (store/usage.ts, conversationRows): conversations created,
// items added, and operations — writes that created a conversation or added items to one.
import type { ConversationUsageRow } from '../store/usage.js';
import { bucketPage, type UsageParams, type UsageSpec } from './query.js';

export const CONVERSATIONS_SPEC: UsageSpec = { groups: ['user_id', 'api_key_id'] };

export interface ConversationsUsageResult {
  object: 'organization.usage.conversations.result';
  num_conversations_created: number;
  num_items_added: number;
  num_operations: number;
  user_id: string | null;
  api_key_id: string | null;
}

export function conversationsUsagePage(p: UsageParams, rows: ConversationUsageRow[], apiKeyId: string) {
  return bucketPage<ConversationUsageRow, ConversationsUsageResult>(p, rows, {
    dims: (_r, userId) => ({
      user_id: p.groupBy.has('user_id') ? userId : null,
      api_key_id: p.groupBy.has('api_key_id') ? apiKeyId : null,
    }),
    empty: (dims) => ({
      object: 'organization.usage.conversations.result', num_conversations_created: 0, num_items_added: 0, num_operations: 0, ...dims,
    } as ConversationsUsageResult),
    add: (acc, r) => {
      acc.num_conversations_created += r.created;
      acc.num_items_added += r.items;
      acc.num_operations += r.operations;
    },
  });
}
