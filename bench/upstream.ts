// The benchmark's OpenAI-compatible upstream: node:http, no framework, fixed replies pre-serialised
// once per shape, so it costs as little CPU as possible and every system under test talks to the
// same thing. Run as its own process: `node dist/bench/upstream.js` prints `{"port":N}` on stdout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LISTED_MODELS, parseModel, type ReplyShape } from './lib/scenarios.js';

const CREATED = Math.floor(Date.now() / 1000);
const TEXT = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore ';
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

interface Prepared {
  /** Non-streamed JSON body. */
  json: Buffer;
  /** Streamed: the first write (role frame + first chunk), the remaining chunk frames, the tail. */
  head: string;
  frames: string[];
  tail: string;
  tailWithUsage: string;
  /** Whole streamed body for delay 0. */
  all: Buffer;
  allWithUsage: Buffer;
}

const cache = new Map<string, Prepared>();

/**
 * Send times of streamed replies whose last user message starts with `timing:` (the scale section's
 * cross-instance latency): wall-clock ms (performance.timeOrigin + performance.now(), the same scale
 * in every process) at which each content chunk was written, keyed by that message; read and
 * forgotten with GET /v1/bench/timings?key=<message>.
 */
const timings = new Map<string, number[]>();
const wallMs = () => performance.timeOrigin + performance.now();

function timingKey(body: any): string | undefined {
  const msgs = Array.isArray(body?.messages) ? body.messages : [];
  const last = msgs[msgs.length - 1]?.content;
  const text = typeof last === 'string' ? last : Array.isArray(last) ? last.map((p: any) => p?.text ?? '').join('') : '';
  return text.startsWith('timing:') ? text : undefined;
}

/** Barrier state per model: streams waiting for the rest of their reply. */
interface Barrier {
  waiting: Array<() => void>;
  active: number;
  released: boolean;
  timer?: NodeJS.Timeout;
}
const barriers = new Map<string, Barrier>();

function prepare(model: string, s: ReplyShape): Prepared {
  let text = TEXT;
  while (text.length < s.chunks * s.chunkSize) text += TEXT;
  const chunks: string[] = [];
  for (let i = 0; i < s.chunks; i++) chunks.push(text.slice(i * s.chunkSize, (i + 1) * s.chunkSize));
  const frame = (delta: object, finish: string | null) => `data: ${JSON.stringify({
    id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  })}\n\n`;
  const frames = chunks.map((c) => frame({ content: c }, null));
  const head = frame({ role: 'assistant', content: '' }, null) + (frames.shift() ?? '');
  const usage = { prompt_tokens: 10, completion_tokens: s.chunks, total_tokens: 10 + s.chunks };
  const finish = frame({}, 'stop');
  const usageFrame = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model, choices: [], usage })}\n\n`;
  const tail = `${finish}data: [DONE]\n\n`;
  const tailWithUsage = `${finish}${usageFrame}data: [DONE]\n\n`;
  const json = Buffer.from(JSON.stringify({
    id: 'chatcmpl-bench', object: 'chat.completion', created: CREATED, model,
    choices: [{ index: 0, message: { role: 'assistant', content: chunks.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage,
  }));
  const body = head + frames.join('');
  return { json, head, frames, tail, tailWithUsage, all: Buffer.from(body + tail), allWithUsage: Buffer.from(body + tailWithUsage) };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

function chat(res: http.ServerResponse, raw: string): void {
  let body: any;
  try {
    body = JSON.parse(raw);
  } catch {
    return sendJson(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error', param: null, code: null } });
  }
  const model = typeof body?.model === 'string' ? body.model : '';
  const shape = parseModel(model);
  if (!shape) return sendJson(res, 404, { error: { message: `model '${model}' not found`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
  let p = cache.get(model);
  if (!p) cache.set(model, (p = prepare(model, shape)));
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': p.json.length });
    res.end(p.json);
    return;
  }
  const usage = body.stream_options?.include_usage === true;
  if (shape.delayMs <= 0) {
    const all = usage ? p.allWithUsage : p.all;
    res.writeHead(200, SSE_HEADERS);
    res.end(all);
    return;
  }
  const key = timingKey(body);
  const sent = key !== undefined ? [] as number[] : undefined;
  if (key !== undefined) timings.set(key, sent!);
  res.writeHead(200, SSE_HEADERS);
  res.write(p.head);
  sent?.push(wallMs());
  const prepared = p;
  let timer: NodeJS.Timeout | undefined;
  const flow = () => {
    let i = 0;
    const frames = prepared.frames;
    timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      if (i < frames.length) {
        res.write(frames[i++]);
        sent?.push(wallMs());
      }
      if (i >= frames.length) {
        clearInterval(timer);
        res.end(usage ? prepared.tailWithUsage : prepared.tail);
      }
    }, shape.delayMs);
  };
  res.on('close', () => clearInterval(timer));
  if (!shape.barrier) return flow();
  let b = barriers.get(model);
  if (!b) barriers.set(model, (b = { waiting: [], active: 0, released: false }));
  const barrier = b;
  barrier.active++;
  res.on('close', () => {
    if (--barrier.active === 0) {
      barrier.released = false;
      barrier.waiting = [];
      clearTimeout(barrier.timer);
    }
  });
  if (barrier.released) return flow();
  barrier.waiting.push(flow);
  const release = () => {
    barrier.released = true;
    clearTimeout(barrier.timer);
    for (const f of barrier.waiting.splice(0)) f();
  };
  if (barrier.waiting.length >= shape.barrier) release();
  // Never hold forever: a client that cannot open them all still gets its streams.
  else if (barrier.waiting.length === 1) barrier.timer = setTimeout(release, 120_000);
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/v1/models') {
    return sendJson(res, 200, { object: 'list', data: LISTED_MODELS.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'bench' })) });
  }
  if (req.method === 'GET' && url.startsWith('/v1/bench/timings?')) {
    const key = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('key') ?? '';
    const sent = timings.get(key);
    timings.delete(key);
    return sendJson(res, sent ? 200 : 404, { key, sent: sent ?? null });
  }
  if (req.method === 'POST' && url === '/v1/chat/completions') {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { raw += c; });
    req.on('end', () => chat(res, raw));
    return;
  }
  sendJson(res, 404, { error: { message: `no route ${req.method} ${url}`, type: 'invalid_request_error', param: null, code: null } });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
