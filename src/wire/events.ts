// The stream events respd emits, before the log numbers them. Names and fields follow the `openai`
// package's ResponseStreamEvent; tool items add their own progress events (`response.<item>.<phase>`).
// The projection folds exactly these, so a new kind of event is added here first.
import type { ErrorCode } from './errors.js';
import { LEGACY_CANCELLED_EVENT, TERMINAL_EVENT, type TerminalEventType } from './status.js';
import type { Item, OutputTextPart, ReasoningPart, ResponseObject } from './types.js';

export type LifecycleEventType = 'response.created' | 'response.queued' | 'response.in_progress' | TerminalEventType;

const LIFECYCLE: ReadonlySet<string> = new Set(['response.created', 'response.queued', 'response.in_progress', ...Object.values(TERMINAL_EVENT), LEGACY_CANCELLED_EVENT]);

/** Lifecycle events carry the whole Response. */
export const isLifecycleEvent = (type: string): type is LifecycleEventType => LIFECYCLE.has(type);

export interface LifecycleEvent {
  type: LifecycleEventType;
  response: ResponseObject;
}

export interface OutputItemEvent {
  type: 'response.output_item.added' | 'response.output_item.done';
  output_index: number;
  item: Item;
}

export interface ContentPartEvent {
  type: 'response.content_part.added' | 'response.content_part.done';
  item_id: string;
  output_index: number;
  content_index: number;
  part: OutputTextPart | ReasoningPart | RefusalPart;
}

/** A refusal content part (a request a guardrail blocked: guardrails/, responses/refusal.ts). */
export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

export interface RefusalDeltaEvent {
  type: 'response.refusal.delta';
  item_id: string;
  output_index: number;
  content_index: number;
  delta: string;
}

export interface RefusalDoneEvent {
  type: 'response.refusal.done';
  item_id: string;
  output_index: number;
  content_index: number;
  refusal: string;
}

/** A reasoning item's text, as the model produces it. */
export interface ReasoningTextDeltaEvent {
  type: 'response.reasoning_text.delta';
  item_id: string;
  output_index: number;
  content_index: number;
  delta: string;
}

export interface ReasoningTextDoneEvent {
  type: 'response.reasoning_text.done';
  item_id: string;
  output_index: number;
  content_index: number;
  text: string;
}

/** A summary the provider gave of its reasoning (never one respd writes). */
export interface ReasoningSummaryPartEvent {
  type: 'response.reasoning_summary_part.added' | 'response.reasoning_summary_part.done';
  item_id: string;
  output_index: number;
  summary_index: number;
  part: ReasoningPart;
}

export interface ReasoningSummaryTextDeltaEvent {
  type: 'response.reasoning_summary_text.delta';
  item_id: string;
  output_index: number;
  summary_index: number;
  delta: string;
}

export interface ReasoningSummaryTextDoneEvent {
  type: 'response.reasoning_summary_text.done';
  item_id: string;
  output_index: number;
  summary_index: number;
  text: string;
}

export interface TextDeltaEvent {
  type: 'response.output_text.delta';
  item_id: string;
  output_index: number;
  content_index: number;
  delta: string;
  logprobs: unknown[];
}

export interface TextDoneEvent {
  type: 'response.output_text.done';
  item_id: string;
  output_index: number;
  content_index: number;
  text: string;
  logprobs: unknown[];
}

/** A citation added to an output text part (file_search results the message used). */
export interface AnnotationAddedEvent {
  type: 'response.output_text.annotation.added';
  item_id: string;
  output_index: number;
  content_index: number;
  annotation_index: number;
  annotation:
    | { type: 'file_citation'; file_id: string; filename: string; index: number }
    | { type: 'url_citation'; url: string; title: string; start_index: number; end_index: number }
    | { type: 'container_file_citation'; container_id: string; file_id: string; filename: string; start_index: number; end_index: number };
}

/** Argument fragments of a call item (function or MCP), in the order the model produced them. */
export interface ArgumentsDeltaEvent {
  type: 'response.function_call_arguments.delta' | 'response.mcp_call_arguments.delta';
  item_id: string;
  output_index: number;
  delta: string;
}

export interface ArgumentsDoneEvent {
  type: 'response.function_call_arguments.done' | 'response.mcp_call_arguments.done';
  item_id: string;
  output_index: number;
  arguments: string;
  name?: string;
}

/** A custom tool call's free-form input (sent whole, once the call is validated). */
export interface CustomToolInputDeltaEvent {
  type: 'response.custom_tool_call_input.delta';
  item_id: string;
  output_index: number;
  delta: string;
}

export interface CustomToolInputDoneEvent {
  type: 'response.custom_tool_call_input.done';
  item_id: string;
  output_index: number;
  input: string;
}

type ToolItem = 'mcp_call' | 'mcp_list_tools' | 'sleep_call' | 'file_search_call' | 'web_search_call' | 'code_interpreter_call' | 'image_generation_call';
type ToolPhase = 'in_progress' | 'searching' | 'interpreting' | 'generating' | 'completed' | 'failed' | 'incomplete';

/** A built-in tool item's progress, e.g. `response.mcp_call.in_progress`: it changes no output. */
export interface ItemProgressEvent {
  type: `response.${ToolItem}.${ToolPhase}`;
  item_id: string;
  output_index: number;
}

/** The code of a code_interpreter_call (sent whole, once the call is validated). */
export interface CodeDeltaEvent {
  type: 'response.code_interpreter_call_code.delta';
  item_id: string;
  output_index: number;
  delta: string;
}

export interface CodeDoneEvent {
  type: 'response.code_interpreter_call_code.done';
  item_id: string;
  output_index: number;
  code: string;
}

/** A partial image an images endpoint streamed while drawing (image_generation); the item's result is the final one. */
export interface ImagePartialEvent {
  type: 'response.image_generation_call.partial_image';
  item_id: string;
  output_index: number;
  partial_image_index: number;
  partial_image_b64: string;
}

/** Sent before `response.failed` when a run breaks: what the SDKs surface as a stream error. */
export interface ErrorEvent {
  type: 'error';
  code: ErrorCode;
  message: string;
  param: string | null;
  error: { type: string; code: ErrorCode; message: string; param: string | null };
}

/**
 * Where a response's events go: its log (responses/live-log.ts). Tools emit their items through this,
 * so they depend on the contract, not on the lifecycle that runs them.
 */
export interface EventSink {
  readonly id: string;
  /** The projection so far (output indexes of new items are its output's length). */
  readonly state: ResponseObject;
  append(ev: ResponseEvent): number;
}

export type ResponseEvent =
  | LifecycleEvent
  | OutputItemEvent
  | ContentPartEvent
  | RefusalDeltaEvent
  | RefusalDoneEvent
  | TextDeltaEvent
  | TextDoneEvent
  | AnnotationAddedEvent
  | ReasoningTextDeltaEvent
  | ReasoningTextDoneEvent
  | ReasoningSummaryPartEvent
  | ReasoningSummaryTextDeltaEvent
  | ReasoningSummaryTextDoneEvent
  | ArgumentsDeltaEvent
  | ArgumentsDoneEvent
  | CustomToolInputDeltaEvent
  | CustomToolInputDoneEvent
  | ItemProgressEvent
  | CodeDeltaEvent
  | CodeDoneEvent
  | ImagePartialEvent
  | ErrorEvent;
