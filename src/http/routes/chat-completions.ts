// POST /chat/completions, kept for older clients. Backends that speak it natively get a byte-level
// proxy (only `model` is rewritten); the others run through the provider interface and the result is
// rendered as chat-completion JSON or chunks.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { newId } from '../../wire/ids.js';
import type { ChatMessage, ContentPart, FinishReason, GenerateEvent, GenerateRequest, ProxyResult, ReasoningEffort, ToolCall, Usage } from '../../providers/types.js';
import { ProviderError } from '../../providers/types.js';
import { errors, fromBackend } from '../../wire/errors.js';
import type { AppDeps } from '../deps.js';
import type { CancelSignal } from '../../util/cancel.js';
import { cancelOnHangUp } from '../hang-up.js';
import { writeStream } from '../stream-writer.js';
import { evaluate } from '../../guardrails/service.js';
import { TailKeeper, usageFromTail, type ChatTokens } from '../../usage/tail-usage.js';

const noop = () => {};
const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const satisfies readonly ReasoningEffort[];

const ChatBody = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 256 }),
  messages: Type.Array(Type.Object({ role: Type.String() }, { additionalProperties: true }), { minItems: 1, maxItems: 10_000 }),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
  top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
}, { additionalProperties: true });

type Body = Record<string, any>;

/** Chat completions has one finish reason for every token limit. */
const chatFinish = (r: FinishReason) => (r === 'context_length' ? 'length' : r);

/**
 * `withReasoning`: an assistant message's `reasoning_content` (the field this route answers with, and
 * several servers' own) is given back to models that take it (ModelCapabilities.reasoningInput).
 */
function toMessages(raw: Body[], withReasoning: boolean): ChatMessage[] {
  return raw.map((m, i) => {
    const content = m.content;
    const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => p?.text ?? '').join('') : '';
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: m.role, content: text };
      case 'user': {
        if (!Array.isArray(content)) return { role: 'user', content: text };
        const parts: ContentPart[] = content.map((p: any) => (p?.type === 'image_url'
          ? { type: 'image', url: p.image_url?.url ?? '' } : { type: 'text', text: String(p?.text ?? '') }));
        return { role: 'user', content: parts };
      }
      case 'assistant': {
        const calls: ToolCall[] | undefined = Array.isArray(m.tool_calls)
          ? m.tool_calls.map((c: any) => ({ id: String(c.id), name: String(c.function?.name), arguments: String(c.function?.arguments ?? '{}') }))
          : undefined;
        const reasoning = withReasoning && typeof m.reasoning_content === 'string' && m.reasoning_content ? { reasoning: m.reasoning_content } : {};
        return { role: 'assistant', content: text || null, toolCalls: calls, ...reasoning };
      }
      case 'tool':
        return { role: 'tool', toolCallId: String(m.tool_call_id ?? ''), content: text };
      default:
        throw errors.invalid(`Invalid role '${String(m.role)}' at messages[${i}].`, `messages[${i}].role`);
    }
  });
}

/** A turn's usage in Chat Completions' words. */
function chatUsage(u: Usage) {
  return {
    prompt_tokens: u.inputTokens, completion_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens,
    ...(u.reasoningTokens !== undefined ? { completion_tokens_details: { reasoning_tokens: u.reasoningTokens } } : {}),
  };
}

/** Checked here, not in the body schema: a proxied upstream may take values of its own. */
function reasoningEffort(v: unknown): ReasoningEffort | undefined {
  if (v === undefined || v === null) return undefined;
  if (!(EFFORTS as readonly unknown[]).includes(v)) throw errors.invalid(`reasoning_effort must be one of ${EFFORTS.join(', ')}.`, 'reasoning_effort');
  return v as ReasoningEffort;
}

function toRequest(b: Body, model: string, withReasoning: boolean, signal: CancelSignal): GenerateRequest {
  const tools = Array.isArray(b.tools) ? b.tools.filter((t: any) => t?.type === 'function').map((t: any) => ({
    name: t.function?.name, description: t.function?.description, parameters: t.function?.parameters, strict: t.function?.strict,
  })) : undefined;
  const tc = b.tool_choice;
  const rf = b.response_format;
  return {
    model,
    messages: toMessages(b.messages, withReasoning),
    tools: tools?.length ? tools : undefined,
    toolChoice: typeof tc === 'string' ? tc as GenerateRequest['toolChoice'] : tc?.function?.name ? { name: tc.function.name } : undefined,
    parallelToolCalls: b.parallel_tool_calls ?? undefined,
    temperature: b.temperature ?? undefined,
    topP: b.top_p ?? undefined,
    maxOutputTokens: b.max_completion_tokens ?? b.max_tokens ?? undefined,
    responseFormat: rf?.type === 'json_schema' ? { type: 'json_schema', name: rf.json_schema?.name ?? 'output', schema: rf.json_schema?.schema ?? {}, strict: rf.json_schema?.strict }
      : rf?.type === 'json_object' ? { type: 'json_object' } : undefined,
    logprobs: b.logprobs ?? undefined,
    topLogprobs: b.top_logprobs ?? undefined,
    reasoningEffort: reasoningEffort(b.reasoning_effort),
    signal,
  };
}

/**
 * Passes the upstream's answer through; `done` gets the usage read from its last bytes (tail-usage.ts)
 * once the body has ended, when the upstream answered 2xx.
 */
async function proxy(reply: FastifyReply, run: (signal: CancelSignal) => Promise<ProxyResult>, done: (tokens: ChatTokens | undefined) => void) {
  const res = reply.raw;
  const upstream = await run(cancelOnHangUp(res).signal);
  reply.hijack();
  res.writeHead(upstream.status, { ...upstream.headers, 'x-request-id': reply.request.id });
  const ok = upstream.status >= 200 && upstream.status < 300;
  const tail = new TailKeeper();
  try {
    const gone = (await writeStream(res, ok ? tapped(upstream.body, tail) : upstream.body)) === 'client_gone';
    if (ok) done(usageFromTail(tail.text()));
    if (gone) return;
  } catch (err) {
    if (ok) done(usageFromTail(tail.text()));
    reply.log.warn({ err }, 'proxied stream ended early');
    // A sized reply (content-length passed through) cannot be ended short: cut the connection so the
    // client sees the failure instead of waiting for the missing bytes.
    if (upstream.headers['content-length'] !== undefined) {
      res.destroy();
      return;
    }
  }
  res.end();
}

async function* tapped(body: AsyncIterable<Uint8Array>, tail: TailKeeper): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    tail.push(chunk);
    yield chunk;
  }
}

export const chatCompletionsRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  app.post<{ Body: Body }>('/chat/completions', {
    schema: { body: ChatBody, summary: 'Chat completions (OpenAI compatible; deprecated in favour of /responses)', tags: ['chat'] },
  }, async (req, reply) => {
    const b = req.body;
    const resolved = await deps.router.resolve(b.model);
    // Guardrails of the key (issue 23), as for /responses: a blocked request is refused without a model call.
    let rules = deps.guardrails.rulesFor(req.owner.tenant);
    if (rules instanceof Promise) rules = await rules;
    const verdict = rules ? evaluate(rules, userText(b.messages)) : undefined;
    if (verdict && !verdict.passed) return refuseChat(reply, b, verdict.rejection_message!);
    const p = resolved.provider;
    // A stream counts as an open stream of its key (RATE_LIMIT_MAX_STREAMS) until its writer returns.
    const release = b.stream ? deps.limiter?.openStream(req.owner.tenant) ?? noop : noop;
    // The usage ledger (usage/ledger.ts): buffered in process, written in batches off this path.
    const record = (tokens: ChatTokens | undefined) => deps.usage.recordCompletion(req.owner, b.model, tokens, !!b.stream);
    if (p.proxyChatCompletions) {
      try {
        await proxy(reply, (signal) => p.proxyChatCompletions!({ ...b, model: resolved.model }, signal), record);
      } catch (err) {
        if (err instanceof ProviderError) throw fromBackend(err);
        throw err;
      } finally {
        release();
      }
      return;
    }
    const withReasoning = p.capabilities(resolved.model).reasoningInput ?? false;
    const gen = p.generate(toRequest(b, resolved.model, withReasoning, cancelOnHangUp(reply.raw).signal));
    const id = newId('chatcmpl');
    const created = Math.floor(Date.now() / 1000);
    const model = b.model;
    if (b.stream) {
      try {
        return await streamChat(reply, gen, { id, created, model, includeUsage: !!b.stream_options?.include_usage, record });
      } finally {
        release();
      }
    }
    let text = '';
    let reasoning = '';
    const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
    let finish = 'stop';
    let usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    let cached = 0;
    for await (const ev of gen) {
      if (ev.type === 'text') text += ev.delta;
      else if (ev.type === 'reasoning') reasoning += ev.delta;
      else if (ev.type === 'tool_call_start') calls[ev.index] = { id: ev.id, type: 'function', function: { name: ev.name, arguments: '' } };
      else if (ev.type === 'tool_call_delta' && calls[ev.index]) calls[ev.index].function.arguments += ev.delta;
      else if (ev.type === 'usage') {
        usage = chatUsage(ev.usage);
        cached = ev.usage.cachedTokens ?? 0;
      }
      else if (ev.type === 'finish') finish = chatFinish(ev.reason);
    }
    record({ input: usage.prompt_tokens, output: usage.completion_tokens, cached });
    return {
      id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message: { role: 'assistant', content: calls.length ? (text || null) : text, ...(reasoning ? { reasoning_content: reasoning } : {}), ...(calls.length ? { tool_calls: calls.filter(Boolean) } : {}), refusal: null }, finish_reason: finish, logprobs: null }],
      usage,
    };
  });
};

/** What guardrails check of a chat request: the user and tool messages' text (not system/developer/assistant). */
function userText(messages: Body[]): string {
  const out: string[] = [];
  for (const m of messages) {
    if (m?.role !== 'user' && m?.role !== 'tool') continue;
    if (typeof m.content === 'string') out.push(m.content);
    else if (Array.isArray(m.content)) for (const p of m.content) if (typeof p?.text === 'string') out.push(p.text);
  }
  return out.join('\n');
}

/** A blocked chat request: the assistant's `refusal` (OpenAI's field for it), zero usage, JSON or chunks. */
async function refuseChat(reply: FastifyReply, b: Body, message: string) {
  const id = newId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  if (!b.stream) {
    return {
      id, object: 'chat.completion', created, model: b.model, usage,
      choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: message }, finish_reason: 'stop', logprobs: null }],
    };
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: b.model, choices, ...extra })}\n\n`;
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': reply.request.id });
  reply.raw.end(chunk([{ index: 0, delta: { role: 'assistant', content: null, refusal: message }, finish_reason: null }])
    + chunk([{ index: 0, delta: {}, finish_reason: 'stop' }])
    + (b.stream_options?.include_usage ? chunk([], { usage }) : '') + 'data: [DONE]\n\n');
}

type ChunkMeta = { id: string; created: number; model: string; includeUsage: boolean; record: (tokens: ChatTokens | undefined) => void };

async function streamChat(reply: FastifyReply, gen: AsyncIterable<GenerateEvent>, m: ChunkMeta) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': reply.request.id });
  if ((await writeStream(res, chatChunks(gen, m))) === 'done') res.end();
}

/** The chat-completion chunks of a generation, `[DONE]` last; a failure becomes an error frame. */
async function* chatChunks(gen: AsyncIterable<GenerateEvent>, m: ChunkMeta): AsyncGenerator<string> {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id: m.id, object: 'chat.completion.chunk', created: m.created, model: m.model, choices, ...extra })}\n\n`;
  // Recorded whatever include_usage says (the ledger counts every completion), once, however it ends.
  let tokens: ChatTokens | undefined;
  try {
    yield chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    for await (const ev of gen) {
      if (ev.type === 'text') yield chunk([{ index: 0, delta: { content: ev.delta }, finish_reason: null }]);
      else if (ev.type === 'reasoning') yield chunk([{ index: 0, delta: { reasoning_content: ev.delta }, finish_reason: null }]);
      else if (ev.type === 'tool_call_start') yield chunk([{ index: 0, delta: { tool_calls: [{ index: ev.index, id: ev.id, type: 'function', function: { name: ev.name, arguments: '' } }] }, finish_reason: null }]);
      else if (ev.type === 'tool_call_delta') yield chunk([{ index: 0, delta: { tool_calls: [{ index: ev.index, function: { arguments: ev.delta } }] }, finish_reason: null }]);
      else if (ev.type === 'finish') yield chunk([{ index: 0, delta: {}, finish_reason: chatFinish(ev.reason) }]);
      else if (ev.type === 'usage') {
        tokens = { input: ev.usage.inputTokens, output: ev.usage.outputTokens, cached: ev.usage.cachedTokens ?? 0 };
        if (m.includeUsage) yield chunk([], { usage: chatUsage(ev.usage) });
      }
    }
    yield 'data: [DONE]\n\n';
  } catch (err) {
    const message = err instanceof Error ? err.message : 'generation failed';
    yield `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: 'upstream_error' } })}\n\n`;
  } finally {
    m.record(tokens);
  }
}
