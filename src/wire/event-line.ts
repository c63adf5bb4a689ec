// The stored and live form of one event: `<type> <json>` on one line (JSON.stringify never emits a raw
// newline). Replay and SSE framing then need no JSON parsing at all; the sequence number of a line is
// its chunk's first sequence number plus its position.
import { isTerminalEvent } from './status.js';

/** One event line with its sequence number. */
export type SeqLine = [seq: number, line: string];

export function toLine(type: string, json: string): string {
  return `${type} ${json}`;
}

export function lineType(line: string): string {
  return line.slice(0, line.indexOf(' '));
}

export function lineJson(line: string): string {
  return line.slice(line.indexOf(' ') + 1);
}

export function isTerminalLine(line: string): boolean {
  return isTerminalEvent(lineType(line));
}
