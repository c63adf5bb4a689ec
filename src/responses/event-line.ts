// The stored and live form of one event: `<type> <json>` on one line (JSON.stringify never emits a raw
// newline). Replay and SSE framing then need no JSON parsing at all; the sequence number of a line is
// its chunk's first sequence number plus its position.

export function toLine(type: string, json: string): string {
  return `${type} ${json}`;
}

export function lineType(line: string): string {
  return line.slice(0, line.indexOf(' '));
}

export function lineJson(line: string): string {
  return line.slice(line.indexOf(' ') + 1);
}

/**
 * The event that ends a cancelled response: `response.completed` carrying `status: "cancelled"`.
 * OpenAI's stream has no cancellation event, and the SDKs' stream helpers (Node's ResponseStream,
 * Python's ResponseStreamState) take the final Response only from `response.completed`.
 */
export const CANCELLED_EVENT = 'response.completed';

// `response.cancelled` ended cancelled responses before; logs stored then still end with it.
export const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  'response.completed', 'response.failed', 'response.incomplete', 'response.cancelled',
]);

export function isTerminalLine(line: string): boolean {
  return TERMINAL_EVENTS.has(lineType(line));
}
