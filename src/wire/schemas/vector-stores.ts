// Schemas of the Vector Stores endpoints (OpenAI's shapes). Nested parts whose rules depend on each
// other (chunking strategies, filters, attributes, expiry) are checked by the service, which names
// the exact param at fault.
import { Type } from '@sinclair/typebox';
import { AnyObject, Metadata, Nullable } from './common.js';

const Id = Type.String({ minLength: 1, maxLength: 256 });
export const VectorStoreParams = Type.Object({ vector_store_id: Id });
export const VectorStoreFileParams = Type.Object({ vector_store_id: Id, file_id: Id });
export const BatchParams = Type.Object({ vector_store_id: Id, batch_id: Id });

const order = Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')]));
const cursorPage = {
  after: Type.Optional(Type.String({ maxLength: 256 })),
  before: Type.Optional(Type.String({ maxLength: 256 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  order,
};
export const ListVectorStoresQuery = Type.Object(cursorPage, { additionalProperties: false });
export const ListStoreFilesQuery = Type.Object({
  ...cursorPage,
  filter: Type.Optional(Type.Union(['in_progress', 'completed', 'failed', 'cancelled'].map((s) => Type.Literal(s)))),
}, { additionalProperties: false });

const FileIds = (max: number) => Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: max });

export const CreateVectorStoreBody = Type.Object({
  name: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  description: Type.Optional(Nullable(Type.String({ maxLength: 512 }))),
  file_ids: Type.Optional(FileIds(500)),
  chunking_strategy: Type.Optional(AnyObject),
  expires_after: Type.Optional(Nullable(AnyObject)),
  metadata: Type.Optional(Nullable(Metadata)),
}, { additionalProperties: false });

export const UpdateVectorStoreBody = Type.Object({
  name: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  expires_after: Type.Optional(Nullable(AnyObject)),
  metadata: Type.Optional(Nullable(Metadata)),
}, { additionalProperties: false });

export const SearchBody = Type.Object({
  query: Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 10 })]),
  filters: Type.Optional(Nullable(AnyObject)),
  max_num_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  ranking_options: Type.Optional(Type.Object({
    ranker: Type.Optional(Type.Union(['none', 'auto', 'default-2024-11-15'].map((s) => Type.Literal(s)))),
    score_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    hybrid_search: Type.Optional(Type.Object({
      embedding_weight: Type.Number({ minimum: 0 }),
      text_weight: Type.Number({ minimum: 0 }),
    }, { additionalProperties: false })),
  }, { additionalProperties: false })),
  rewrite_query: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const AddFileBody = Type.Object({
  file_id: Type.String({ minLength: 1, maxLength: 256 }),
  attributes: Type.Optional(Nullable(AnyObject)),
  chunking_strategy: Type.Optional(AnyObject),
}, { additionalProperties: false });

export const UpdateFileBody = Type.Object({ attributes: Nullable(AnyObject) }, { additionalProperties: false });

export const CreateBatchBody = Type.Object({
  file_ids: Type.Optional(FileIds(2000)),
  files: Type.Optional(Type.Array(Type.Object({
    file_id: Type.String({ minLength: 1, maxLength: 256 }),
    attributes: Type.Optional(Nullable(AnyObject)),
    chunking_strategy: Type.Optional(AnyObject),
  }, { additionalProperties: false }), { maxItems: 2000 })),
  attributes: Type.Optional(Nullable(AnyObject)),
  chunking_strategy: Type.Optional(AnyObject),
}, { additionalProperties: false });
