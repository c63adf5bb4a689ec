// Helpers for the fault suite (test/fault-*.test.ts): process memory, raw sockets, waiting for a
// background response.
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { KEY_A, type TestServer } from './server.js';

/** Resident set size of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Open file descriptors of a process (Linux /proc). */
export function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Opens a TCP connection to the server's port. */
export function connect(server: TestServer): Promise<net.Socket> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** The raw text of a GET request against the API (HTTP/1.1, keep-alive). */
export function rawGet(path: string, key: string | null = KEY_A): string {
  return `GET /api/v1/llm${path} HTTP/1.1\r\nHost: x\r\n${key ? `Authorization: Bearer ${key}\r\n` : ''}\r\n`;
}

/** Resolves with the status of a background response once it is no longer queued or in progress. */
export async function settled(server: TestServer, id: string, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await (await server.fetch(`/responses/${id}`)).json() as { status: string };
    if (r.status !== 'queued' && r.status !== 'in_progress') return r.status;
    if (Date.now() > end) throw new Error(`response ${id} still ${r.status} after ${ms} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
