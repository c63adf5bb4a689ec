// /files routes: multipart upload (@fastify/multipart, streamed up to FILES_MAX_BYTES, 413 above),
// list, retrieve, content (the bytes with their MIME type), delete. Thin adapters to FilesService.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { FilesService, fileStoreOf, type Upload } from '../../files/service.js';
import { mimeTypeOf } from '../../files/mime.js';
import { ApiError, errors } from '../../wire/errors.js';
import { ErrorBody } from '../../wire/schemas/common.js';
import { DeletedFile, FileIdParams, FileJson, ListFilesQuery } from '../../wire/schemas/files.js';
import type { AppDeps } from '../deps.js';

type FileReq = { Params: { file_id: string } };
const errorResponses = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };
const tags = ['files'];
const EXPIRES = /^expires_after\[(anchor|seconds)\]$/;

/** Reads the multipart form: one `file` part, `purpose`, optional `expires_after[…]`. */
async function readUpload(req: FastifyRequest, maxBytes: number): Promise<Upload> {
  if (!req.isMultipart()) {
    throw new ApiError('unsupported_media_type', 'Upload a file as multipart/form-data with the fields `file` and `purpose`.');
  }
  let file: { filename: string; data: Buffer; mimeType: string } | undefined;
  let purpose: unknown;
  let expiresAfter: Upload['expiresAfter'];
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw errors.invalid(`Unknown parameter: '${part.fieldname.slice(0, 64)}'.`, part.fieldname.slice(0, 64), 'unknown_parameter');
        const data = await part.toBuffer();
        file = { filename: part.filename ?? '', data, mimeType: mimeTypeOf(part.filename ?? '', part.mimetype) };
        continue;
      }
      const m = EXPIRES.exec(part.fieldname);
      if (part.fieldname === 'purpose') purpose = part.value;
      else if (m) (expiresAfter ??= {})[m[1] as 'anchor' | 'seconds'] = part.value;
      else throw errors.invalid(`Unknown parameter: '${part.fieldname.slice(0, 64)}'.`, part.fieldname.slice(0, 64), 'unknown_parameter');
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new ApiError('request_too_large', `The file is larger than the limit of ${maxBytes} bytes (FILES_MAX_BYTES).`, 'file');
    if (code === 'FST_FILES_LIMIT') throw errors.invalid('Send exactly one file.', 'file');
    throw errors.invalid(`The multipart body could not be read: ${(err as Error).message}`, null, 'invalid_request');
  }
  if (!file) throw errors.missing('file');
  if (purpose === undefined) throw errors.missing('purpose');
  return { ...file, purpose, expiresAfter };
}

export const filesRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  const max = deps.config.filesMaxBytes;
  await app.register(multipart, {
    limits: { fileSize: max, files: 1, fields: 8, fieldSize: 1024, parts: 10, headerPairs: 100 },
    throwFileSizeLimit: true,
  });
  const svc = () => new FilesService(fileStoreOf(deps.responses.store));

  app.post('/files', {
    schema: { consumes: ['multipart/form-data'], response: { 200: FileJson, ...errorResponses, 413: ErrorBody }, summary: 'Upload a file', tags },
  }, async (req) => svc().upload(req.owner, await readUpload(req, max)));

  app.get<{ Querystring: { after?: string; limit?: number; order?: 'asc' | 'desc'; purpose?: string } }>('/files', {
    schema: { querystring: ListFilesQuery, summary: 'List files', tags },
  }, async (req) => {
    const q = req.query;
    return svc().list(req.owner, { after: q.after, limit: q.limit ?? 10000, order: q.order ?? 'desc', purpose: q.purpose || undefined });
  });

  app.get<FileReq>('/files/:file_id', {
    schema: { params: FileIdParams, response: { 200: FileJson, ...errorResponses }, summary: 'Retrieve a file', tags },
  }, async (req) => svc().get(req.owner, req.params.file_id));

  app.get<FileReq>('/files/:file_id/content', {
    schema: { params: FileIdParams, summary: 'The file\'s bytes, with its MIME type', tags },
  }, async (req, reply) => {
    const { rec, data } = await svc().content(req.owner, req.params.file_id);
    const ascii = rec.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return reply
      .type(rec.mimeType)
      .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(rec.filename)}`)
      .send(data);
  });

  app.delete<FileReq>('/files/:file_id', {
    schema: { params: FileIdParams, response: { 200: DeletedFile, ...errorResponses }, summary: 'Delete a file', tags },
  }, async (req) => svc().delete(req.owner, req.params.file_id));
};
