// /containers and /containers/{id}/files (OpenAI's Containers API): thin adapters to ContainersService.
// A container file is added as a multipart `file` or as JSON `{"file_id": …}` (a copy of an uploaded file).
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { containerStoreOf, ContainersService } from '../../containers/service.js';
import { mimeTypeOf } from '../../files/mime.js';
import { ApiError, errors } from '../../wire/errors.js';
import type { AppDeps } from '../deps.js';

const tags = ['containers'];
const Id = Type.String({ minLength: 1, maxLength: 256 });
const ListQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 256 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  name: Type.Optional(Type.String({ maxLength: 256 })),
}, { additionalProperties: false });
type Q = { after?: string; limit?: number; order?: 'asc' | 'desc'; name?: string };
type C = { Params: { container_id: string } };
type F = { Params: { container_id: string; file_id: string } };

async function readUpload(req: FastifyRequest, maxBytes: number): Promise<{ filename: string; data: Buffer }> {
  let file: { filename: string; data: Buffer } | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file' || part.fieldname !== 'file') throw errors.invalid(`Unknown parameter: '${part.fieldname.slice(0, 64)}'.`, part.fieldname.slice(0, 64), 'unknown_parameter');
      file = { filename: part.filename ?? '', data: await part.toBuffer() };
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new ApiError('request_too_large', `The file is larger than the limit of ${maxBytes} bytes.`, 'file');
    if (code === 'FST_FILES_LIMIT') throw errors.invalid('Send exactly one file.', 'file');
    throw errors.invalid(`The multipart body could not be read: ${(err as Error).message}`, null, 'invalid_request');
  }
  if (!file) throw errors.missing('file');
  return file;
}

export const containersRoutes = (deps: AppDeps): FastifyPluginAsync => async (app) => {
  const max = Math.min(deps.config.filesMaxBytes, deps.config.codeInterpreter?.maxFileBytes ?? deps.config.filesMaxBytes);
  await app.register(multipart, { limits: { fileSize: max, files: 1, fields: 4, parts: 5, headerPairs: 100 }, throwFileSizeLimit: true });
  const svc = () => new ContainersService(containerStoreOf(deps.responses.store), deps.responses.store.files, deps.config.codeInterpreter?.idleMinutes);
  const page = (q: Q) => ({ after: q.after, limit: q.limit ?? 20, order: q.order ?? 'desc', name: q.name });

  app.post('/containers', { schema: { summary: 'Create a container', tags } }, async (req) => svc().create(req.owner, req.body));
  app.get<{ Querystring: Q }>('/containers', { schema: { querystring: ListQuery, summary: 'List containers', tags } }, async (req) => svc().list(req.owner, page(req.query)));
  app.get<C>('/containers/:container_id', { schema: { params: Type.Object({ container_id: Id }), summary: 'Retrieve a container', tags } },
    async (req) => svc().get(req.owner, req.params.container_id));
  app.delete<C>('/containers/:container_id', { schema: { params: Type.Object({ container_id: Id }), summary: 'Delete a container', tags } },
    async (req) => svc().delete(req.owner, req.params.container_id));

  app.post<C>('/containers/:container_id/files', { schema: { params: Type.Object({ container_id: Id }), summary: 'Add a file to a container', tags } }, async (req) => {
    if (req.isMultipart()) return svc().addFile(req.owner, req.params.container_id, { upload: await readUpload(req, max) });
    const body = req.body as Record<string, unknown> | undefined;
    const unknown = Object.keys(body ?? {}).find((k) => k !== 'file_id');
    if (unknown) throw errors.invalid(`Unknown parameter: '${unknown.slice(0, 64)}'.`, unknown.slice(0, 64), 'unknown_parameter');
    return svc().addFile(req.owner, req.params.container_id, { fileId: body?.file_id });
  });
  app.get<C & { Querystring: Q }>('/containers/:container_id/files', {
    schema: { params: Type.Object({ container_id: Id }), querystring: Type.Omit(ListQuery, ['name']), summary: 'List a container\'s files', tags },
  }, async (req) => svc().listFiles(req.owner, req.params.container_id, page(req.query)));
  const fileParams = Type.Object({ container_id: Id, file_id: Id });
  app.get<F>('/containers/:container_id/files/:file_id', { schema: { params: fileParams, summary: 'Retrieve a container file', tags } },
    async (req) => svc().getFile(req.owner, req.params.container_id, req.params.file_id));
  app.get<F>('/containers/:container_id/files/:file_id/content', { schema: { params: fileParams, summary: 'A container file\'s bytes', tags } }, async (req, reply) => {
    const { rec, data } = await svc().fileContent(req.owner, req.params.container_id, req.params.file_id);
    const name = rec.path.split('/').pop() ?? rec.id;
    return reply.type(mimeTypeOf(name, 'application/octet-stream'))
      .header('content-disposition', `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`)
      .send(data);
  });
  app.delete<F>('/containers/:container_id/files/:file_id', { schema: { params: fileParams, summary: 'Delete a container file', tags } },
    async (req) => svc().deleteFile(req.owner, req.params.container_id, req.params.file_id));
};
