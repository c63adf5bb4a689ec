// Schemas of the Responses endpoints. Everything OpenAI's create accepts is accepted (and echoed);
// unknown top-level fields are a 400, as OpenAI does.
import { Type, type Static } from '@sinclair/typebox';
import { AnyObject, Include, IncludeQuery, ListQuery, Metadata, Nullable, ResponseId } from './common.js';

const TextFormat = Type.Union([
  Type.Object({ type: Type.Literal('text') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('json_object') }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('json_schema'),
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9_-]+$' }),
    schema: AnyObject,
    description: Type.Optional(Type.String()),
    strict: Type.Optional(Nullable(Type.Boolean())),
  }, { additionalProperties: false }),
]);

const ToolChoice = Type.Union([
  Type.Union([Type.Literal('none'), Type.Literal('auto'), Type.Literal('required')]),
  Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
]);

export const CreateResponseBody = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 256 }),
  input: Type.Optional(Type.Union([Type.String({ maxLength: 4_000_000 }), Type.Array(AnyObject, { maxItems: 10_000 })])),
  instructions: Type.Optional(Nullable(Type.String())),
  previous_response_id: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  conversation: Type.Optional(Nullable(Type.Union([
    Type.String({ minLength: 1, maxLength: 256 }),
    Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) }),
  ]))),
  include: Type.Optional(Nullable(Include)),
  tools: Type.Optional(Type.Array(Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true }), { maxItems: 128 })),
  tool_choice: Type.Optional(ToolChoice),
  metadata: Type.Optional(Nullable(Metadata)),
  text: Type.Optional(Type.Object({
    format: Type.Optional(TextFormat),
    verbosity: Type.Optional(Nullable(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]))),
  }, { additionalProperties: false })),
  temperature: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 2 }))),
  top_p: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
  presence_penalty: Type.Optional(Nullable(Type.Number({ minimum: -2, maximum: 2 }))),
  frequency_penalty: Type.Optional(Nullable(Type.Number({ minimum: -2, maximum: 2 }))),
  top_logprobs: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 20 }))),
  parallel_tool_calls: Type.Optional(Nullable(Type.Boolean())),
  stream: Type.Optional(Nullable(Type.Boolean())),
  stream_options: Type.Optional(Nullable(Type.Object({
    include_obfuscation: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }))),
  background: Type.Optional(Nullable(Type.Boolean())),
  store: Type.Optional(Nullable(Type.Boolean())),
  max_output_tokens: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 }))),
  max_tool_calls: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1000 }))),
  reasoning: Type.Optional(Nullable(Type.Object({
    effort: Type.Optional(Nullable(Type.Union(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'].map((v) => Type.Literal(v))))),
    summary: Type.Optional(Nullable(Type.Union(['auto', 'concise', 'detailed'].map((v) => Type.Literal(v))))),
    generate_summary: Type.Optional(Nullable(Type.Union(['auto', 'concise', 'detailed'].map((v) => Type.Literal(v))))),
  }, { additionalProperties: false }))),
  safety_identifier: Type.Optional(Type.String({ maxLength: 64 })),
  prompt_cache_key: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  prompt_cache_retention: Type.Optional(Nullable(Type.Union([Type.Literal('in-memory'), Type.Literal('24h')]))),
  truncation: Type.Optional(Nullable(Type.Union([Type.Literal('auto'), Type.Literal('disabled')]))),
  service_tier: Type.Optional(Nullable(Type.Union(['auto', 'default', 'flex', 'scale', 'priority'].map((v) => Type.Literal(v))))),
  user: Type.Optional(Type.String({ maxLength: 256 })),
  prompt: Type.Optional(Nullable(AnyObject)),
  context_management: Type.Optional(Nullable(Type.Array(AnyObject))),
  // Sent by Codex CLI (ids of its session and turn); accepted and not used.
  client_metadata: Type.Optional(Nullable(AnyObject)),
  // MKA1 additions.
  modalities: Type.Optional(Type.Array(Type.Union([Type.Literal('text'), Type.Literal('audio')]))),
  audio: Type.Optional(AnyObject),
  auto_routing: Type.Optional(Type.Boolean()),
  auto_routing_debug: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, $id: 'CreateResponseBody' });
export type CreateResponseBody = Static<typeof CreateResponseBody>;

export const RetrieveQuery = Type.Object({
  include: Type.Optional(IncludeQuery),
  'include[]': Type.Optional(IncludeQuery),
  include_obfuscation: Type.Optional(Type.Boolean()),
  starting_after: Type.Optional(Type.Integer({ minimum: -1, maximum: 9007199254740991 })),
  stream: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type RetrieveQuery = Static<typeof RetrieveQuery>;

export const IdParams = Type.Object({ response_id: ResponseId });

export const ListResponsesQuery = Type.Object({
  ...ListQuery,
  before: Type.Optional(Type.String({ maxLength: 256 })),
}, { additionalProperties: false });

export const InputItemsQuery = Type.Object({
  ...ListQuery,
  include: Type.Optional(IncludeQuery),
  'include[]': Type.Optional(IncludeQuery),
}, { additionalProperties: false });

export const UpdateResponseBody = Type.Object({ metadata: Nullable(Metadata) }, { additionalProperties: false });

export const ResponseJson = Type.Object({
  id: Type.String(),
  object: Type.Literal('response'),
  status: Type.String(),
}, { additionalProperties: true, description: 'A Response object (see the OpenAI Responses API).' });

export const DeletedResponse = Type.Object({ id: Type.String(), object: Type.Literal('response'), deleted: Type.Boolean() });
