// Persistence of containers (the Containers API and the code_interpreter tool): a record per container
// and its files, bytes included, in the database on both adapters. Container files are small working
// files (CODE_INTERPRETER_MAX_FILE_BYTES each) that a run on any instance must read, so they live with
// their record, like the PostgreSQL files table; deleting a container deletes its files in the same statement.
import type { Owner } from './types.js';

export interface ContainerRecord {
  id: string;
  tenant: string;
  endUser: string;
  name: string;
  /** Unix seconds. */
  createdAt: number;
  lastActiveAt: number;
  /** expires_after: minutes after last_active_at. */
  expiresMinutes: number;
  /** '1g' | '4g' | '16g' | '64g' (OpenAI's names; the sandbox caps it, see config/code-interpreter.ts). */
  memoryLimit: string;
}

export interface ContainerFileRecord {
  id: string;
  containerId: string;
  /** Absolute path inside the container: /mnt/data/<name>. */
  path: string;
  bytes: number;
  /** 'user' (uploaded or given as file_ids) or 'assistant' (written by code). */
  source: 'user' | 'assistant';
  createdAt: number;
}

export interface ContainerPage {
  /** Id cursor (ids are time-ordered). */
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
  /** Containers only: exactly this name. */
  name?: string;
}

export interface ContainerStore {
  createContainer(rec: ContainerRecord): Promise<void>;
  getContainer(id: string): Promise<ContainerRecord | undefined>;
  listContainers(owner: Owner, q: ContainerPage): Promise<ContainerRecord[]>;
  touchContainer(id: string, at: number): Promise<void>;
  /** The container and all its files. */
  deleteContainer(id: string): Promise<boolean>;
  /** Adds a file, replacing the container's file at the same path (one path, one file). */
  putContainerFile(rec: ContainerFileRecord, data: Buffer): Promise<void>;
  getContainerFile(containerId: string, fileId: string): Promise<ContainerFileRecord | undefined>;
  listContainerFiles(containerId: string, q: ContainerPage): Promise<ContainerFileRecord[]>;
  readContainerFile(containerId: string, fileId: string): Promise<Buffer | undefined>;
  deleteContainerFile(containerId: string, fileId: string): Promise<boolean>;
}

// Rows as both adapters read them: PostgreSQL returns BIGINT columns as strings, SQLite as numbers,
// so the mappers convert with Number() and serve both.
type Big = number | string;
export interface ContainerRow { id: string; tenant: string; end_user: string; name: string; created_at: Big; last_active_at: Big; expires_minutes: number; memory_limit: string }
export interface ContainerFileRow { id: string; container_id: string; path: string; bytes: Big; source: 'user' | 'assistant'; created_at: Big }
export const CONTAINER_COLS = 'id, tenant, end_user, name, created_at, last_active_at, expires_minutes, memory_limit';
export const CONTAINER_FILE_COLS = 'id, container_id, path, bytes, source, created_at';
export const toContainer = (r: ContainerRow): ContainerRecord => ({
  id: r.id, tenant: r.tenant, endUser: r.end_user, name: r.name, createdAt: Number(r.created_at), lastActiveAt: Number(r.last_active_at),
  expiresMinutes: r.expires_minutes, memoryLimit: r.memory_limit,
});
export const toContainerFile = (r: ContainerFileRow): ContainerFileRecord => ({
  id: r.id, containerId: r.container_id, path: r.path, bytes: Number(r.bytes), source: r.source, createdAt: Number(r.created_at),
});
/** Keyset paging by id (ids are time-ordered). */
export const containerPage = (q: ContainerPage) => ({ cmp: q.order === 'desc' ? '<' : '>', dir: q.order === 'desc' ? 'DESC' : 'ASC' });
