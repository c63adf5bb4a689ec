// Turns one model turn's deltas into Responses output items and their stream events: a message with an
// output_text part for text, a function_call item per tool call, each opened, streamed and closed.
import type { TokenLogprob } from '../providers/types.js';
import { newId } from './ids.js';
import type { LiveLog } from './live-log.js';
import type { Item } from './types.js';

interface OpenCall {
  outputIndex: number;
  item: Item;
}

export class TurnOutput {
  private message: { outputIndex: number; item: Item } | null = null;
  private calls = new Map<number, OpenCall>();
  readonly closedCalls: Item[] = [];

  constructor(private readonly log: LiveLog, private readonly withLogprobs: boolean) {}

  private get nextIndex(): number {
    return this.log.state.output.length;
  }

  text(delta: string, logprobs?: TokenLogprob[]): void {
    if (!delta) return;
    if (!this.message) {
      const outputIndex = this.nextIndex;
      const item: Item = { id: newId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      this.message = { outputIndex, item };
      this.log.append({ type: 'response.output_item.added', output_index: outputIndex, item });
      const part = { type: 'output_text', text: '', annotations: [], ...(this.withLogprobs ? { logprobs: [] } : {}) };
      this.log.append({ type: 'response.content_part.added', item_id: item.id, output_index: outputIndex, content_index: 0, part });
    }
    this.log.append({
      type: 'response.output_text.delta', item_id: this.message.item.id, output_index: this.message.outputIndex,
      content_index: 0, delta, logprobs: this.withLogprobs ? logprobs ?? [] : [],
    });
  }

  private closeMessage(status: 'completed' | 'incomplete'): void {
    if (!this.message) return;
    const { outputIndex } = this.message;
    const current = this.log.state.output[outputIndex];
    const part = current.content[0];
    const itemId = current.id;
    this.log.append({
      type: 'response.output_text.done', item_id: itemId, output_index: outputIndex, content_index: 0,
      text: part.text, logprobs: this.withLogprobs ? part.logprobs ?? [] : [],
    });
    this.log.append({ type: 'response.content_part.done', item_id: itemId, output_index: outputIndex, content_index: 0, part });
    this.log.append({ type: 'response.output_item.done', output_index: outputIndex, item: { ...current, status } });
    this.message = null;
  }

  toolStart(index: number, callId: string, name: string): void {
    // Text and calls of one turn are separate items; close the text first so indexes stay ordered.
    this.closeMessage('completed');
    const outputIndex = this.nextIndex;
    const item: Item = { id: newId('fc'), type: 'function_call', status: 'in_progress', arguments: '', call_id: callId, name };
    this.calls.set(index, { outputIndex, item });
    this.log.append({ type: 'response.output_item.added', output_index: outputIndex, item });
  }

  toolDelta(index: number, delta: string): void {
    const call = this.calls.get(index);
    if (!call || !delta) return;
    this.log.append({ type: 'response.function_call_arguments.delta', item_id: call.item.id, output_index: call.outputIndex, delta });
  }

  get callCount(): number {
    return this.calls.size + this.closedCalls.length;
  }

  /** Closes every open item. */
  finish(status: 'completed' | 'incomplete'): void {
    this.closeMessage(status);
    for (const [, call] of [...this.calls].sort((a, b) => a[1].outputIndex - b[1].outputIndex)) {
      const current = this.log.state.output[call.outputIndex];
      this.log.append({
        type: 'response.function_call_arguments.done', item_id: current.id, output_index: call.outputIndex,
        name: current.name, arguments: current.arguments,
      });
      const done = { ...current, status };
      this.log.append({ type: 'response.output_item.done', output_index: call.outputIndex, item: done });
      this.closedCalls.push(done);
    }
    this.calls.clear();
  }
}
