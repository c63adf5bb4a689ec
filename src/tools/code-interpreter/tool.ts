// The hosted `code_interpreter` tool. The model sees one function `python` taking `{code}`; each call
// is a `code_interpreter_call` item (code, container_id, outputs — shown only with
// `include=code_interpreter_call.outputs`) with events response.code_interpreter_call.in_progress,
// …_code.delta/done, .interpreting, .completed. The container (an id, or `{type:"auto"}`: one made for
// this response on its first call) is materialised into a fresh run folder, the code runs in the
// sandbox (sandbox.ts) with that folder as /mnt/data, and what the code wrote or changed becomes container
// files (source "assistant") that later messages cite with container_file_citation annotations.
import { chown, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { CodeInterpreterConfig } from '../../config/code-interpreter.js';
import type { FunctionToolDef } from '../../providers/types.js';
import type { Owner } from '../../store/types.js';
import type { CancelSignal } from '../../util/cancel.js';
import { toAbortSignal } from '../../util/cancel.js';
import type { EventSink } from '../../wire/events.js';
import { newId } from '../../wire/ids.js';
import type { Item } from '../../wire/types.js';
import { closeItem, itemEvent, openItem } from '../emit.js';
import type { RunDir, Sandbox, SandboxResult } from './sandbox.js';

export const CODE_INTERPRETER_FUNCTION = 'python';
/** Most files one run may leave behind (more are not kept, and the model is told). */
const MAX_FILES = 100;

export const codeInterpreterFunctionDef: FunctionToolDef = {
  name: CODE_INTERPRETER_FUNCTION,
  description: 'Run Python 3 code in a sandbox without network access. The working folder /mnt/data holds the user\'s files, ' +
    'and files written there are kept and can be given to the user. numpy, pandas and matplotlib are installed. The result ' +
    'is what the code prints and the value of its last expression; matplotlib figures left open are shown to the user.',
  parameters: {
    type: 'object',
    properties: { code: { type: 'string', description: 'The Python code to run.' } },
    required: ['code'],
    additionalProperties: false,
  },
  strict: false,
};

/** The container a run uses. */
export interface RunContainer {
  id: string;
  memoryLimit: string;
}

/**
 * What the tool may do with containers (implemented by containers/tool-access.ts, handed in by server.ts):
 * open the call's container (an id, or `auto`: one per response, remembered in `state`), read its files,
 * keep what the code wrote (null: a path that cannot be a container file), drop what it deleted, mark it used.
 */
export interface ContainerAccess {
  open(owner: Owner, container: unknown, responseId: string, state: { auto?: string }): Promise<RunContainer>;
  files(containerId: string): AsyncIterable<{ id: string; rel: string; data: Buffer }>;
  put(containerId: string, rel: string, data: Buffer): Promise<{ id: string } | null>;
  remove(containerId: string, fileId: string): Promise<void>;
  touch(containerId: string): Promise<void>;
}

/** What runs the tool: the sandbox, where containers live, the limits. */
export interface CodeInterpreterBackend {
  sandbox: Sandbox;
  containers: ContainerAccess;
  cfg: CodeInterpreterConfig;
}

const DATA_ROOT = '/mnt/data';

/** A file written by code, which a later message may cite (container_file_citation). */
export interface ContainerCitable {
  container_id: string;
  file_id: string;
  filename: string;
}

export interface CodeInterpreterRun {
  item: Item;
  resultText: string;
  files: ContainerCitable[];
}

const MEMORY_MB: Record<string, number> = { '1g': 1024, '4g': 4096, '16g': 16384, '64g': 65536 };

/** Regular files under `root` (symbolic links and other kinds are never followed), by path relative to it. */
async function walk(root: string, dir = root, out = new Map<string, { size: number; mtimeMs: number }>()): Promise<Map<string, { size: number; mtimeMs: number }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) await walk(root, p, out);
    else if (st.isFile()) out.set(relative(root, p), { size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}

/** Writes the container's files into the run folder; returns what was there (to see what the run changed). */
async function materialise(backend: CodeInterpreterBackend, container: RunContainer, dir: RunDir) {
  const before = new Map<string, string>(); // relative path -> file id
  for await (const f of backend.containers.files(container.id)) {
    if (!f.rel || f.rel.split('/').includes('..')) continue;
    const target = join(dir.data, f.rel);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.data);
    if (dir.uid !== undefined) {
      for (let d = dirname(target); d.startsWith(dir.data) && d !== dir.data; d = dirname(d)) await chown(d, dir.uid, dir.uid);
      await chown(target, dir.uid, dir.uid);
    }
    before.set(f.rel, f.id);
  }
  return { before, stats: await walk(dir.data) };
}

/** Stores what the run wrote or changed, drops what it deleted; returns the new files and a note of what was not kept. */
async function collect(backend: CodeInterpreterBackend, container: RunContainer, dir: RunDir, m: Awaited<ReturnType<typeof materialise>>) {
  const now = await walk(dir.data);
  const files: ContainerCitable[] = [];
  const skipped: string[] = [];
  for (const [rel, st] of now) {
    const old = m.stats.get(rel);
    if (old && old.size === st.size && old.mtimeMs === st.mtimeMs) continue;
    const rec = st.size > backend.cfg.maxFileBytes || files.length >= MAX_FILES ? null
      : await backend.containers.put(container.id, rel, await readFile(join(dir.data, rel)));
    if (!rec) {
      skipped.push(rel);
      continue;
    }
    files.push({ container_id: container.id, file_id: rec.id, filename: rel.split('/').pop()! });
  }
  for (const [rel, id] of m.before) if (!now.has(rel)) await backend.containers.remove(container.id, id);
  return { files, skipped };
}

function resultTextOf(r: SandboxResult | undefined, files: ContainerCitable[], skipped: string[], error?: string): string {
  if (error) return `The code could not run: ${error}`;
  const parts = [r!.logs.trim() ? r!.logs : '(no output)'];
  if (r!.images.length) parts.push(`[${r!.images.length} figure(s) shown to the user]`);
  if (files.length) parts.push(`[files saved: ${files.map((f) => `${DATA_ROOT}/${f.filename}`).join(', ')}]`);
  if (skipped.length) parts.push(`[not kept (too large or too many): ${skipped.join(', ')}]`);
  return parts.join('\n');
}

export async function runCodeInterpreter(
  log: EventSink, backend: CodeInterpreterBackend, tool: Item, owner: Owner, state: { auto?: string },
  args: Record<string, unknown>, signal: CancelSignal,
): Promise<CodeInterpreterRun> {
  const code = typeof args.code === 'string' ? args.code : '';
  let container: RunContainer | undefined;
  let result: SandboxResult | undefined;
  let files: ContainerCitable[] = [];
  let skipped: string[] = [];
  let error: string | undefined;
  // The container first, so the item names it from its first event (a container that cannot be opened fails the call).
  try {
    container = await backend.containers.open(owner, tool.container, log.id, state);
  } catch (err) {
    error = (err as Error).message;
  }
  const item: Item = { id: newId('ci'), type: 'code_interpreter_call', status: 'in_progress', code: '', container_id: container?.id ?? '', outputs: null };
  const index = openItem(log, item);
  itemEvent(log, 'response.code_interpreter_call.in_progress', index, item.id!);
  if (code) itemEvent(log, 'response.code_interpreter_call_code.delta', index, item.id!, { delta: code });
  itemEvent(log, 'response.code_interpreter_call_code.done', index, item.id!, { code });
  itemEvent(log, 'response.code_interpreter_call.interpreting', index, item.id!);
  try {
    if (error) throw new Error(error);
    if (!code.trim()) throw new Error('the call has no code');
    if (!container) throw new Error('no container');
    const dir = await backend.sandbox.makeRunDir();
    try {
      const m = await materialise(backend, container, dir);
      const memoryMb = Math.min(MEMORY_MB[container.memoryLimit] ?? backend.cfg.memoryMb, backend.cfg.maxMemoryMb);
      result = await backend.sandbox.run(dir, code, Math.max(memoryMb, backend.cfg.memoryMb), toAbortSignal(signal));
      ({ files, skipped } = await collect(backend, container, dir, m));
      await backend.containers.touch(container.id);
    } finally {
      await backend.sandbox.removeRunDir(dir);
    }
  } catch (err) {
    error = (err as Error).message;
  }
  const outputs = error ? [{ type: 'logs', logs: `Error: ${error}` }] : [
    ...(result!.logs ? [{ type: 'logs', logs: result!.logs }] : []),
    ...result!.images.map((png) => ({ type: 'image', url: `data:image/png;base64,${png.toString('base64')}` })),
  ];
  const failed = Boolean(error) || (result && result.outcome !== 'ok' && result.outcome !== 'error');
  const done: Item = { ...item, code, container_id: container?.id ?? '', outputs, status: failed ? 'failed' : 'completed' };
  if (!failed) itemEvent(log, 'response.code_interpreter_call.completed', index, item.id!);
  closeItem(log, index, done);
  return { item: done, resultText: resultTextOf(result, files, skipped, error), files };
}

/**
 * container_file_citation annotations for a message written after code wrote files: a file whose name the
 * text mentions is cited over that mention; when it mentions none, every file spans the whole text.
 */
export function containerCitationsFor(text: string, files: ContainerCitable[]) {
  const found = files.flatMap((f) => {
    const at = text.indexOf(f.filename);
    return at >= 0 ? [{ f, start: at, end: at + f.filename.length }] : [];
  }).sort((a, b) => a.start - b.start);
  const cite = (f: ContainerCitable, start: number, end: number) => ({
    type: 'container_file_citation' as const, container_id: f.container_id, file_id: f.file_id, filename: f.filename, start_index: start, end_index: end,
  });
  if (found.length) return found.map(({ f, start, end }) => cite(f, start, end));
  return files.map((f) => cite(f, 0, text.length));
}
