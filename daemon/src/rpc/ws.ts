/**
 * The WebSocket transport: one HTTP server on a loopback address, upgraded to WebSocket only for clients that
 * present the daemon token and no browser `Origin`. Both checks happen on the upgrade request, before a
 * connection exists, so an unauthenticated client never reaches a method.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from './registry.js';
import type { RpcServer } from './server.js';

/** Subprotocol prefix for clients that cannot set an Authorization header (browsers' WebSocket API, some editors). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'cairn.token.';

/** A client that stops reading must not make the daemon buffer without end. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export class NonLoopbackBindError extends Error {
  constructor(host: string) {
    super(`refusing to listen on ${host}: the Cairn daemon binds loopback only (127.0.0.1 or ::1); unset CAIRN_HOST`);
    this.name = 'NonLoopbackBindError';
  }
}

export function checkLoopback(host: string): string {
  if (!LOOPBACK.has(host)) throw new NonLoopbackBindError(host);
  return host === 'localhost' ? '127.0.0.1' : host;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison; hashing first gives equal lengths whatever the client sent. */
export function tokenMatches(presented: string | null, expected: string): boolean {
  if (presented === null) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

function presentedToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    return m?.[1] ?? null;
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols) {
    for (const p of protocols.split(',')) {
      const t = p.trim();
      if (t.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return t.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
    }
  }
  return null;
}

function refuse(socket: Duplex, status: number, reason: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroy();
}

export interface WsListener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting and closes every WebSocket. */
  close(): Promise<void>;
}

/** True when the request presents the daemon token (for plain HTTP endpoints beside the WebSocket, e.g. `/mcp`). */
export function hasToken(req: IncomingMessage, token: string): boolean {
  return tokenMatches(presentedToken(req), token);
}

export async function listenWebSocket(opts: {
  rpc: RpcServer;
  host: string;
  port?: number;
  token: string;
  log: Logger;
  /** Plain HTTP requests go here first; it answers true for those it handled (the MCP endpoint). */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => boolean;
}): Promise<WsListener> {
  const host = checkLoopback(opts.host);
  const { rpc, log, token } = opts;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: rpc.limits.maxFrameBytes,
    // The token subprotocol must be echoed back, or standard clients abort the handshake.
    handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) ?? false,
  });
  const http: Server = createServer((req, res) => {
    if (opts.onRequest?.(req, res)) return;
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('This is the Cairn daemon: connect with a WebSocket and the token from daemon.json (see docs/protocol.md).\n');
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (req.headers.origin !== undefined) {
      log.warn('upgrade refused: browser origin', { origin: String(req.headers.origin).slice(0, 200) });
      refuse(socket, 403, 'Forbidden', 'Connections from web pages are refused.\n');
      return;
    }
    if (!tokenMatches(presentedToken(req), token)) {
      log.warn('upgrade refused: missing or wrong token');
      refuse(socket, 401, 'Unauthorized', 'Present the token from daemon.json as "Authorization: Bearer <token>".\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    const peer = rpc.accept({
      kind: 'ws',
      send(text) {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          ws.close(1008, 'client is not reading its messages');
          return;
        }
        ws.send(text);
      },
      close(code, reason) {
        ws.close(code, reason);
      },
    });
    if (!peer) {
      if (rpc.opts.shutdownSignal.aborted) {
        ws.close(1001, 'daemon shutting down');
        return;
      }
      log.warn('connection refused: too many connections', { max: rpc.limits.maxConnections });
      ws.close(1013, `too many connections (max ${rpc.limits.maxConnections}); try again later`);
      return;
    }
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) log.debug('binary frame read as UTF-8 text', { connection: peer.id });
      peer.receive(buf.toString('utf8'));
    });
    // Oversize frames make `ws` close with 1009 and emit this error; the daemon itself is unaffected.
    ws.on('error', (err) => log.warn('websocket error', { connection: peer.id, error: err.message }));
    ws.on('close', () => peer.closed());
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen({ host, port: opts.port ?? 0 }, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    host,
    port,
    async close() {
      for (const ws of wss.clients) ws.close(1001, 'daemon shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
