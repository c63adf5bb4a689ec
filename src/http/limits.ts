// Connection-level limits: how long a client may take to send its request, how long an idle keep-alive
// connection stays open, and how many connections one address (and everyone) may hold. Without them one
// client that trickles bytes, or just opens sockets, can use up the process's descriptors and lock out
// everyone else, before any key is checked. Streams are not cut: Node's request and header timeouts
// cover receiving the request, never sending the response.
import type { Server } from 'node:http';
import type { HttpLimits } from '../config/index.js';

export type { HttpLimits };

/** Options for Fastify / http.createServer. */
export function serverOptions(l: HttpLimits) {
  return {
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // Node checks request and header deadlines on this period (30 s by default, which would let a
    // slow client keep its socket up to 30 s past its deadline).
    http: { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4))) },
  };
}

/** Caps on the listening server; call once it is created, before it listens. */
export function applyConnectionLimits(server: Server, l: HttpLimits): void {
  server.headersTimeout = Math.min(l.headersTimeoutMs, l.requestTimeoutMs || Infinity);
  if (l.maxConnections > 0) server.maxConnections = l.maxConnections;
  if (l.maxConnectionsPerAddress <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const addr = socket.remoteAddress ?? '';
    const n = (open.get(addr) ?? 0) + 1;
    if (n > l.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    open.set(addr, n);
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left > 0) open.set(addr, left);
      else open.delete(addr);
    });
  });
}
