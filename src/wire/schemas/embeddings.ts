// Schema of POST /embeddings (OpenAI's shape). Token-id arrays are OpenAI-valid but refused here: respd's
// providers embed text, and the service names that in its 400.
import { Type } from '@sinclair/typebox';

export const MAX_EMBEDDING_INPUTS = 2048;

export const CreateEmbeddingBody = Type.Object({
  input: Type.Unknown(),
  model: Type.String({ minLength: 1, maxLength: 256 }),
  encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
  dimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536 })),
  user: Type.Optional(Type.String({ maxLength: 256 })),
}, { required: ['input', 'model'] });
