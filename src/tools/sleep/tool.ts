// The `sleep` tool. Declared as `{type: "sleep", max_seconds?}`; the model sees a function `sleep`
// taking `{seconds}`; each call becomes a `sleep_call` output item:
//   { type: "sleep_call", id: "slp_…", call_id, status: "in_progress" | "completed" | "incomplete",
//     arguments, seconds, ended_by: null | "timeout" | "wake" | "interrupted", wake_input: null | string }
// with events output_item.added, response.sleep_call.in_progress, response.sleep_call.completed (or
// .incomplete), output_item.done. The model then reads the result as JSON (sleepResultText).
import type { FunctionToolDef } from '../../providers/types.js';
import { newId } from '../../wire/ids.js';
import type { EventSink } from '../../wire/events.js';
import type { Item } from '../../wire/types.js';
import { closeItem, itemEvent, openItem } from '../emit.js';
import type { SleepRegistry } from './registry.js';
import type { CancelSignal } from '../../util/cancel.js';

export const SLEEP_FUNCTION = 'sleep';
export const DEFAULT_MAX_SECONDS = 300;
export const MAX_SECONDS_LIMIT = 3600;

export function maxSecondsOf(tool: Item): number {
  const m = Number(tool.max_seconds ?? DEFAULT_MAX_SECONDS);
  return Number.isFinite(m) ? Math.min(MAX_SECONDS_LIMIT, Math.max(1, m)) : DEFAULT_MAX_SECONDS;
}

export function sleepFunctionDef(tool: Item): FunctionToolDef {
  const max = maxSecondsOf(tool);
  return {
    name: SLEEP_FUNCTION,
    description: `Pause this task for up to ${max} seconds, until new input arrives or the time passes. ` +
      'Use it to wait for an event; the result says whether you were woken (with the input) or timed out.',
    parameters: {
      type: 'object',
      properties: { seconds: { type: 'integer', description: `How long to sleep, 1 to ${max}.` } },
      required: ['seconds'],
      additionalProperties: false,
    },
    strict: true,
  };
}

/** What the model reads back from a finished sleep_call (also used to replay chains). */
export function sleepResultText(item: Item): string {
  if (item.ended_by === 'wake') return JSON.stringify({ ended_by: 'wake', input: item.wake_input ?? '' });
  if (item.ended_by === 'timeout') return JSON.stringify({ ended_by: 'timeout', slept_seconds: item.seconds });
  return JSON.stringify({ ended_by: item.ended_by ?? 'interrupted' });
}

export interface SleepCall {
  callId: string;
  arguments: string;
  args: Record<string, unknown>;
}

/** Runs one sleep call to its end, emitting its item; returns the finished item. */
export async function runSleep(log: EventSink, registry: SleepRegistry, tool: Item, call: SleepCall, signal: CancelSignal): Promise<Item> {
  const requested = Number(call.args.seconds);
  const seconds = Math.min(maxSecondsOf(tool), Math.max(1, Number.isFinite(requested) ? Math.round(requested) : 1));
  const item: Item = {
    id: newId('slp'), type: 'sleep_call', call_id: call.callId, status: 'in_progress', arguments: call.arguments,
    seconds, ended_by: null, wake_input: null,
  };
  // Registered before the item is visible: a client that sees it and wakes at once is never refused.
  const ended = registry.sleep(log.id, seconds * 1000, signal);
  const index = openItem(log, item);
  itemEvent(log, 'response.sleep_call.in_progress', index, item.id!);
  const end = await ended;
  const done: Item = {
    ...item,
    status: end.endedBy === 'interrupted' ? 'incomplete' : 'completed',
    ended_by: end.endedBy,
    wake_input: end.endedBy === 'wake' ? end.input : null,
  };
  itemEvent(log, done.status === 'completed' ? 'response.sleep_call.completed' : 'response.sleep_call.incomplete', index, item.id!);
  closeItem(log, index, done);
  return done;
}

/** Whether a Response projection shows a sleep in progress (how another instance tells it is sleeping). */
export function isSleeping(r: { output: Item[] }): boolean {
  return r.output.some((it) => it.type === 'sleep_call' && it.status === 'in_progress');
}
