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
