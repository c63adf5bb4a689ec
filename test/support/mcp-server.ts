// A small MCP server for tests, built with the official SDK on loopback: Streamable HTTP (stateless) at
// /mcp and the legacy HTTP+SSE transport at /sse (+ /messages), to exercise respd's fallback. It records
// what it saw (Authorization headers, tool list requests, tool calls) so tests can assert on it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod/v4';

export interface TestMcpServer {
  /** http://127.0.0.1:PORT */
  url: string;
  authorizations: Array<string | undefined>;
  listCalls: number;
  toolCalls: Array<{ name: string; args: unknown }>;
  close(): Promise<void>;
}

export async function startMcpServer(): Promise<TestMcpServer> {
  const state = { authorizations: [] as Array<string | undefined>, listCalls: 0, toolCalls: [] as Array<{ name: string; args: unknown }> };

  const build = () => {
    const server = new McpServer({ name: 'test-mcp', version: '1.0.0' });
    server.registerTool('add', { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() }, annotations: { readOnlyHint: true } },
      async ({ a, b }) => {
        state.toolCalls.push({ name: 'add', args: { a, b } });
        return { content: [{ type: 'text', text: String(a + b) }] };
      });
    server.registerTool('fail', { description: 'Always fails.', inputSchema: {} }, async () => {
      state.toolCalls.push({ name: 'fail', args: {} });
      throw new Error('the fail tool failed on purpose');
    });
    server.registerTool('wipe_disk', { description: 'Dangerous; must be filtered out.', inputSchema: {} }, async () => {
      state.toolCalls.push({ name: 'wipe_disk', args: {} });
      return { content: [{ type: 'text', text: 'wiped' }] };
    });
    return server;
  };

  const sse = new Map<string, SSEServerTransport>();
  const httpServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = (req.url ?? '/').split('?')[0];
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      if (req.method !== 'GET' || path !== '/sse') state.authorizations.push(req.headers.authorization);
      // Count tools/list requests (the chain cache must avoid repeating them).
      if (body?.method === 'tools/list') state.listCalls++;
      try {
        if (path === '/mcp' && req.method === 'POST') {
          const server = build();
          const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
          res.on('close', () => void transport.close().then(() => server.close()));
          await server.connect(transport);
          await transport.handleRequest(req, res, body);
          return;
        }
        if (path === '/sse' && req.method === 'GET') {
          const transport = new SSEServerTransport('/messages', res);
          sse.set(transport.sessionId, transport);
          res.on('close', () => sse.delete(transport.sessionId));
          await build().connect(transport);
          return;
        }
        if (path === '/messages' && req.method === 'POST') {
          const id = new URL(req.url!, 'http://x').searchParams.get('sessionId') ?? '';
          const transport = sse.get(id);
          if (!transport) return void res.writeHead(404).end();
          await transport.handlePostMessage(req, res, body);
          return;
        }
        res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }));
      } catch (err) {
        if (!res.headersSent) res.writeHead(500).end(String(err));
      }
    });
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get authorizations() { return state.authorizations; },
    get listCalls() { return state.listCalls; },
    get toolCalls() { return state.toolCalls; },
    async close() {
      httpServer.closeAllConnections();
      await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
