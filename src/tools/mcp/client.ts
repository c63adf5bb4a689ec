// One connection to a remote MCP server: Streamable HTTP first, the older HTTP+SSE transport when the
// server answers the Streamable HTTP handshake with an error (the fallback the MCP spec describes).
// Credentials travel only in request headers; nothing here logs them.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { mcpFetch } from './ssrf.js';

export interface McpToolInfo {
  name: string;
  description: string | null;
  input_schema: Record<string, unknown>;
  annotations: Record<string, unknown> | null;
}

export interface McpCallResult {
  output: string | null;
  error: string | null;
}

const CONNECT_TIMEOUT_MS = 15_000;
const CALL_TIMEOUT_MS = 120_000;

export function describeError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${msg}${cause}`.slice(0, 1000);
}

/** A tool result goes into the output item and the next prompt: bound it (a server may return anything). */
const MAX_OUTPUT_CHARS = 1_000_000;

function capped(text: string): string {
  return text.length <= MAX_OUTPUT_CHARS ? text : `${text.slice(0, MAX_OUTPUT_CHARS)}\n[truncated: the tool returned ${text.length} characters]`;
}

/** Text of a tool result: its text parts, else its structured content, else the raw content as JSON. */
function resultText(result: Record<string, any>): string {
  const content: any[] = Array.isArray(result.content) ? result.content : [];
  const texts = content.filter((c) => c?.type === 'text' && typeof c.text === 'string').map((c) => c.text);
  if (texts.length) return texts.join('\n');
  if (result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  if (result.toolResult !== undefined) return typeof result.toolResult === 'string' ? result.toolResult : JSON.stringify(result.toolResult);
  return JSON.stringify(content);
}

export class McpConnection {
  private constructor(private readonly client: Client, private readonly transport: Transport) {}

  static async open(serverUrl: string, headers: Record<string, string>, allowPrivate: boolean, signal: AbortSignal): Promise<McpConnection> {
    const url = new URL(serverUrl);
    const opts = { requestInit: { headers }, fetch: mcpFetch(allowPrivate) };
    const connectOpts = { signal, timeout: CONNECT_TIMEOUT_MS };
    const streamable = new StreamableHTTPClientTransport(url, opts);
    const client = new Client({ name: 'respd', version: '0.1.0' });
    try {
      await client.connect(streamable, connectOpts);
      return new McpConnection(client, streamable);
    } catch (first) {
      await client.close().catch(() => {});
      if (signal.aborted) throw first;
      const sse = new SSEClientTransport(url, opts);
      const legacy = new Client({ name: 'respd', version: '0.1.0' });
      try {
        await legacy.connect(sse, connectOpts);
        return new McpConnection(legacy, sse);
      } catch (second) {
        await legacy.close().catch(() => {});
        throw new Error(`could not connect (Streamable HTTP: ${describeError(first)}; SSE: ${describeError(second)})`);
      }
    }
  }

  async listTools(signal: AbortSignal): Promise<McpToolInfo[]> {
    const out: McpToolInfo[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const res = await this.client.listTools(cursor ? { cursor } : undefined, { signal, timeout: CONNECT_TIMEOUT_MS });
      for (const t of res.tools) {
        out.push({
          name: t.name,
          description: t.description ?? null,
          input_schema: (t.inputSchema ?? { type: 'object' }) as Record<string, unknown>,
          annotations: (t.annotations as Record<string, unknown> | undefined) ?? null,
        });
      }
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  /** Never throws for tool or protocol failures: they become `error`, which the model then reads. */
  async callTool(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<McpCallResult> {
    try {
      const result = await this.client.callTool({ name, arguments: args }, undefined, { signal, timeout: CALL_TIMEOUT_MS });
      const text = capped(resultText(result as Record<string, any>));
      return result.isError ? { output: null, error: text || 'The tool reported an error.' } : { output: text, error: null };
    } catch (err) {
      if (signal.aborted) throw err;
      return { output: null, error: describeError(err) };
    }
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
  }
}
