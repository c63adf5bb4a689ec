// The Response object is a projection of its event log: apply() folds one event into the current
// state. Lifecycle events carry full snapshots; item and delta events patch the output in place.
import type { ResponseEvent } from '../wire/events.js';
import type { ResponseObject } from '../wire/types.js';

function outputText(r: ResponseObject): string {
  let text = '';
  for (const item of r.output) {
    if (item.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content) if (part?.type === 'output_text') text += part.text;
  }
  return text;
}

export function apply(state: ResponseObject, ev: ResponseEvent): ResponseObject {
  switch (ev.type) {
    case 'response.created':
    case 'response.queued':
    case 'response.in_progress':
    case 'response.completed':
    case 'response.failed':
    case 'response.incomplete':
    case 'response.cancelled':
      return ev.response;
    case 'response.output_item.added':
    case 'response.output_item.done':
      state.output[ev.output_index] = ev.item;
      if (ev.type === 'response.output_item.done') state.output_text = outputText(state);
      return state;
    case 'response.content_part.added':
    case 'response.content_part.done': {
      const item = state.output[ev.output_index];
      if (item?.content) item.content[ev.content_index] = ev.part;
      return state;
    }
    case 'response.output_text.delta': {
      const part = state.output[ev.output_index]?.content?.[ev.content_index];
      if (part) {
        part.text += ev.delta;
        if (ev.logprobs.length && part.logprobs) part.logprobs.push(...ev.logprobs);
      }
      state.output_text += ev.delta;
      return state;
    }
    case 'response.output_text.annotation.added': {
      const part = state.output[ev.output_index]?.content?.[ev.content_index];
      if (part) (part.annotations ??= []).push(ev.annotation);
      return state;
    }
    case 'response.reasoning_text.delta': {
      const part = state.output[ev.output_index as number]?.content?.[ev.content_index as number];
      if (part) part.text += ev.delta as string;
      return state;
    }
    case 'response.reasoning_summary_part.added':
    case 'response.reasoning_summary_part.done': {
      const item = state.output[ev.output_index as number];
      if (item?.summary) item.summary[ev.summary_index as number] = ev.part;
      return state;
    }
    case 'response.reasoning_summary_text.delta': {
      const part = state.output[ev.output_index as number]?.summary?.[ev.summary_index as number];
      if (part) part.text += ev.delta as string;
      return state;
    }
    case 'response.function_call_arguments.delta':
    case 'response.mcp_call_arguments.delta': {
      const item = state.output[ev.output_index];
      if (item) item.arguments = (item.arguments ?? '') + ev.delta;
      return state;
    }
    case 'response.code_interpreter_call_code.delta': {
      const item = state.output[ev.output_index];
      if (item) item.code = (item.code ?? '') + ev.delta;
      return state;
    }
    case 'response.custom_tool_call_input.delta': {
      const item = state.output[ev.output_index];
      if (item) item.input = (item.input ?? '') + ev.delta;
      return state;
    }
    default:
      return state;
  }
}
