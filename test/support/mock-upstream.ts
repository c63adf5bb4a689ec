// A minimal OpenAI-compatible upstream (node:http, no framework) for tests and benchmarks.
//
// Behaviour is chosen per request by the `model` name, so parallel tests sharing one server do
// not interfere; any other model name uses the scenario set with setScenario() (default: text).
//   mock-text            text in N chunks (options.text: chunks / chunkSize / delayMs)
//   mock-slow            text, 20 chunks, 50 ms apart
//   mock-echo            streams back the last user message's text (to assert what the model saw)
//   mock-tool            one tool call, arguments streamed in fragments
//   mock-tool-2          two parallel tool calls
//   mock-error-<NNN>     HTTP NNN with an OpenAI error body (e.g. mock-error-500, mock-error-503)
//   mock-error-<NNN>-once  alternates: HTTP NNN, then a normal text reply, then NNN again…
//                        (mock-error-429-once is "429 once then success" for retry tests)
//   mock-drop            a few chunks, then the socket is destroyed mid-stream
//   mock-continue        CONTINUE_REPLY, one word per chunk, 50 ms apart; with `continue_final_message`
//                        (vLLM's assistant-prefix continuation) it goes on from the last assistant
//                        message's text where that is a prefix of CONTINUE_REPLY (else says MISMATCH)
//   mock-hang            never responds; counted in `aborted` when the client gives up
//   mock-garbage         a non-JSON `data:` line in the middle of the stream
//   mock-agent           a generic tool user: while the request declares tools and its last message is not a
//                        tool result, calls the first (forced) tool with each required string parameter set to
//                        "test"; otherwise answers in text (as the default scenario)
//   mock-script          an agent driven by the last user message, a JSON script (see ScriptSpec):
//                        it makes the scripted tool calls, and once the last message is a tool result
//                        (or the request has no tools) answers `<answer>: <tool results>` in text;
//                        each reply may begin with scripted reasoning (`reasoning_content` or `reasoning`)
// Logprobs are added to content chunks whenever the request asks for them.
//
// The text hot path is pre-serialised and cached (the benchmark drives it): with delayMs 0 a
// streamed reply is a single res.end() of a cached string plus a tiny usage frame.
// The shapes of chunks, usage and logprobs are in mock-chat-frames.ts.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  chunkObj, DONE, frame, ID, lastUserText, reasoningDeltas, reasoningMessage, splitText, SSE_HEADERS, tokenLogprob, usageObj,
  usageWithReasoning, type Json, type ReasoningSpec,
} from './mock-chat-frames.js';

export type { ReasoningSpec } from './mock-chat-frames.js';

export type Scenario =
  | { kind: 'text'; chunks?: number; chunkSize?: number; delayMs?: number; text?: string }
  | { kind: 'tool'; calls?: Array<{ name?: string; arguments: string }>; count?: number; fragmentSize?: number; delayMs?: number; reasoning?: ReasoningSpec }
  | { kind: 'error'; status: number; message?: string; once?: boolean; retryAfter?: number }
  | { kind: 'drop'; afterChunks?: number }
  | { kind: 'hang' }
  | { kind: 'garbage' }
  | { kind: 'echo' }
  | { kind: 'script' }
  | { kind: 'agent' };

/** The script of `mock-script`, sent as the last user message's text (JSON). */
export interface ScriptSpec {
  /** Calls to make; `arguments` is the JSON text exactly as the model would stream it. */
  calls?: Array<{ name: string; arguments: string }>;
  /** Per attempt instead of `calls`: the Nth request carrying this script uses attempts[min(N, last)]. */
  attempts?: Array<Array<{ name: string; arguments: string }>>;
  /** Keep calling even after tool results (for max_tool_calls). */
  loop?: boolean;
  /** Prefix of the final text answer (default "result"). */
  answer?: string;
  /** Reasoning streamed before each reply (calls or answer); `answerReasoning` replaces it before the answer. */
  reasoning?: ReasoningSpec;
  answerReasoning?: ReasoningSpec;
}

export interface MockUpstreamOptions {
  /** Defaults for text replies (mock-text and the default scenario). Default 10 chunks × 8 chars, no delay. */
  text?: { chunks?: number; chunkSize?: number; delayMs?: number };
  /** Scenario for model names that are not reserved (default: text). Same as calling setScenario. */
  scenario?: Scenario;
  /** Model ids listed by GET /v1/models (default: the reserved names). */
  models?: string[];
  /** `max_model_len` listed by GET /v1/models (vLLM's context window field; default 8192). */
  maxModelLen?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401, echoing the key like OpenAI does). */
  apiKey?: string;
}

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface MockUpstream {
  /** http://127.0.0.1:PORT/v1 */
  url: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
  /** The newest chat completion request (never the model catalogue's periodic GET /models listing). */
  lastChat(): RecordedRequest;
  /** Requests whose client disconnected before the response completed. */
  readonly aborted: number;
  /** TCP connections accepted so far (to check that clients reuse keep-alive connections). */
  readonly connections: number;
  setScenario(s: Scenario): void;
}

const RESERVED_MODELS = ['mock-continue', 'mock-text', 'mock-slow', 'mock-echo', 'mock-tool', 'mock-tool-2', 'mock-error-500', 'mock-error-429-once', 'mock-drop', 'mock-hang', 'mock-garbage', 'mock-script', 'mock-agent'];

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: Json;
  bodyBytes: number;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  logprobs: boolean;
  topLogprobs: number;
  /** Set when we destroy the socket ourselves, so it is not counted as a client abort. */
  selfDestroyed: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The whole reply of `mock-continue`, uninterrupted or continued. */
export const CONTINUE_REPLY = Array.from({ length: 40 }, (_, i) => `word${i + 1}`).join(' ') + '.';

export async function startMockUpstream(opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const created = Math.floor(Date.now() / 1000);
  const requests: RecordedRequest[] = [];
  let aborted = 0;
  let fallback: Scenario = opts.scenario ?? { kind: 'text' };
  const textDefaults = opts.text ?? {};
  const onceState = new Map<string, boolean>(); // model -> "the last request failed"
  // Pre-serialised streamed text bodies (without the usage frame), keyed by shape.
  const textCache = new Map<string, { frames: string[]; body: string; chunks: string[] }>();

  function scenarioFor(model: string): Scenario {
    switch (model) {
      case 'mock-text':
        return { kind: 'text', ...textDefaults };
      case 'mock-slow':
        return { kind: 'text', chunks: 20, chunkSize: textDefaults.chunkSize, delayMs: 50 };
      case 'mock-echo':
        return { kind: 'echo' };
      case 'mock-script':
        return { kind: 'script' };
      case 'mock-agent':
        return { kind: 'agent' };
      case 'mock-tool':
        return { kind: 'tool', count: 1 };
      case 'mock-tool-2':
        return { kind: 'tool', count: 2 };
      case 'mock-drop':
        return { kind: 'drop' };
      case 'mock-hang':
        return { kind: 'hang' };
      case 'mock-garbage':
        return { kind: 'garbage' };
    }
    const m = /^mock-error-(\d{3})(-once)?$/.exec(model);
    if (m) return { kind: 'error', status: Number(m[1]), once: m[2] !== undefined };
    return fallback.kind === 'text' ? { ...textDefaults, ...fallback } : fallback;
  }

  type Prepared = { frames: string[]; body: string; chunks: string[] };

  /** Frames of a streamed text reply (minus usage/[DONE]); cached by `key` when one is given. */
  function textFrames(ctx: Ctx, key: string | undefined, makeChunks: () => string[]): Prepared {
    const fullKey = key === undefined ? undefined : `${ctx.model}\0${ctx.logprobs ? ctx.topLogprobs : -1}\0${key}`;
    const hit = fullKey === undefined ? undefined : textCache.get(fullKey);
    if (hit) return hit;
    const chunks = makeChunks();
    const frames = [frame(chunkObj(created, ctx.model, { role: 'assistant', content: '' }, null))];
    chunks.forEach((c, i) => {
      const lp = ctx.logprobs ? { content: [tokenLogprob(c, i, ctx.topLogprobs)] } : null;
      frames.push(frame(chunkObj(created, ctx.model, { content: c }, null, lp)));
    });
    frames.push(frame(chunkObj(created, ctx.model, {}, 'stop')));
    const entry = { frames, body: frames.join(''), chunks };
    if (fullKey !== undefined) textCache.set(fullKey, entry);
    return entry;
  }

  function textKey(s: Extract<Scenario, { kind: 'text' }>): string {
    return `${s.chunks ?? ''}\0${s.chunkSize ?? ''}\0${s.text ?? ''}`;
  }

  function usageFrame(ctx: Ctx, completionTokens: number): string {
    return ctx.includeUsage ? frame({ id: ID, object: 'chat.completion.chunk', created, model: ctx.model, choices: [], usage: usageObj(ctx.bodyBytes, completionTokens) }) : '';
  }

  /** Write frames with an optional delay; stops if the client went away. */
  async function writeFrames(ctx: Ctx, frames: string[], delayMs: number): Promise<void> {
    const { res } = ctx;
    if (!res.headersSent) res.writeHead(200, SSE_HEADERS);
    for (const f of frames) {
      if (res.destroyed) return;
      res.write(f);
      if (delayMs > 0) await sleep(delayMs);
    }
  }

  function sendJson(res: http.ServerResponse, status: number, obj: unknown, extra: Record<string, string> = {}): void {
    const s = JSON.stringify(obj);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s), ...extra });
    res.end(s);
  }

  async function replyText(ctx: Ctx, prepared: Prepared, delayMs: number): Promise<void> {
    const { res } = ctx;
    const chunks = prepared.chunks;
    if (!ctx.stream) {
      // Like a real server: a non-streamed reply comes once the whole text is generated.
      if (delayMs > 0) await sleep(delayMs * chunks.length);
      if (ctx.res.destroyed) return;
      const content = chunks.join('');
      const logprobs = ctx.logprobs ? { content: chunks.map((c, i) => tokenLogprob(c, i, ctx.topLogprobs)) } : null;
      sendJson(res, 200, {
        id: ID,
        object: 'chat.completion',
        created,
        model: ctx.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, logprobs, finish_reason: 'stop' }],
        usage: usageObj(ctx.bodyBytes, chunks.length),
      });
      return;
    }
    const tail = usageFrame(ctx, chunks.length) + DONE;
    if (delayMs <= 0) {
      res.writeHead(200, SSE_HEADERS);
      res.end(prepared.body + tail);
      return;
    }
    await writeFrames(ctx, prepared.frames, delayMs);
    if (!res.destroyed) res.end(tail);
  }

  function plainText(ctx: Ctx, s: Extract<Scenario, { kind: 'text' }>): Prepared {
    return textFrames(ctx, textKey(s), () => splitText(s));
  }

  async function replyTool(ctx: Ctx, s: Extract<Scenario, { kind: 'tool' }>): Promise<void> {
    const toolNames: string[] = Array.isArray(ctx.body.tools) ? ctx.body.tools.map((t: Json) => t?.function?.name).filter(Boolean) : [];
    const defaults: Array<{ name?: string; arguments: string }> = [
      { arguments: '{"city":"Paris","unit":"celsius"}' },
      { arguments: '{"city":"Tokyo","unit":"celsius"}' },
    ];
    const calls = (s.calls ?? defaults.slice(0, s.count ?? 1)).map((c, i) => ({
      id: `call_mock_${i}`,
      name: c.name ?? toolNames[i] ?? toolNames[0] ?? 'get_weather',
      arguments: c.arguments,
    }));
    if (!ctx.stream) {
      if (s.delayMs) await sleep(s.delayMs * calls.length * 4);
      if (ctx.res.destroyed) return;
      sendJson(ctx.res, 200, {
        id: ID,
        object: 'chat.completion',
        created,
        model: ctx.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant', content: null, ...reasoningMessage(s.reasoning),
              tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
            },
            logprobs: null,
            finish_reason: 'tool_calls',
          },
        ],
        usage: usageWithReasoning(ctx.bodyBytes, calls.length * 10, s.reasoning),
      });
      return;
    }
    const size = s.fragmentSize ?? 5;
    const frames = [frame(chunkObj(created, ctx.model, { role: 'assistant', content: null }, null))];
    for (const d of reasoningDeltas(s.reasoning)) frames.push(frame(chunkObj(created, ctx.model, d, null)));
    calls.forEach((c, index) => {
      frames.push(frame(chunkObj(created, ctx.model, { tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, null)));
      for (let i = 0; i < c.arguments.length; i += size) {
        frames.push(frame(chunkObj(created, ctx.model, { tool_calls: [{ index, function: { arguments: c.arguments.slice(i, i + size) } }] }, null)));
      }
    });
    frames.push(frame(chunkObj(created, ctx.model, {}, 'tool_calls')));
    await writeFrames(ctx, frames, s.delayMs ?? 0);
    const usage = ctx.includeUsage ? frame({ id: ID, object: 'chat.completion.chunk', created, model: ctx.model, choices: [], usage: usageWithReasoning(ctx.bodyBytes, calls.length * 10, s.reasoning) }) : '';
    if (!ctx.res.destroyed) ctx.res.end(usage + DONE);
  }

  /** A text reply that begins with reasoning (mock-script). */
  async function replyReasonedText(ctx: Ctx, text: string, r: ReasoningSpec): Promise<void> {
    const chunks = text.match(/.{1,8}/gs) ?? [''];
    if (!ctx.stream) {
      sendJson(ctx.res, 200, {
        id: ID, object: 'chat.completion', created, model: ctx.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text, ...reasoningMessage(r) }, logprobs: null, finish_reason: 'stop' }],
        usage: usageWithReasoning(ctx.bodyBytes, chunks.length, r),
      });
      return;
    }
    const frames = [frame(chunkObj(created, ctx.model, { role: 'assistant', content: '' }, null))];
    for (const d of reasoningDeltas(r)) frames.push(frame(chunkObj(created, ctx.model, d, null)));
    for (const c of chunks) frames.push(frame(chunkObj(created, ctx.model, { content: c }, null)));
    frames.push(frame(chunkObj(created, ctx.model, {}, 'stop')));
    await writeFrames(ctx, frames, 0);
    const usage = ctx.includeUsage ? frame({ id: ID, object: 'chat.completion.chunk', created, model: ctx.model, choices: [], usage: usageWithReasoning(ctx.bodyBytes, chunks.length, r) }) : '';
    if (!ctx.res.destroyed) ctx.res.end(usage + DONE);
  }

  const scriptAttempts = new Map<string, number>();

  /** mock-script: scripted tool calls, then a text answer that quotes the tool results it was given. */
  async function replyScript(ctx: Ctx): Promise<void> {
    const source = lastUserText(ctx.body);
    let spec: ScriptSpec = {};
    try {
      spec = JSON.parse(source);
    } catch {
      /* not a script: answer in text */
    }
    const msgs: Json[] = Array.isArray(ctx.body.messages) ? ctx.body.messages : [];
    const hasTools = Array.isArray(ctx.body.tools) && ctx.body.tools.length > 0;
    const afterTool = msgs[msgs.length - 1]?.role === 'tool';
    const attempt = scriptAttempts.get(source) ?? 0;
    const calls = spec.attempts ? spec.attempts[Math.min(attempt, spec.attempts.length - 1)] : spec.calls;
    if (hasTools && calls?.length && (!afterTool || spec.loop)) {
      scriptAttempts.set(source, attempt + 1);
      return replyTool(ctx, { kind: 'tool', calls, fragmentSize: 4, reasoning: spec.reasoning });
    }
    const results: string[] = [];
    for (let i = msgs.length - 1; i >= 0 && msgs[i]!.role === 'tool'; i--) results.unshift(String(msgs[i]!.content));
    const text = `${spec.answer ?? 'result'}: ${results.join(' | ')}`;
    const reasoning = spec.answerReasoning ?? spec.reasoning;
    if (reasoning) return replyReasonedText(ctx, text, reasoning);
    return replyText(ctx, textFrames(ctx, undefined, () => text.match(/.{1,8}/gs) ?? ['']), 0);
  }

  /** mock-agent: the call a model that always uses its tools would make, then plain text after the result. */
  async function replyAgent(ctx: Ctx): Promise<void> {
    const tools: Json[] = Array.isArray(ctx.body.tools) ? ctx.body.tools : [];
    const msgs: Json[] = Array.isArray(ctx.body.messages) ? ctx.body.messages : [];
    if (tools.length === 0 || msgs[msgs.length - 1]?.role === 'tool' || ctx.body.tool_choice === 'none') {
      return replyText(ctx, plainText(ctx, { kind: 'text', ...textDefaults }), 0);
    }
    const forced = ctx.body.tool_choice?.function?.name;
    const fn = (tools.find((t) => t?.function?.name === forced) ?? tools[0])?.function ?? {};
    const args: Record<string, string> = {};
    for (const k of Array.isArray(fn.parameters?.required) ? fn.parameters.required : []) args[k] = 'test';
    return replyTool(ctx, { kind: 'tool', calls: [{ name: fn.name ?? 'tool', arguments: JSON.stringify(args) }], fragmentSize: 4 });
  }

  function replyError(ctx: Ctx, status: number, message?: string, retryAfter?: number): void {
    const extra: Record<string, string> = retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {};
    const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
    sendJson(ctx.res, status, { error: { message: message ?? `mock upstream error ${status}`, type, param: null, code: null } }, extra);
  }

  async function chat(ctx: Ctx): Promise<void> {
    if (ctx.model === 'mock-continue') {
      const last = ctx.body.messages.at(-1);
      let text = CONTINUE_REPLY;
      if (ctx.body.continue_final_message === true && ctx.body.add_generation_prompt === false && last?.role === 'assistant') {
        const prefix = typeof last.content === 'string' ? last.content : '';
        text = CONTINUE_REPLY.startsWith(prefix) ? CONTINUE_REPLY.slice(prefix.length) : 'MISMATCH';
      }
      return replyText(ctx, textFrames(ctx, undefined, () => text.match(/\s*\S+/g) ?? ['']), 50);
    }
    const s = scenarioFor(ctx.model);
    switch (s.kind) {
      case 'text':
        return replyText(ctx, plainText(ctx, s), s.delayMs ?? 0);
      case 'echo': {
        const text = lastUserText(ctx.body);
        return replyText(ctx, textFrames(ctx, undefined, () => text.match(/\S+\s*|\s+/g) ?? ['']), 0);
      }
      case 'tool':
        return replyTool(ctx, s);
      case 'script':
        return replyScript(ctx);
      case 'agent':
        return replyAgent(ctx);
      case 'error': {
        if (s.once) {
          const failedLast = onceState.get(ctx.model) ?? false;
          onceState.set(ctx.model, !failedLast);
          if (failedLast) return replyText(ctx, plainText(ctx, { kind: 'text', ...textDefaults }), 0);
        }
        return replyError(ctx, s.status, s.message, s.retryAfter);
      }
      case 'drop': {
        const frames = plainText(ctx, { kind: 'text', chunks: 10 }).frames.slice(0, 1 + (s.afterChunks ?? 3));
        await writeFrames(ctx, frames, 0);
        // Let the frames reach the client, then cut the connection without finishing the response.
        await sleep(20);
        ctx.selfDestroyed = true;
        ctx.res.socket?.destroy();
        return;
      }
      case 'hang':
        return; // the response stays open until the client (or close()) ends the socket
      case 'garbage': {
        const frames = plainText(ctx, { kind: 'text', chunks: 4 }).frames.slice();
        frames.splice(2, 0, 'data: {"id":"chatcmpl-mock",this is not json\n\n');
        await writeFrames(ctx, frames, 0);
        if (!ctx.res.destroyed) ctx.res.end(usageFrame(ctx, 4) + DONE);
        return;
      }
    }
  }

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      let body: any;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          body = raw.toString('utf8');
        }
      }
      const path = req.url ?? '/';
      requests.push({ path, headers: req.headers, body });

      const ctx: Ctx = {
        req,
        res,
        body: body && typeof body === 'object' ? body : {},
        bodyBytes: raw.length,
        model: typeof body?.model === 'string' ? body.model : '',
        stream: body?.stream === true,
        includeUsage: body?.stream_options?.include_usage === true,
        logprobs: body?.logprobs === true,
        topLogprobs: typeof body?.top_logprobs === 'number' ? body.top_logprobs : 0,
        selfDestroyed: false,
      };
      res.on('close', () => {
        if (!res.writableFinished && !ctx.selfDestroyed) aborted++;
      });

      if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        const given = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
        return replyError(ctx, 401, `Incorrect API key provided: ${given}`);
      }
      const route = path.split('?')[0];
      if (req.method === 'GET' && route === '/v1/models') {
        const ids = opts.models ?? RESERVED_MODELS;
        return sendJson(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'mock', max_model_len: opts.maxModelLen ?? 8192 })) });
      }
      if (req.method === 'POST' && route === '/v1/embeddings') {
        const input = typeof body?.input === 'string' ? [body.input] : body?.input;
        if (!Array.isArray(input) || input.some((s: unknown) => typeof s !== 'string')) return replyError(ctx, 400, 'input must be text');
        const dims = typeof body.dimensions === 'number' ? body.dimensions : MOCK_EMBEDDING_DIMS;
        return sendJson(res, 200, {
          object: 'list', model: ctx.model,
          data: input.map((s: string, index: number) => ({ object: 'embedding', index, embedding: mockEmbedding(s, dims) })),
          usage: { prompt_tokens: input.reduce((n: number, s: string) => n + s.split(/\s+/).filter(Boolean).length, 0), total_tokens: 0 },
        });
      }
      if (req.method === 'POST' && route === '/v1/chat/completions') {
        if (!body || typeof body !== 'object' || !Array.isArray(body.messages)) return replyError(ctx, 400, 'messages is required');
        chat(ctx).catch(() => {
          if (!res.headersSent) replyError(ctx, 500, 'mock internal error');
          else res.destroy();
        });
        return;
      }
      replyError(ctx, 404, `no route for ${req.method} ${route}`);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  // Avoid Node closing idle keep-alive sockets under a client that is about to reuse them.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    lastChat() {
      const r = requests.filter((q) => q.path.split('?')[0].endsWith('/chat/completions')).at(-1);
      if (!r) throw new Error('the mock upstream has received no chat completion request');
      return r;
    },
    get aborted() {
      return aborted;
    },
    get connections() {
      return connections;
    },
    setScenario(s: Scenario) {
      fallback = s;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const MOCK_EMBEDDING_DIMS = 256;
/**
 * A deterministic embedding: a hashed bag of words, unit length. Words listed together in
 * MOCK_SYNONYMS share a bucket, so texts with no word in common can still be near (what hybrid
 * search must find and lexical search cannot).
 */
export const MOCK_SYNONYMS: string[][] = [['automobile', 'car', 'vehicle'], ['physician', 'doctor'], ['feline', 'cat', 'kitten']];
export function mockEmbedding(text: string, dims = MOCK_EMBEDDING_DIMS): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const raw of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const word = MOCK_SYNONYMS.find((g) => g.includes(raw))?.[0] ?? raw;
    let h = 2166136261;
    for (const ch of word) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    v[h % dims] += 1;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}
