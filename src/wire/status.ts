// A Response's status and which statuses end it. A response ends with exactly one terminal event, named
// by its terminal status; every question "has it ended?" is answered here, from a status or an event type.

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'incomplete';
export type TerminalStatus = 'completed' | 'failed' | 'cancelled' | 'incomplete';

/**
 * The event that ends a response with each terminal status. A cancelled response ends with
 * `response.completed` carrying `status: "cancelled"`: OpenAI's stream has no cancellation event
 * (`response.cancelled` is a webhook event), and the SDKs' stream helpers (Node's ResponseStream,
 * Python's ResponseStreamState) take the final Response only from `response.completed`.
 */
export const TERMINAL_EVENT = {
  completed: 'response.completed',
  failed: 'response.failed',
  incomplete: 'response.incomplete',
  cancelled: 'response.completed',
} as const satisfies Record<TerminalStatus, string>;

/** What ended cancelled responses before; logs stored then still end with it and replay as stored. */
export const LEGACY_CANCELLED_EVENT = 'response.cancelled';

export type TerminalEventType = (typeof TERMINAL_EVENT)[TerminalStatus] | typeof LEGACY_CANCELLED_EVENT;

const TERMINAL_STATUSES: ReadonlySet<string> = new Set(Object.keys(TERMINAL_EVENT));
const TERMINAL_EVENTS: ReadonlySet<string> = new Set([...Object.values(TERMINAL_EVENT), LEGACY_CANCELLED_EVENT]);

export const isTerminalStatus = (status: string): status is TerminalStatus => TERMINAL_STATUSES.has(status);
export const isTerminalEvent = (type: string): type is TerminalEventType => TERMINAL_EVENTS.has(type);
