// The Files resource: upload, list, retrieve, content, delete. Owned like responses (key × end user):
// another owner's file, or one past its expiry, is "not found". Storage is the store's FileStore.
import { ApiError, errors } from '../wire/errors.js';
import { newId } from '../wire/ids.js';
import { FILE_PURPOSES } from '../wire/schemas/files.js';
import type { FileRecord, FileStore } from '../store/files.js';
import type { Owner, Store } from '../store/types.js';
import { toListPage } from '../store/paging.js';

export const FILE_ID = /^file[-_][a-zA-Z0-9]{1,64}$/;

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at?: number | null;
  filename: string;
  purpose: string;
  status: 'processed';
}

export interface Upload {
  filename: string;
  purpose: unknown;
  data: Buffer;
  mimeType: string;
  /** `expires_after[anchor]` and `expires_after[seconds]` as sent (multipart fields are strings). */
  expiresAfter?: { anchor?: unknown; seconds?: unknown };
}

const now = () => Math.floor(Date.now() / 1000);
// OpenAI's bounds for expires_after.seconds: one hour to thirty days.
const MIN_EXPIRY = 3600;
const MAX_EXPIRY = 30 * 24 * 3600;

export function presentFile(r: FileRecord): FileObject {
  return {
    id: r.id, object: 'file', bytes: r.bytes, created_at: r.createdAt, expires_at: r.expiresAt,
    filename: r.filename, purpose: r.purpose, status: 'processed',
  };
}

export function fileStoreOf(store: Store): FileStore {
  if (!store.files) throw new ApiError('not_implemented', `Files are not available with the '${store.kind}' store.`);
  return store.files;
}

const owns = (r: FileRecord, o: Owner) => r.tenant === o.tenant && r.endUser === o.endUser;

export class FilesService {
  constructor(readonly store: FileStore) {}

  /** The owner's live file, or 404 (`param` names where the id came from). */
  async load(owner: Owner, id: string, param = 'file_id'): Promise<FileRecord> {
    if (!FILE_ID.test(id)) throw errors.invalid(`Invalid file id '${id.slice(0, 100)}': expected 'file-' or 'file_' followed by letters and digits.`, param);
    const rec = await this.store.getFile(id);
    if (!rec || !owns(rec, owner) || (rec.expiresAt !== null && rec.expiresAt <= now())) throw errors.notFound('File', id, param);
    return rec;
  }

  async upload(owner: Owner, u: Upload): Promise<FileObject> {
    if (typeof u.purpose !== 'string' || !(FILE_PURPOSES as readonly string[]).includes(u.purpose)) {
      throw errors.invalid(`'purpose' must be one of ${FILE_PURPOSES.join(', ')}.`, 'purpose');
    }
    const filename = u.filename.trim();
    if (!filename || filename.length > 255 || /[\u0000-\u001f/\\]/.test(filename)) {
      throw errors.invalid('The file name must be 1-255 characters, without slashes or control characters.', 'file');
    }
    if (u.data.length === 0) throw errors.invalid('The file is empty.', 'file');
    const createdAt = now();
    let expiresAt: number | null = null;
    if (u.expiresAfter) {
      const { anchor, seconds } = u.expiresAfter;
      if (anchor !== 'created_at') throw errors.invalid(`'expires_after.anchor' must be 'created_at'.`, 'expires_after.anchor');
      const s = typeof seconds === 'string' && /^\d{1,9}$/.test(seconds) ? Number(seconds) : typeof seconds === 'number' ? seconds : NaN;
      if (!Number.isInteger(s) || s < MIN_EXPIRY || s > MAX_EXPIRY) {
        throw errors.invalid(`'expires_after.seconds' must be an integer from ${MIN_EXPIRY} to ${MAX_EXPIRY}.`, 'expires_after.seconds');
      }
      expiresAt = createdAt + s;
    }
    const rec: FileRecord = {
      id: newId('file'), tenant: owner.tenant, endUser: owner.endUser, createdAt, filename, purpose: u.purpose,
      bytes: u.data.length, mimeType: u.mimeType, expiresAt,
    };
    await this.store.createFile(rec, u.data);
    return presentFile(rec);
  }

  async list(owner: Owner, q: { after?: string; limit: number; order: 'asc' | 'desc'; purpose?: string }) {
    const recs = await this.store.listFiles(owner, { ...q, limit: q.limit + 1, now: now() });
    return toListPage(recs, q.limit, presentFile);
  }

  async get(owner: Owner, id: string): Promise<FileObject> {
    return presentFile(await this.load(owner, id));
  }

  async content(owner: Owner, id: string): Promise<{ rec: FileRecord; data: Buffer }> {
    const rec = await this.load(owner, id);
    const data = await this.store.readFileContent(id);
    if (!data) throw errors.notFound('File', id, 'file_id');
    return { rec, data };
  }

  async delete(owner: Owner, id: string) {
    await this.load(owner, id);
    await this.store.deleteFile(id);
    return { id, object: 'file' as const, deleted: true };
  }
}
