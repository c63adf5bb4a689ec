// The outbox rows a terminal commit writes: OpenAI's response.* webhook event, one row per endpoint of
// the owner's key that takes that event type.
import { createHash } from 'node:crypto';
import type { WebhookEndpoint, WebhookEventType } from '../config/webhooks.js';
import type { OutboxRow } from '../store/types.js';

const TYPES: Record<string, WebhookEventType> = {
  completed: 'response.completed', failed: 'response.failed', incomplete: 'response.incomplete', cancelled: 'response.cancelled',
};

export function outboxRows(endpoints: WebhookEndpoint[], tenant: string | undefined, responseId: string, status: string, nowMs = Date.now()): OutboxRow[] | undefined {
  const type = TYPES[status];
  if (!type || tenant === undefined) return undefined;
  // One terminal event per response: an id derived from the response's makes a retried commit (or a
  // second instance ending it) write the same rows, which the store then ignores.
  const id = `evt_${createHash('sha256').update(responseId).digest('hex').slice(0, 32)}`;
  const event = JSON.stringify({ id, object: 'event', created_at: Math.floor(nowMs / 1000), type, data: { id: responseId } });
  const rows: OutboxRow[] = [];
  endpoints.forEach((e, i) => {
    if (e.tenant === tenant && e.events.includes(type)) rows.push({ id: `${id}:${i}`, tenant, endpoint: e.url, event, createdAt: nowMs });
  });
  return rows.length ? rows : undefined;
}
