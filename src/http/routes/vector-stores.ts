// /vector_stores routes: stores, their files, file batches and search. Thin adapters to VectorStoresService.
import type { FastifyPluginAsync } from 'fastify';
import { FilesService, fileStoreOf } from '../../files/service.js';
import { VectorStoresService, vectorStoreStoreOf, type SearchBody as SearchBodyT } from '../../vector-stores/service.js';
import type { StoreFileStatus } from '../../store/vector-stores.js';
import {
  AddFileBody, BatchParams, CreateBatchBody, CreateVectorStoreBody, ListStoreFilesQuery, ListVectorStoresQuery, SearchBody,
  UpdateFileBody, UpdateVectorStoreBody, VectorStoreFileParams, VectorStoreParams,
} from '../../wire/schemas/vector-stores.js';
import type { AppDeps } from '../deps.js';

type VsReq = { Params: { vector_store_id: string } };
type FileReq = { Params: { vector_store_id: string; file_id: string } };
type BatchReq = { Params: { vector_store_id: string; batch_id: string } };
type PageQ = { after?: string; before?: string; limit?: number; order?: 'asc' | 'desc'; filter?: StoreFileStatus };
const tags = ['vector stores'];
const page = (q: PageQ) => ({ after: q.after, before: q.before, limit: q.limit ?? 20, order: q.order ?? 'desc', status: q.filter });

export const vectorStoresRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  const svc = () => {
    const store = deps.responses.store;
    return new VectorStoresService(vectorStoreStoreOf(store), new FilesService(fileStoreOf(store)), deps.ingestionQueued, deps.embedder);
  };

  app.post<{ Body: Record<string, any> }>('/vector_stores', {
    schema: { body: CreateVectorStoreBody, summary: 'Create a vector store', tags },
  }, async (req) => svc().create(req.owner, req.body));

  app.get<{ Querystring: PageQ }>('/vector_stores', {
    schema: { querystring: ListVectorStoresQuery, summary: 'List vector stores', tags },
  }, async (req) => svc().list(req.owner, page(req.query)));

  app.get<VsReq>('/vector_stores/:vector_store_id', {
    schema: { params: VectorStoreParams, summary: 'Retrieve a vector store', tags },
  }, async (req) => svc().get(req.owner, req.params.vector_store_id));

  app.post<VsReq & { Body: Record<string, any> }>('/vector_stores/:vector_store_id', {
    schema: { params: VectorStoreParams, body: UpdateVectorStoreBody, summary: 'Modify a vector store', tags },
  }, async (req) => svc().update(req.owner, req.params.vector_store_id, req.body));

  app.delete<VsReq>('/vector_stores/:vector_store_id', {
    schema: { params: VectorStoreParams, summary: 'Delete a vector store', tags },
  }, async (req) => svc().delete(req.owner, req.params.vector_store_id));

  app.post<VsReq & { Body: SearchBodyT }>('/vector_stores/:vector_store_id/search', {
    schema: { params: VectorStoreParams, body: SearchBody, summary: 'Search a vector store', tags },
  }, async (req) => svc().search(req.owner, req.params.vector_store_id, req.body));

  app.post<VsReq & { Body: { file_id: string; attributes?: unknown; chunking_strategy?: unknown } }>('/vector_stores/:vector_store_id/files', {
    schema: { params: VectorStoreParams, body: AddFileBody, summary: 'Attach a file to a vector store', tags },
  }, async (req) => svc().addFile(req.owner, req.params.vector_store_id, req.body));

  app.get<VsReq & { Querystring: PageQ }>('/vector_stores/:vector_store_id/files', {
    schema: { params: VectorStoreParams, querystring: ListStoreFilesQuery, summary: 'List the files of a vector store', tags },
  }, async (req) => svc().listFiles(req.owner, req.params.vector_store_id, page(req.query)));

  app.get<FileReq>('/vector_stores/:vector_store_id/files/:file_id', {
    schema: { params: VectorStoreFileParams, summary: 'Retrieve a vector store file', tags },
  }, async (req) => svc().getFile(req.owner, req.params.vector_store_id, req.params.file_id));

  app.post<FileReq & { Body: { attributes: unknown } }>('/vector_stores/:vector_store_id/files/:file_id', {
    schema: { params: VectorStoreFileParams, body: UpdateFileBody, summary: 'Update a vector store file\'s attributes', tags },
  }, async (req) => svc().updateFile(req.owner, req.params.vector_store_id, req.params.file_id, req.body.attributes));

  app.delete<FileReq>('/vector_stores/:vector_store_id/files/:file_id', {
    schema: { params: VectorStoreFileParams, summary: 'Remove a file from a vector store', tags },
  }, async (req) => svc().deleteFile(req.owner, req.params.vector_store_id, req.params.file_id));

  app.get<FileReq>('/vector_stores/:vector_store_id/files/:file_id/content', {
    schema: { params: VectorStoreFileParams, summary: 'The parsed text of a vector store file', tags },
  }, async (req) => svc().fileContent(req.owner, req.params.vector_store_id, req.params.file_id));

  app.post<VsReq & { Body: Record<string, any> }>('/vector_stores/:vector_store_id/file_batches', {
    schema: { params: VectorStoreParams, body: CreateBatchBody, summary: 'Attach a batch of files', tags },
  }, async (req) => svc().createBatch(req.owner, req.params.vector_store_id, req.body));

  app.get<BatchReq>('/vector_stores/:vector_store_id/file_batches/:batch_id', {
    schema: { params: BatchParams, summary: 'Retrieve a file batch', tags },
  }, async (req) => svc().getBatch(req.owner, req.params.vector_store_id, req.params.batch_id));

  app.post<BatchReq>('/vector_stores/:vector_store_id/file_batches/:batch_id/cancel', {
    schema: { params: BatchParams, summary: 'Cancel a file batch', tags },
  }, async (req) => svc().cancelBatch(req.owner, req.params.vector_store_id, req.params.batch_id));

  app.get<BatchReq & { Querystring: PageQ }>('/vector_stores/:vector_store_id/file_batches/:batch_id/files', {
    schema: { params: BatchParams, querystring: ListStoreFilesQuery, summary: 'List the files of a batch', tags },
  }, async (req) => svc().listBatchFiles(req.owner, req.params.vector_store_id, req.params.batch_id, page(req.query)));
};
