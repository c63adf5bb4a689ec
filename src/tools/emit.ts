// Built-in tool items go through the same event log as messages: output_item.added, the tool's own
// progress events (`response.<item type>.<phase>`, OpenAI's naming), output_item.done. The projection
// folds them like any item, so retrieve and resume see exactly what a live stream saw.
import type { EventSink } from '../wire/events.js';
import type { ArgumentsDeltaEvent, ArgumentsDoneEvent, CodeDeltaEvent, CodeDoneEvent, ItemProgressEvent } from '../wire/events.js';
import type { Item } from '../wire/types.js';

type ItemEvent = ItemProgressEvent | ArgumentsDeltaEvent | ArgumentsDoneEvent | CodeDeltaEvent | CodeDoneEvent;

export function openItem(log: EventSink, item: Item): number {
  const outputIndex = log.state.output.length;
  log.append({ type: 'response.output_item.added', output_index: outputIndex, item });
  return outputIndex;
}

/** A progress event such as `response.mcp_call.in_progress`. */
export function itemEvent<E extends ItemEvent>(log: EventSink, type: E['type'], outputIndex: number, itemId: string, extra?: Omit<E, 'type' | 'item_id' | 'output_index'>): void {
  log.append({ type, item_id: itemId, output_index: outputIndex, ...extra } as E);
}

export function closeItem(log: EventSink, outputIndex: number, item: Item): void {
  log.append({ type: 'response.output_item.done', output_index: outputIndex, item });
}

/** Emits a finished item in one go (added + done), e.g. an mcp_approval_request. */
export function emitItem(log: EventSink, item: Item): void {
  const i = openItem(log, item);
  closeItem(log, i, item);
}
