// Shared schema pieces. The route schemas are the single source of truth: Fastify validates with them
// and @fastify/swagger turns them into the OpenAPI document.
import { Type, type TSchema } from '@sinclair/typebox';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Metadata = Type.Record(Type.String(), Type.String({ maxLength: 512 }), {
  maxProperties: 16,
  propertyNames: { maxLength: 64 },
  description: 'Up to 16 string pairs; keys ≤ 64 characters, values ≤ 512.',
});

export const ErrorBody = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.String(),
    param: Nullable(Type.String()),
    code: Nullable(Type.String()),
  }),
}, { $id: 'ErrorBody' });

export const ResponseId = Type.String({ pattern: '^resp[-_][a-zA-Z0-9]+$', maxLength: 128 });

export const INCLUDABLE = [
  'web_search_call.action.sources',
  'web_search_call.results',
  'code_interpreter_call.outputs',
  'computer_call_output.output.image_url',
  'file_search_call.results',
  'message.input_image.image_url',
  'message.output_text.logprobs',
  'reasoning.encrypted_content',
] as const;

export const Include = Type.Array(Type.Union(INCLUDABLE.map((v) => Type.Literal(v))), { maxItems: 16 });

/** In the query string: repeated, `include[]` or comma-separated; values are checked by parseInclude. */
export const IncludeQuery = Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 32 });

export const ListQuery = {
  after: Type.Optional(Type.String({ maxLength: 256 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
};

/** Any JSON object: the detailed shape is checked by the code that understands it. */
export const AnyObject = Type.Object({}, { additionalProperties: true });

export const listOf = (item: TSchema) => Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(item),
  first_id: Nullable(Type.String()),
  last_id: Nullable(Type.String()),
  has_more: Type.Boolean(),
});
