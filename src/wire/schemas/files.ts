// Schemas of the Files endpoints (OpenAI's shapes; MKA1 lists up to 10000 files per page).
import { Type } from '@sinclair/typebox';
import { Nullable } from './common.js';

export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

export const FileIdParams = Type.Object({ file_id: Type.String({ minLength: 1, maxLength: 256 }) });

export const ListFilesQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 256 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 10000 })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  purpose: Type.Optional(Type.String({ maxLength: 64 })),
}, { additionalProperties: false });

export const FileJson = Type.Object({
  id: Type.String(),
  object: Type.Literal('file'),
  bytes: Type.Integer(),
  created_at: Type.Integer(),
  expires_at: Type.Optional(Nullable(Type.Integer())),
  filename: Type.String(),
  purpose: Type.String(),
  status: Type.Literal('processed'),
}, { additionalProperties: false });

export const DeletedFile = Type.Object({ id: Type.String(), object: Type.Literal('file'), deleted: Type.Boolean() });
