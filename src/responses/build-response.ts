// Builds the initial Response object from a create request: every accepted parameter is echoed, with
// concrete defaults where OpenAI would say null but the Open Responses schema requires a value.
import type { CreateResponseBody } from '../wire/schemas/responses.js';
import { errors } from '../wire/errors.js';
import { isLocalShell } from '../tools/client-tools.js';
import { WEB_SEARCH_TYPES } from '../tools/web-search/tool.js';
import { HOSTED_TOOL_TYPES } from '../tools/hosted.js';
import { checkSpecParts, CONTAINER_ID } from '../containers/service.js';
import { IMAGE_GENERATION_TYPE, normalizeImageGenerationTool } from '../tools/image-generation/tool.js';
import type { Item, ResponseObject } from '../wire/types.js';
import type { Sampling } from './runner.js';

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;


/** The web_search tool's shape (OpenAI's WebSearchTool and the preview's fields), with its defaults. */
function normalizeWebSearch(t: Record<string, any>, p: string): Item {
  const f = t.filters;
  if (f !== undefined && f !== null) {
    const d = f?.allowed_domains;
    if (typeof f !== 'object' || Array.isArray(f) || (d !== undefined && d !== null && (!Array.isArray(d) || d.length > 100 || !d.every((x: unknown) => typeof x === 'string' && x.length > 0 && x.length <= 253)))) {
      throw errors.invalid(`'${p}.filters.allowed_domains' must be a list of up to 100 domain names.`, `${p}.filters.allowed_domains`);
    }
  }
  const size = t.search_context_size;
  if (size !== undefined && size !== null && !['low', 'medium', 'high'].includes(size)) {
    throw errors.invalid(`'${p}.search_context_size' must be 'low', 'medium' or 'high'.`, `${p}.search_context_size`);
  }
  const loc = t.user_location;
  if (loc !== undefined && loc !== null) {
    if (typeof loc !== 'object' || Array.isArray(loc)) throw errors.invalid(`'${p}.user_location' must be an object.`, `${p}.user_location`);
    for (const k of ['city', 'country', 'region', 'timezone']) {
      if (loc[k] !== undefined && loc[k] !== null && (typeof loc[k] !== 'string' || loc[k].length > 200)) throw errors.invalid(`'${p}.user_location.${k}' must be a string.`, `${p}.user_location.${k}`);
    }
    if (loc.country && !/^[A-Za-z]{2}$/.test(loc.country)) throw errors.invalid(`'${p}.user_location.country' must be a two-letter ISO country code.`, `${p}.user_location.country`);
  }
  if (t.external_web_access !== undefined && t.external_web_access !== null && typeof t.external_web_access !== 'boolean') {
    throw errors.invalid(`'${p}.external_web_access' must be a boolean.`, `${p}.external_web_access`);
  }
  return {
    ...t, type: t.type, filters: f ?? null, search_context_size: size ?? 'medium',
    user_location: loc ? { type: 'approximate', city: null, country: null, region: null, timezone: null, ...loc } : null,
  };
}

/** The code_interpreter tool: `container` is a container id or `{type: "auto", file_ids, memory_limit}` (the default). */
function normalizeCodeInterpreter(t: Record<string, any>, p: string): Item {
  const c = t.container ?? { type: 'auto' };
  if (typeof c === 'string') {
    if (!CONTAINER_ID.test(c)) throw errors.invalid(`'${p}.container' must be a container id (cntr_…) or {"type": "auto"}.`, `${p}.container`);
    return { type: 'code_interpreter', container: c };
  }
  if (typeof c !== 'object' || Array.isArray(c) || c.type !== 'auto') throw errors.invalid(`'${p}.container' must be a container id (cntr_…) or {"type": "auto"}.`, `${p}.container`);
  const unknown = Object.keys(c).find((k) => !['type', 'file_ids', 'memory_limit', 'network_policy'].includes(k));
  if (unknown) throw errors.invalid(`Unknown parameter: '${p}.container.${unknown.slice(0, 64)}'.`, `${p}.container.${unknown.slice(0, 64)}`, 'unknown_parameter');
  const { fileIds, memoryLimit } = checkSpecParts(c, `${p}.container.`);
  return { type: 'code_interpreter', container: { type: 'auto', file_ids: fileIds, memory_limit: memoryLimit } };
}

function normalizeFunction(t: Record<string, any>, p: string): Item {
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

/** The file_search tool's shape; ownership of its stores and its filters are checked in tools/prepare.ts. */
function normalizeFileSearch(t: Record<string, any>, p: string): Item {
  const ids = t.vector_store_ids;
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > 2 || !ids.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 256)) {
    throw errors.invalid(`'${p}.vector_store_ids' must be an array of 1 or 2 vector store ids.`, `${p}.vector_store_ids`);
  }
  const max = t.max_num_results;
  if (max !== undefined && max !== null && (!Number.isInteger(max) || max < 1 || max > 50)) {
    throw errors.invalid(`'${p}.max_num_results' must be an integer from 1 to 50.`, `${p}.max_num_results`);
  }
  if (t.filters !== undefined && t.filters !== null && (typeof t.filters !== 'object' || Array.isArray(t.filters))) {
    throw errors.invalid(`'${p}.filters' must be a comparison or compound filter object.`, `${p}.filters`);
  }
  const r = t.ranking_options ?? {};
  if (typeof r !== 'object' || Array.isArray(r)) throw errors.invalid(`'${p}.ranking_options' must be an object.`, `${p}.ranking_options`);
  if (r.ranker !== undefined && !['auto', 'none', 'default-2024-11-15'].includes(r.ranker)) {
    throw errors.invalid(`'${p}.ranking_options.ranker' must be 'auto', 'none' or 'default-2024-11-15'.`, `${p}.ranking_options.ranker`);
  }
  if (r.score_threshold !== undefined && (typeof r.score_threshold !== 'number' || r.score_threshold < 0 || r.score_threshold > 1)) {
    throw errors.invalid(`'${p}.ranking_options.score_threshold' must be a number from 0 to 1.`, `${p}.ranking_options.score_threshold`);
  }
  const h = r.hybrid_search;
  if (h !== undefined && (typeof h !== 'object' || h === null || Array.isArray(h)
    || !['embedding_weight', 'text_weight'].every((k) => typeof h[k] === 'number' && h[k] >= 0))) {
    throw errors.invalid(`'${p}.ranking_options.hybrid_search' must be {embedding_weight, text_weight}, numbers >= 0.`, `${p}.ranking_options.hybrid_search`);
  }
  return {
    type: 'file_search', vector_store_ids: ids, max_num_results: max ?? 10, filters: t.filters ?? null,
    ranking_options: {
      ranker: r.ranker ?? 'auto', score_threshold: r.score_threshold ?? 0,
      ...(h ? { hybrid_search: { embedding_weight: h.embedding_weight, text_weight: h.text_weight } } : {}),
    },
  };
}

function normalizeCustom(t: Record<string, any>, p: string): Item {
  if (typeof t.name !== 'string' || !FUNCTION_NAME.test(t.name)) {
    throw errors.invalid(`'${p}.name' must match ^[a-zA-Z0-9_-]{1,64}$.`, `${p}.name`);
  }
  if (t.description !== undefined && t.description !== null && typeof t.description !== 'string') {
    throw errors.invalid(`'${p}.description' must be a string.`, `${p}.description`);
  }
  const f = t.format ?? { type: 'text' };
  if (f?.type === 'grammar') {
    if (f.syntax !== 'lark' && f.syntax !== 'regex') throw errors.invalid(`'${p}.format.syntax' must be "lark" or "regex".`, `${p}.format.syntax`);
    if (typeof f.definition !== 'string' || !f.definition) throw errors.invalid(`'${p}.format.definition' must be a non-empty string.`, `${p}.format.definition`);
    if (f.syntax === 'regex') {
      try {
        new RegExp(f.definition, 'u');
      } catch (err) {
        throw errors.invalid(`'${p}.format.definition' is not a valid regex: ${(err as Error).message}`, `${p}.format.definition`);
      }
    }
  } else if (f?.type !== 'text') {
    throw errors.invalid(`'${p}.format.type' must be "text" or "grammar".`, `${p}.format.type`);
  }
  const format = f.type === 'grammar' ? { type: 'grammar', syntax: f.syntax, definition: f.definition } : { type: 'text' };
  return { type: 'custom', name: t.name, ...(t.description ? { description: t.description } : {}), format };
}

export function normalizeTools(tools: CreateResponseBody['tools']): Item[] {
  return (tools ?? []).map((t: Record<string, any>, i): Item => {
    const p = `tools[${i}]`;
    switch (t.type) {
      case 'function':
        return normalizeFunction(t, p);
      case 'custom':
        return normalizeCustom(t, p);
      case 'namespace': {
        if (typeof t.name !== 'string' || !FUNCTION_NAME.test(t.name)) {
          throw errors.invalid(`'${p}.name' must match ^[a-zA-Z0-9_-]{1,64}$.`, `${p}.name`);
        }
        if (!Array.isArray(t.tools) || t.tools.length > 128) throw errors.invalid(`'${p}.tools' must be a list of function or custom tools.`, `${p}.tools`);
        const inner = t.tools.map((x: unknown, j: number) => {
          const q = `${p}.tools[${j}]`;
          const o = (x ?? {}) as Record<string, any>;
          if (o.type === 'function') return normalizeFunction(o, q);
          if (o.type === 'custom') return normalizeCustom(o, q);
          throw errors.invalid(`'${q}.type' must be "function" or "custom".`, `${q}.type`);
        });
        return { type: 'namespace', name: t.name, description: typeof t.description === 'string' ? t.description : '', tools: inner };
      }
      case 'local_shell':
      case 'apply_patch':
      case 'computer':
        return { type: t.type };
      case 'shell':
        return { type: 'shell', ...(t.environment ? { environment: t.environment } : {}) };
      case 'computer_use_preview': {
        for (const k of ['display_width', 'display_height']) {
          if (!Number.isInteger(t[k]) || t[k] < 1) throw errors.invalid(`'${p}.${k}' must be a positive integer.`, `${p}.${k}`);
        }
        return { type: 'computer_use_preview', display_width: t.display_width, display_height: t.display_height, environment: t.environment ?? 'browser' };
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
      case 'file_search':
        return normalizeFileSearch(t, p);
      case 'code_interpreter':
        return normalizeCodeInterpreter(t, p);
      case IMAGE_GENERATION_TYPE:
        return normalizeImageGenerationTool(t, p);
      default:
        if (WEB_SEARCH_TYPES.has(t.type)) return normalizeWebSearch(t, p);
        if (HOSTED_TOOL_TYPES.has(t.type)) return t as Item;
        throw errors.invalid(`Tool type '${String(t.type)}' is not supported by this server.`, `${p}.type`, 'unsupported_tool');
    }
  });
}

/** A tool_choice that forces a hosted tool this server does not run: a 400 naming it. */
function refuseHosted(type: string): never {
  throw errors.invalid(`tool_choice forces the hosted tool '${type}', which this server does not run.`, 'tool_choice', 'unsupported_tool');
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
  if (c.type === 'custom') {
    if (typeof c.name !== 'string') throw errors.invalid(`'tool_choice.name' is required for a custom tool choice.`, 'tool_choice.name');
    if (!tools.some((t) => t.type === 'custom' && t.name === c.name)) {
      throw errors.invalid(`Tool choice '${c.name}' is not one of the declared custom tools.`, 'tool_choice');
    }
    return { type: 'custom', name: c.name };
  }
  if (c.type === 'mcp') return { type: 'mcp', server_label: c.server_label, ...(c.name ? { name: c.name } : {}) };
  if (c.type === 'allowed_tools') {
    // Required, with only hosted tools allowed: nothing the model could call.
    const listed: any[] = Array.isArray(c.tools) ? c.tools : [];
    if (c.mode === 'required' && listed.length && listed.every((t) => HOSTED_TOOL_TYPES.has(t?.type))) refuseHosted(listed[0].type);
    // (only hosted, web_search and image_generation tools, and no backend configured: refused in tools/prepare.ts)
    return c;
  }
  if (c.type === 'file_search') {
    if (!tools.some((t) => t.type === 'file_search')) throw errors.invalid(`tool_choice 'file_search' names a tool that is not among the tools.`, 'tool_choice');
    return { type: 'file_search' };
  }
  // Whether the sandbox is configured is checked with the tools (tools/prepare.ts).
  if (c.type === 'code_interpreter') {
    if (!tools.some((t) => t.type === 'code_interpreter')) throw errors.invalid(`tool_choice 'code_interpreter' names a tool that is not among the tools.`, 'tool_choice');
    return { type: 'code_interpreter' };
  }
  // Whether a search engine / an images endpoint is configured is checked with the tools (tools/prepare.ts).
  if (WEB_SEARCH_TYPES.has(c.type) || c.type === IMAGE_GENERATION_TYPE) {
    if (!tools.some((t) => t.type === c.type || (WEB_SEARCH_TYPES.has(t.type) && WEB_SEARCH_TYPES.has(c.type)))) throw errors.invalid(`tool_choice '${c.type}' names a tool that is not among the tools.`, 'tool_choice');
    return { type: c.type };
  }
  if (HOSTED_TOOL_TYPES.has(c.type) || (c.type === 'shell' && !tools.some((t) => t.type === 'shell' && isLocalShell(t)))) refuseHosted(c.type);
  if (['local_shell', 'shell', 'apply_patch', 'computer_use_preview', 'computer', 'computer_use'].includes(c.type)) {
    const computer = c.type.startsWith('computer');
    if (!tools.some((t) => t.type === c.type || (computer && t.type.startsWith('computer')))) {
      throw errors.invalid(`tool_choice '${c.type}' names a tool that is not among the tools.`, 'tool_choice');
    }
    return { type: c.type };
  }
  throw errors.invalid(`Unsupported tool_choice type '${String(c.type)}'.`, 'tool_choice.type');
}

export function buildInitialResponse(body: CreateResponseBody, id: string, createdAt: number, conversationId: string | null, prompt?: ResponseObject['prompt']): ResponseObject {
  const tools = normalizeTools(body.tools);
  const f = body.text?.format ?? { type: 'text' as const };
  // json_schema echoes every key the Open Responses schema requires (description, strict).
  const format = f.type === 'json_schema'
    ? { type: 'json_schema', name: f.name, description: f.description ?? null, schema: f.schema, strict: f.strict ?? false }
    : f;
  const r: ResponseObject = {
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
  // The prompt template resolved (its version as used), echoed as OpenAI does; absent without one. Added
  // after the literal, so a request without a prompt builds the very same object shape as before.
  if (prompt) r.prompt = prompt;
  return r;
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
