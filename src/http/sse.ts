// SSE presentation: the only place event lines become `id:`/`event:`/`data:` frames. Obfuscation and
// logprob filtering are applied here, per reader, so the stored log stays one canonical form.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { lineJson, lineType } from '../wire/event-line.js';
import type { SeqLine } from '../wire/event-line.js';
import { writeStream, type StreamEnd } from './stream-writer.js';

const DELTA_TYPES = new Set([
  'response.output_text.delta', 'response.function_call_arguments.delta', 'response.refusal.delta',
  'response.reasoning_text.delta', 'response.reasoning_summary_text.delta', 'response.mcp_call_arguments.delta',
  'response.custom_tool_call_input.delta',
]);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// A pool of random characters refilled in bulk: a crypto call per event would dominate the hot path.
let pool = '';
function padding(): string {
  if (pool.length < 64) {
    const bytes = randomBytes(4096);
    let s = '';
    for (const b of bytes) s += ALPHABET[b % 62];
    pool += s;
  }
  const n = 1 + (pool.charCodeAt(0) % 16);
  const out = pool.slice(1, 1 + n);
  pool = pool.slice(1 + n);
  return out;
}

export interface FrameOptions {
  obfuscate: boolean;
  /** Rewrites an event's JSON (e.g. strips logprobs) when the reader did not ask for some data. */
  rewrite?: (type: string, json: string) => string;
}

/** An event line's JSON as this reader gets it (any transport: SSE's `data:`, a WebSocket message). */
export function eventJson(type: string, line: string, opts: FrameOptions): string {
  let json = lineJson(line);
  if (opts.rewrite) json = opts.rewrite(type, json);
  if (opts.obfuscate && DELTA_TYPES.has(type)) json = `${json.slice(0, -1)},"obfuscation":"${padding()}"}`;
  return json;
}

export function frame(seq: number, line: string, opts: FrameOptions): string {
  const type = lineType(line);
  return `id: ${seq}\nevent: ${type}\ndata: ${eventJson(type, line, opts)}\n\n`;
}

export function writeSseHead(res: ServerResponse, requestId: string): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': requestId,
  });
}

/** Writes batches of lines as frames through the server's one stream writer (backpressure, client leaving). */
export async function pipeSse(res: ServerResponse, batches: AsyncIterable<SeqLine[]>, opts: FrameOptions, only?: (b: SeqLine[]) => SeqLine[]): Promise<StreamEnd> {
  return writeStream(res, frames(batches, opts, only));
}

async function* frames(batches: AsyncIterable<SeqLine[]>, opts: FrameOptions, only?: (b: SeqLine[]) => SeqLine[]): AsyncGenerator<string> {
  for await (const raw of batches) {
    const batch = only ? only(raw) : raw;
    if (!batch.length) continue;
    // Joined once: appending frame by frame builds a rope of hundreds of pieces that the socket write
    // must then flatten (measured slower).
    const frames = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) frames[i] = frame(batch[i][0], batch[i][1], opts);
    yield frames.join('');
  }
}
