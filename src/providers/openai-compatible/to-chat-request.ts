// GenerateRequest -> OpenAI Chat Completions request body. Optional fields are only sent when
// set, because strict upstreams (vLLM, some gateways) reject unknown or null-valued parameters
// and we want their defaults to apply otherwise.

import type { ChatMessage, ContentPart, FunctionToolDef, GenerateRequest, ResponseFormat, ToolChoice } from '../types.js';

type Json = Record<string, unknown>;

function contentPart(part: ContentPart): Json {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image': {
      const image_url: Json = { url: part.url };
      if (part.detail) image_url.detail = part.detail;
      return { type: 'image_url', image_url };
    }
    case 'file': {
      const file: Json = {};
      if (part.filename !== undefined) file.filename = part.filename;
      if (part.data !== undefined) file.file_data = part.data;
      if (part.fileId !== undefined) file.file_id = part.fileId;
      // Chat Completions has no standard field for a file URL; pass it for upstreams that read it.
      if (part.url !== undefined && part.data === undefined && part.fileId === undefined) file.file_url = part.url;
      return { type: 'file', file };
    }
  }
}

function message(m: ChatMessage): Json {
  switch (m.role) {
    case 'system':
    case 'developer':
      // 'developer' is OpenAI-only; local servers' chat templates (vLLM, llama.cpp) know 'system',
      // and OpenAI itself treats 'system' as 'developer' for models that distinguish them.
      return { role: 'system', content: m.content };
    case 'user':
      return { role: 'user', content: typeof m.content === 'string' ? m.content : m.content.map(contentPart) };
    case 'assistant': {
      const out: Json = { role: 'assistant', content: m.content };
      // Only set when the provider declared that its models take reasoning back (see ModelCapabilities).
      if (m.reasoning) out.reasoning_content = m.reasoning;
      if (m.toolCalls && m.toolCalls.length > 0) {
        out.tool_calls = m.toolCalls.map((tc) => ({
          id: tc.id,
          type: 'function',
          function: { name: tc.name, arguments: tc.arguments },
        }));
      } else if (m.content === null) {
        // A null content without tool calls is rejected by several servers.
        out.content = '';
      }
      return out;
    }
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  }
}

function tool(t: FunctionToolDef): Json {
  const fn: Json = { name: t.name };
  if (t.description != null) fn.description = t.description;
  if (t.parameters != null) fn.parameters = t.parameters;
  if (t.strict != null) fn.strict = t.strict;
  return { type: 'function', function: fn };
}

function toolChoice(c: ToolChoice): unknown {
  return typeof c === 'string' ? c : { type: 'function', function: { name: c.name } };
}

function responseFormat(f: ResponseFormat): Json | undefined {
  switch (f.type) {
    case 'text':
      return undefined; // the default; omitting it keeps picky upstreams happy
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const json_schema: Json = { name: f.name, schema: f.schema };
      if (f.strict != null) json_schema.strict = f.strict;
      return { type: 'json_schema', json_schema };
    }
  }
}

/**
 * How an upstream continues a trailing assistant message (GenerateRequest.continueFinal), as its
 * configuration declares it: `vllm` (and SGLang) need `continue_final_message` and no generation prompt;
 * `prefill` servers (llama.cpp server) continue a last assistant message by themselves.
 */
export type ContinuationStyle = 'vllm' | 'prefill';
const CONTINUATION_FIELDS: Record<ContinuationStyle, Json> = {
  vllm: { continue_final_message: true, add_generation_prompt: false },
  prefill: {},
};

/** `stream: false` asks for one chat.completion instead of chunks (see Provider.complete). */
export function toChatRequest(req: GenerateRequest, stream = true, continuation?: ContinuationStyle): Json {
  const body: Json = {
    model: req.model,
    messages: req.messages.map(message),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map(tool);
    // tool_choice / parallel_tool_calls without tools is a 400 on OpenAI.
    if (req.toolChoice !== undefined) body.tool_choice = toolChoice(req.toolChoice);
    if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.presencePenalty !== undefined) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
  // `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server accepts it.
  if (req.maxOutputTokens !== undefined) body.max_tokens = req.maxOutputTokens;
  if (req.responseFormat) {
    const rf = responseFormat(req.responseFormat);
    if (rf) body.response_format = rf;
  }
  if (req.logprobs) {
    body.logprobs = true;
    if (req.topLogprobs !== undefined) body.top_logprobs = req.topLogprobs;
  }
  if (req.reasoningEffort !== undefined) body.reasoning_effort = req.reasoningEffort;
  if (req.user !== undefined) body.user = req.user;
  if (req.continueFinal && continuation) Object.assign(body, CONTINUATION_FIELDS[continuation]);
  return body;
}
