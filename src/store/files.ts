// Persistence of uploaded files (the Files API): a small record per file plus its bytes. The SQLite
// adapter keeps the bytes as files in the data folder (the database stays small and a download is a
// file read); the PostgreSQL adapter keeps them in the database, so every instance reads every file.
import type { Owner } from './types.js';

export interface FileRecord {
  id: string;
  tenant: string;
  endUser: string;
  createdAt: number;
  filename: string;
  purpose: string;
  bytes: number;
  /** What GET /files/{id}/content answers with. */
  mimeType: string;
  /** Unix seconds; null = kept until deleted. */
  expiresAt: number | null;
}

export interface FileListQuery {
  /** File id cursor (ids are time-ordered, so id order is creation order). */
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
  purpose?: string;
  /** Unix seconds: files that expired before it are not listed. */
  now: number;
}

export interface FileStore {
  /** Stores the record and its bytes, all or nothing. */
  createFile(rec: FileRecord, data: Buffer): Promise<void>;
  getFile(id: string): Promise<FileRecord | undefined>;
  listFiles(owner: Owner, q: FileListQuery): Promise<FileRecord[]>;
  /** The bytes; undefined if the file is gone. */
  readFileContent(id: string): Promise<Buffer | undefined>;
  /** Deletes the record, its bytes and every vector store's copy of it (chunks included). */
  deleteFile(id: string): Promise<boolean>;
}
