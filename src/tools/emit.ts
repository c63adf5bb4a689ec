// Built-in tool items go through the same event log as messages: output_item.added, the tool's own
// progress events (`response.<item type>.<phase>`, OpenAI's naming), output_item.done. The projection
// folds them like any item, so retrieve and resume see exactly what a live stream saw.
import type { LiveLog } from '../responses/live-log.js';
import type { Item } from '../responses/types.js';

export function openItem(log: LiveLog, item: Item): number {
  const outputIndex = log.state.output.length;
  log.append({ type: 'response.output_item.added', output_index: outputIndex, item });
  return outputIndex;
}

/** A progress event such as `response.mcp_call.in_progress`. */
export function itemEvent(log: LiveLog, type: string, outputIndex: number, itemId: string, extra: Record<string, unknown> = {}): void {
  log.append({ type, item_id: itemId, output_index: outputIndex, ...extra });
}

export function closeItem(log: LiveLog, outputIndex: number, item: Item): void {
  log.append({ type: 'response.output_item.done', output_index: outputIndex, item });
}

/** Emits a finished item in one go (added + done), e.g. an mcp_approval_request. */
export function emitItem(log: LiveLog, item: Item): void {
  const i = openItem(log, item);
  closeItem(log, i, item);
}
