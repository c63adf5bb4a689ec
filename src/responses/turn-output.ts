// Turns one model turn's deltas into Responses output items and their stream events. Reasoning streams
// live into a reasoning item (one reasoning_text part, and a summary part only when the backend gives
// a summary); text into a message item with one output_text part; each is closed when the other
// begins, so items follow the order the model produced them. Tool calls are buffered until the turn
// ends: their arguments must be complete to be validated (strict schemas) and to tell client function
// calls from built-in tools, and an invalid call must never reach a client. The runner then emits each
// valid function call with the argument fragments exactly as the model produced them.
import type { TokenLogprob } from '../providers/types.js';
import { callItem, ID_PREFIX, type ClientTool } from '../tools/client-tools.js';
import type { BufferedCall } from '../tools/session.js';
import { newId } from '../wire/ids.js';
import type { LiveLog } from './live-log.js';
import type { Item, OutputTextPart, ReasoningPart } from '../wire/types.js';
import { citationsFor, type Citable } from '../tools/file-search/tool.js';
import { urlCitationsFor, type UrlCitable } from '../tools/web-search/tool.js';
import { containerCitationsFor, type ContainerCitable } from '../tools/code-interpreter/tool.js';

/** Seals a reasoning item's text into its `encrypted_content` (include `reasoning.encrypted_content`). */
export type SealReasoning = (text: string) => string;

export class TurnOutput {
  private message: { outputIndex: number; id: string } | null = null;
  private thinking: { outputIndex: number; id: string; text: string; content: boolean; summary: boolean } | null = null;
  /** All reasoning text of this turn (given back to models that take it, see ModelCapabilities). */
  reasoningText = '';
  /** Tool calls by their index in the turn (created on the first: most turns have none). */
  private buffered: Map<number, BufferedCall> | undefined;
  private text_ = '';

  /** Files this message may cite (file_search results earlier in the response). */
  citable: Citable[] = [];
  /** Web pages this message may cite (web_search results earlier in the response). */
  urls: UrlCitable[] = [];
  /** Files code_interpreter wrote earlier in the response. */
  containerFiles: ContainerCitable[] = [];

  constructor(private readonly log: LiveLog, private readonly withLogprobs: boolean, private readonly seal?: SealReasoning) {}

  reasoning(delta: string): void {
    if (!delta) return;
    const r = this.openReasoning();
    if (!r.content) {
      r.content = true;
      this.log.append({ type: 'response.content_part.added', item_id: r.id, output_index: r.outputIndex, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    }
    r.text += delta;
    this.reasoningText += delta;
    this.log.append({ type: 'response.reasoning_text.delta', item_id: r.id, output_index: r.outputIndex, content_index: 0, delta });
  }

  reasoningSummary(delta: string): void {
    if (!delta) return;
    const r = this.openReasoning();
    const base = { item_id: r.id, output_index: r.outputIndex, summary_index: 0 };
    if (!r.summary) {
      r.summary = true;
      this.log.append({ type: 'response.reasoning_summary_part.added', ...base, part: { type: 'summary_text', text: '' } });
    }
    this.log.append({ type: 'response.reasoning_summary_text.delta', ...base, delta });
  }

  private openReasoning(): NonNullable<TurnOutput['thinking']> {
    if (this.thinking) return this.thinking;
    this.closeMessage('completed');
    const outputIndex = this.log.state.output.length;
    const id = newId('rs');
    const item: Item = { id, type: 'reasoning', status: 'in_progress', summary: [], content: [] };
    this.thinking = { outputIndex, id, text: '', content: false, summary: false };
    this.log.append({ type: 'response.output_item.added', output_index: outputIndex, item });
    return this.thinking;
  }

  private closeReasoning(status: 'completed' | 'incomplete'): void {
    const r = this.thinking;
    if (!r) return;
    this.thinking = null;
    const current = this.log.state.output[r.outputIndex];
    const base = { item_id: r.id, output_index: r.outputIndex };
    if (r.summary) {
      const part = current.summary[0];
      this.log.append({ type: 'response.reasoning_summary_text.done', ...base, summary_index: 0, text: part.text });
      this.log.append({ type: 'response.reasoning_summary_part.done', ...base, summary_index: 0, part });
    }
    const part: ReasoningPart = { type: 'reasoning_text', text: r.text };
    if (r.content) {
      this.log.append({ type: 'response.reasoning_text.done', ...base, content_index: 0, text: r.text });
      this.log.append({ type: 'response.content_part.done', ...base, content_index: 0, part });
    }
    const done: Item = { ...current, status, content: r.content ? [part] : [] };
    if (this.seal) done.encrypted_content = this.seal(r.text);
    this.log.append({ type: 'response.output_item.done', output_index: r.outputIndex, item: done });
  }

  text(delta: string, logprobs?: TokenLogprob[]): void {
    if (!delta) return;
    this.closeReasoning('completed');
    if (!this.message) {
      const outputIndex = this.log.state.output.length;
      const id = newId('msg');
      const item: Item = { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      this.message = { outputIndex, id };
      this.log.append({ type: 'response.output_item.added', output_index: outputIndex, item });
      const part: OutputTextPart = { type: 'output_text', text: '', annotations: [] };
      if (this.withLogprobs) part.logprobs = [];
      this.log.append({ type: 'response.content_part.added', item_id: id, output_index: outputIndex, content_index: 0, part });
    }
    this.text_ += delta;
    this.log.append({
      type: 'response.output_text.delta', item_id: this.message.id, output_index: this.message.outputIndex,
      content_index: 0, delta, logprobs: this.withLogprobs ? logprobs ?? [] : [],
    });
  }

  /**
   * Continues a message cut off when its instance died (see continuation.ts): new deltas go to the same
   * item and part, and its end carries the committed text plus the continuation.
   */
  resumeMessage(outputIndex: number, id: string, text: string): void {
    this.message = { outputIndex, id };
    this.text_ = text;
  }

  /** Closes the open reasoning or message item, if any; returns this turn's text. */
  closeText(status: 'completed' | 'incomplete'): string {
    this.closeReasoning(status);
    this.closeMessage(status);
    return this.text_;
  }

  private closeMessage(status: 'completed' | 'incomplete'): void {
    if (!this.message) return;
    const { outputIndex, id: itemId } = this.message;
    const current = this.log.state.output[outputIndex];
    const part = current.content[0];
    if (status === 'completed' && (this.citable.length || this.urls.length || this.containerFiles.length)) {
      const annotations = [
        ...(this.citable.length ? citationsFor(part.text, this.citable) : []),
        ...(this.urls.length ? urlCitationsFor(part.text, this.urls) : []),
        ...(this.containerFiles.length ? containerCitationsFor(part.text, this.containerFiles) : []),
      ];
      annotations.forEach((annotation, i) => this.log.append({
        type: 'response.output_text.annotation.added', item_id: itemId, output_index: outputIndex, content_index: 0,
        annotation_index: i, annotation,
      }));
    }
    this.log.append({
      type: 'response.output_text.done', item_id: itemId, output_index: outputIndex, content_index: 0,
      text: part.text, logprobs: this.withLogprobs ? part.logprobs ?? [] : [],
    });
    this.log.append({ type: 'response.content_part.done', item_id: itemId, output_index: outputIndex, content_index: 0, part });
    this.log.append({ type: 'response.output_item.done', output_index: outputIndex, item: { ...current, status } });
    this.message = null;
  }

  toolStart(index: number, callId: string, name: string): void {
    this.buffered ??= new Map();
    if (this.buffered.has(index)) return;
    this.buffered.set(index, { callId, name, fragments: [], arguments: '' });
  }

  toolDelta(index: number, delta: string): void {
    const call = this.buffered?.get(index);
    if (!call || !delta) return;
    call.fragments.push(delta);
    call.arguments += delta;
  }

  get callCount(): number {
    return this.buffered?.size ?? 0;
  }

  /** The turn's calls in the order the model started them. */
  get calls(): BufferedCall[] {
    return this.buffered ? [...this.buffered.values()] : [];
  }

  /**
   * Emits a validated call to a client-executed tool as its own item type: a function call with its
   * argument deltas, a custom tool call with its input (custom_tool_call_input.delta/done), the others
   * (shell, patch, computer) as added + done.
   */
  emitClientCall(call: BufferedCall, tool: ClientTool): Item {
    if (tool.kind === 'function') return this.emitFunctionCall(call, tool.name, tool.namespace);
    const outputIndex = this.log.state.output.length;
    const id = newId(ID_PREFIX[tool.kind]);
    const done = callItem(tool, id, call.callId, call.arguments);
    if (tool.kind === 'custom') {
      this.log.append({ type: 'response.output_item.added', output_index: outputIndex, item: { ...done, input: '' } });
      this.log.append({ type: 'response.custom_tool_call_input.delta', item_id: id, output_index: outputIndex, delta: done.input });
      this.log.append({ type: 'response.custom_tool_call_input.done', item_id: id, output_index: outputIndex, input: done.input });
    } else {
      this.log.append({ type: 'response.output_item.added', output_index: outputIndex, item: { ...done, status: 'in_progress' } });
    }
    this.log.append({ type: 'response.output_item.done', output_index: outputIndex, item: done });
    return done;
  }

  /** Emits a validated client function call: added, its argument deltas, arguments.done, item done. */
  emitFunctionCall(call: BufferedCall, name = call.name, namespace?: string): Item {
    const outputIndex = this.log.state.output.length;
    const id = newId('fc');
    const item: Item = {
      id, type: 'function_call', status: 'in_progress', arguments: '', call_id: call.callId, name,
      ...(namespace ? { namespace } : {}),
    };
    this.log.append({ type: 'response.output_item.added', output_index: outputIndex, item });
    for (const delta of call.fragments) {
      this.log.append({ type: 'response.function_call_arguments.delta', item_id: id, output_index: outputIndex, delta });
    }
    this.log.append({ type: 'response.function_call_arguments.done', item_id: id, output_index: outputIndex, name, arguments: call.arguments });
    const done = { ...item, arguments: call.arguments, status: 'completed' };
    this.log.append({ type: 'response.output_item.done', output_index: outputIndex, item: done });
    return done;
  }
}
