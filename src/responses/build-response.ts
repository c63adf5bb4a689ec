// Builds the initial Response object from a create request: every accepted parameter is echoed, with
// concrete defaults where OpenAI would say null but the Open Responses schema requires a value.
import type { CreateResponseBody } from '../http/schemas/responses.js';
import { errors } from '../http/errors.js';
import type { Sampling } from './runner.js';
import type { Item, ResponseObject } from './types.js';

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function normalizeTools(tools: CreateResponseBody['tools']): Item[] {
  return (tools ?? []).map((t: Record<string, any>, i): Item => {
    const p = `tools[${i}]`;
    switch (t.type) {
      case 'function': {
        if (typeof t.name !== 'string' || !FUNCTION_NAME.test(t.name)) {
          throw errors.invalid(`'${p}.name' must match ^[a-zA-Z0-9_-]{1,64}$.`, `${p}.name`);
        }
        if (t.parameters !== undefined && t.parameters !== null && (typeof t.parameters !== 'object' || Array.isArray(t.parameters))) {
          throw errors.invalid(`'${p}.parameters' must be a JSON schema object.`, `${p}.parameters`);
        }
        if (t.description !== undefined && t.description !== null && typeof t.description !== 'string') {
          throw errors.invalid(`'${p}.description' must be a string.`, `${p}.description`);
        }
        if (t.strict !== undefined && t.strict !== null && typeof t.strict !== 'boolean') {
          throw errors.invalid(`'${p}.strict' must be a boolean.`, `${p}.strict`);
        }
        return {
          type: 'function', name: t.name, description: t.description ?? '',
          parameters: t.parameters ?? { type: 'object', properties: {} }, strict: t.strict ?? true,
        };
      }
      case 'mcp': {
        if (typeof t.server_label !== 'string' || !t.server_label) throw errors.invalid(`'${p}.server_label' is required.`, `${p}.server_label`);
        if (t.server_url !== undefined && typeof t.server_url !== 'string') throw errors.invalid(`'${p}.server_url' must be a string.`, `${p}.server_url`);
        // Credentials (`headers`, `authorization`) are used at run time but never echoed or stored.
        const { headers: _headers, authorization: _authorization, ...rest } = t;
        return { ...rest, type: 'mcp', require_approval: t.require_approval ?? 'always', allowed_tools: t.allowed_tools ?? null };
      }
      case 'sleep':
        return { type: 'sleep', ...(t.max_seconds !== undefined ? { max_seconds: t.max_seconds } : {}) };
      default:
        throw errors.invalid(`Tool type '${String(t.type)}' is not supported by this server.`, `${p}.type`, 'unsupported_tool');
    }
  });
}

function normalizeToolChoice(choice: CreateResponseBody['tool_choice'], tools: Item[]): unknown {
  if (choice === undefined) return 'auto';
  if (typeof choice === 'string') return choice;
  const c = choice as Record<string, any>;
  if (c.type === 'function') {
    if (typeof c.name !== 'string') throw errors.invalid(`'tool_choice.name' is required for a function tool choice.`, 'tool_choice.name');
    if (!tools.some((t) => t.type === 'function' && t.name === c.name)) {
      throw errors.invalid(`Tool choice '${c.name}' is not one of the declared function tools.`, 'tool_choice');
    }
    return { type: 'function', name: c.name };
  }
  if (c.type === 'mcp') return { type: 'mcp', server_label: c.server_label, ...(c.name ? { name: c.name } : {}) };
  if (c.type === 'allowed_tools') return c;
  throw errors.invalid(`Unsupported tool_choice type '${String(c.type)}'.`, 'tool_choice.type');
}

export function buildInitialResponse(body: CreateResponseBody, id: string, createdAt: number, conversationId: string | null): ResponseObject {
  const tools = normalizeTools(body.tools);
  const f = body.text?.format ?? { type: 'text' as const };
  // json_schema echoes every key the Open Responses schema requires (description, strict).
  const format = f.type === 'json_schema'
    ? { type: 'json_schema', name: f.name, description: f.description ?? null, schema: f.schema, strict: f.strict ?? false }
    : f;
  return {
    id,
    object: 'response',
    created_at: createdAt,
    completed_at: null,
    status: body.background ? 'queued' : 'in_progress',
    background: body.background ?? false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? 30,
    metadata: body.metadata ?? {},
    model: body.model,
    output: [],
    output_text: '',
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    conversation: conversationId ? { id: conversationId } : null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? body.reasoning?.generate_summary ?? null },
    safety_identifier: body.safety_identifier ?? null,
    service_tier: body.service_tier ?? 'auto',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    top_p: body.top_p ?? 1,
    presence_penalty: body.presence_penalty ?? 0,
    frequency_penalty: body.frequency_penalty ?? 0,
    top_logprobs: body.top_logprobs ?? 0,
    text: { format, verbosity: body.text?.verbosity ?? 'medium' },
    tool_choice: normalizeToolChoice(body.tool_choice, tools),
    tools,
    truncation: body.truncation ?? 'auto',
    usage: null,
    user: body.user ?? null,
  };
}

/** The model settings of the request as the client sent them, for the upstream (no defaults added). */
export function sentSampling(body: CreateResponseBody): Sampling {
  const s: Sampling = {};
  if (body.temperature != null) s.temperature = body.temperature;
  if (body.top_p != null) s.top_p = body.top_p;
  if (body.presence_penalty != null) s.presence_penalty = body.presence_penalty;
  if (body.frequency_penalty != null) s.frequency_penalty = body.frequency_penalty;
  if (body.parallel_tool_calls != null) s.parallel_tool_calls = body.parallel_tool_calls;
  if (body.reasoning?.effort != null) s.reasoning_effort = body.reasoning.effort as Sampling['reasoning_effort'];
  return s;
}
