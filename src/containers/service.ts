// The Containers resource (OpenAI's /containers and /containers/{id}/files): a container is a folder of
// files that code_interpreter runs see as /mnt/data. Owned like responses (key × end user): another
// owner's container is "not found". A container expires `expires_after.minutes` after its last use;
// an expired one keeps its record (status "expired") and loses its files, and cannot run code again.
import { ApiError, errors } from '../wire/errors.js';
import { newId } from '../wire/ids.js';
import type { ContainerFileRecord, ContainerRecord, ContainerStore } from '../store/containers.js';
import type { FileStore } from '../store/files.js';
import type { Owner, Store } from '../store/types.js';
import { toListPage } from '../store/paging.js';
import { FilesService } from '../files/service.js';

export const CONTAINER_ID = /^cntr_[a-zA-Z0-9]{1,64}$/;
export const CONTAINER_FILE_ID = /^cfile_[a-zA-Z0-9]{1,64}$/;
export const MEMORY_LIMITS = ['1g', '4g', '16g', '64g'] as const;
export const DATA_ROOT = '/mnt/data';
const MAX_MINUTES = 7 * 24 * 60;

const now = () => Math.floor(Date.now() / 1000);
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function containerStoreOf(store: Store): ContainerStore {
  if (!store.containers) throw new ApiError('not_implemented', `Containers are not available with the '${store.kind}' store.`);
  return store.containers;
}

export const isExpired = (c: ContainerRecord, at = now()) => c.lastActiveAt + c.expiresMinutes * 60 <= at;

export function presentContainer(c: ContainerRecord) {
  return {
    id: c.id, object: 'container', created_at: c.createdAt, status: isExpired(c) ? 'expired' : 'running', name: c.name,
    expires_after: { anchor: 'last_active_at', minutes: c.expiresMinutes }, last_active_at: c.lastActiveAt,
    memory_limit: c.memoryLimit, network_policy: { type: 'disabled' },
  };
}

export function presentContainerFile(f: ContainerFileRecord) {
  return { id: f.id, object: 'container.file' as const, bytes: f.bytes, container_id: f.containerId, created_at: f.createdAt, path: f.path, source: f.source };
}

/** A path under /mnt/data from a file name or a relative path; null if it leaves the folder or is odd. */
export function containerPath(rel: string): string | null {
  const parts = rel.replace(/^\/mnt\/data\/?/, '').split('/').filter((p) => p && p !== '.');
  if (!parts.length || parts.some((p) => p === '..' || p.length > 255 || /[\u0000-\u001f\\]/.test(p)) || parts.length > 16) return null;
  return `${DATA_ROOT}/${parts.join('/')}`;
}

/** The options a container is made with (POST /containers, or a code_interpreter tool's `container: {type: "auto"}`). */
export interface ContainerSpec {
  name: string;
  fileIds: string[];
  memoryLimit: string;
  minutes: number;
}

/** Validates memory_limit / file_ids / network_policy as both the route and the tool accept them. */
export function checkSpecParts(body: Record<string, any>, p: string): { fileIds: string[]; memoryLimit: string } {
  const ids = body.file_ids ?? [];
  if (!Array.isArray(ids) || ids.length > 100 || !ids.every((x) => typeof x === 'string')) throw errors.invalid(`'${p}file_ids' must be a list of up to 100 file ids.`, `${p}file_ids`);
  const mem = body.memory_limit ?? '1g';
  if (!(MEMORY_LIMITS as readonly string[]).includes(mem)) throw errors.invalid(`'${p}memory_limit' must be one of ${MEMORY_LIMITS.join(', ')}.`, `${p}memory_limit`);
  const np = body.network_policy;
  if (np !== undefined && np !== null && !(isObj(np) && np.type === 'disabled')) {
    throw errors.invalid(`'${p}network_policy' can only be {"type": "disabled"}: code on this server never reaches the network.`, `${p}network_policy`, 'invalid_value');
  }
  if (body.skills !== undefined && body.skills !== null) throw errors.invalid('Skills are not supported by this server.', `${p}skills`, 'unknown_parameter');
  return { fileIds: ids, memoryLimit: mem };
}

export class ContainersService {
  constructor(readonly store: ContainerStore, readonly files: FileStore | undefined, readonly idleMinutes = 20) {}

  /** The owner's container, or 404. Expired: its files are dropped (once) and `expired` is set. */
  async load(owner: Owner, id: string, param = 'container_id'): Promise<ContainerRecord> {
    if (!CONTAINER_ID.test(id)) throw errors.invalid(`Invalid container id '${id.slice(0, 100)}': expected 'cntr_' followed by letters and digits.`, param);
    const rec = await this.store.getContainer(id);
    if (!rec || rec.tenant !== owner.tenant || rec.endUser !== owner.endUser) throw errors.notFound('Container', id, param);
    if (isExpired(rec)) await this.discardFiles(rec.id);
    return rec;
  }

  private async discardFiles(id: string): Promise<void> {
    for (;;) {
      const page = await this.store.listContainerFiles(id, { limit: 100, order: 'asc' });
      if (!page.length) return;
      for (const f of page) await this.store.deleteContainerFile(id, f.id);
    }
  }

  /** The owner's files named by `fileIds`, checked before anything is created (404 names the index). */
  async checkFileIds(owner: Owner, fileIds: string[], p: string) {
    if (!fileIds.length) return [];
    if (!this.files) throw new ApiError('not_implemented', 'Files are not available with this store.');
    const svc = new FilesService(this.files);
    return Promise.all(fileIds.map((id, i) => svc.load(owner, id, `${p}file_ids[${i}]`)));
  }

  /** A 400/404 at create for a code_interpreter tool whose container cannot be used by this owner. */
  async checkTool(owner: Owner, tool: Record<string, any>, p: string): Promise<void> {
    const c = tool.container;
    if (typeof c === 'string') {
      const rec = await this.load(owner, c, `${p}.container`);
      if (isExpired(rec)) throw errors.invalid(`Container '${c}' has expired; create a new one.`, `${p}.container`, 'container_expired');
      return;
    }
    await this.checkFileIds(owner, c?.file_ids ?? [], `${p}.container.`);
  }

  async make(owner: Owner, spec: ContainerSpec): Promise<ContainerRecord> {
    const recs = await this.checkFileIds(owner, spec.fileIds, '');
    const t = now();
    const rec: ContainerRecord = {
      id: newId('cntr'), tenant: owner.tenant, endUser: owner.endUser, name: spec.name, createdAt: t, lastActiveAt: t,
      expiresMinutes: spec.minutes, memoryLimit: spec.memoryLimit,
    };
    await this.store.createContainer(rec);
    for (const f of recs) {
      const data = await this.files!.readFileContent(f.id);
      if (data) await this.putFile(rec.id, containerPath(f.filename) ?? `${DATA_ROOT}/${f.id}`, data, 'user');
    }
    return rec;
  }

  async create(owner: Owner, body: unknown) {
    if (!isObj(body)) throw errors.invalid('The body must be a JSON object.');
    const unknown = Object.keys(body).find((k) => !['name', 'expires_after', 'file_ids', 'memory_limit', 'network_policy', 'skills'].includes(k));
    if (unknown) throw errors.invalid(`Unknown parameter: '${unknown.slice(0, 64)}'.`, unknown.slice(0, 64), 'unknown_parameter');
    if (body.name === undefined) throw errors.missing('name');
    if (typeof body.name !== 'string' || body.name.length > 256) throw errors.invalid(`'name' must be a string of up to 256 characters.`, 'name');
    let minutes = this.idleMinutes;
    const e = body.expires_after;
    if (e !== undefined && e !== null) {
      if (!isObj(e) || e.anchor !== 'last_active_at') throw errors.invalid(`'expires_after.anchor' must be 'last_active_at'.`, 'expires_after.anchor');
      if (!Number.isInteger(e.minutes) || e.minutes < 1 || e.minutes > MAX_MINUTES) throw errors.invalid(`'expires_after.minutes' must be an integer from 1 to ${MAX_MINUTES}.`, 'expires_after.minutes');
      minutes = e.minutes;
    }
    const { fileIds, memoryLimit } = checkSpecParts(body, '');
    return presentContainer(await this.make(owner, { name: body.name, fileIds, memoryLimit, minutes }));
  }

  async list(owner: Owner, q: { after?: string; limit: number; order: 'asc' | 'desc'; name?: string }) {
    const recs = await this.store.listContainers(owner, { ...q, limit: q.limit + 1 });
    return toListPage(recs, q.limit, presentContainer);
  }

  async get(owner: Owner, id: string) {
    return presentContainer(await this.load(owner, id));
  }

  async delete(owner: Owner, id: string) {
    await this.load(owner, id);
    await this.store.deleteContainer(id);
    return { id, object: 'container.deleted', deleted: true };
  }

  /** Stores a file at `path` (replacing the one there). */
  async putFile(containerId: string, path: string, data: Buffer, source: 'user' | 'assistant'): Promise<ContainerFileRecord> {
    const rec: ContainerFileRecord = { id: newId('cfile'), containerId, path, bytes: data.length, source, createdAt: now() };
    await this.store.putContainerFile(rec, data);
    return rec;
  }

  private async live(owner: Owner, id: string): Promise<ContainerRecord> {
    const c = await this.load(owner, id);
    if (isExpired(c)) throw errors.invalid(`Container '${id}' has expired; create a new one.`, 'container_id', 'container_expired');
    return c;
  }

  /** POST /containers/{id}/files: a multipart `file`, or JSON `{file_id}` copying one of the owner's files. */
  async addFile(owner: Owner, id: string, u: { upload?: { filename: string; data: Buffer }; fileId?: unknown }) {
    await this.live(owner, id);
    let name: string;
    let data: Buffer;
    if (u.upload) {
      ({ filename: name, data } = u.upload);
    } else {
      if (typeof u.fileId !== 'string') throw errors.missing('file');
      const [f] = await this.checkFileIds(owner, [u.fileId], '');
      const bytes = await this.files!.readFileContent(f!.id);
      if (!bytes) throw errors.notFound('File', u.fileId, 'file_id');
      name = f!.filename;
      data = bytes;
    }
    const path = containerPath(name.split('/').pop() ?? '');
    if (!path) throw errors.invalid('The file name must be 1-255 characters, without slashes or control characters.', 'file');
    const rec = await this.putFile(id, path, data, 'user');
    await this.store.touchContainer(id, now());
    return presentContainerFile(rec);
  }

  async listFiles(owner: Owner, id: string, q: { after?: string; limit: number; order: 'asc' | 'desc' }) {
    await this.load(owner, id);
    const recs = await this.store.listContainerFiles(id, { ...q, limit: q.limit + 1 });
    return toListPage(recs, q.limit, presentContainerFile);
  }

  private async loadFile(owner: Owner, id: string, fileId: string): Promise<ContainerFileRecord> {
    await this.load(owner, id);
    if (!CONTAINER_FILE_ID.test(fileId)) throw errors.invalid(`Invalid container file id '${fileId.slice(0, 100)}'.`, 'file_id');
    const f = await this.store.getContainerFile(id, fileId);
    if (!f) throw errors.notFound('Container file', fileId, 'file_id');
    return f;
  }

  async getFile(owner: Owner, id: string, fileId: string) {
    return presentContainerFile(await this.loadFile(owner, id, fileId));
  }

  async fileContent(owner: Owner, id: string, fileId: string): Promise<{ rec: ContainerFileRecord; data: Buffer }> {
    const rec = await this.loadFile(owner, id, fileId);
    const data = await this.store.readContainerFile(id, fileId);
    if (!data) throw errors.notFound('Container file', fileId, 'file_id');
    return { rec, data };
  }

  async deleteFile(owner: Owner, id: string, fileId: string) {
    await this.loadFile(owner, id, fileId);
    await this.store.deleteContainerFile(id, fileId);
    return { id: fileId, object: 'container.file.deleted', deleted: true };
  }
}
