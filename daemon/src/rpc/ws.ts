/**
 * The WebSocket transport: one HTTP server on a loopback address, upgraded to WebSocket only for clients that
 * present the daemon token (or its HMAC over their nonce) and no browser `Origin`. Both checks happen on the
 * upgrade request, before a connection exists, so an unauthenticated client never reaches a method. A TCP
 * connection gets a few seconds to complete that upgrade, and only so many may be waiting at once, so idle
 * sockets cannot use up the daemon's file handles.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLIENT_PROOF_SCHEME, DAEMON_PROOF_HEADER, NONCE_HEADER, NONCE_PATTERN, clientProof, daemonProof, proofMatches } from '../protocol/handshake.js';
import { PROTOCOL_LIMITS } from '../protocol/limits.js';
import type { Logger } from '../log/logger.js';
import type { RpcServer } from './server.js';

/** Subprotocol prefix for clients that cannot set an Authorization header (browsers' WebSocket API, some editors). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'cairn.token.';

/** Nonces already answered, so a recorded client proof cannot be replayed; bounded, oldest forgotten first. */
const REMEMBERED_NONCES = 4096;

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

const HMAC_AUTHORIZATION = new RegExp(`^${CLIENT_PROOF_SCHEME}\\s+([0-9a-f]{64})$`, 'i');

/** What an upgrade request presents: the token itself, or the HMAC of the token over its nonce. */
type Credential = { kind: 'token'; token: string } | { kind: 'proof'; proof: string; nonce: string } | null;

function nonceOf(req: IncomingMessage): string | null {
  const n = req.headers[NONCE_HEADER];
  return typeof n === 'string' && NONCE_PATTERN.test(n) ? n : null;
}

function presentedCredential(req: IncomingMessage): Credential {
  const auth = req.headers.authorization;
  if (auth) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
    if (bearer) return { kind: 'token', token: bearer[1]! };
    const hmac = HMAC_AUTHORIZATION.exec(auth);
    const nonce = nonceOf(req);
    return hmac && nonce ? { kind: 'proof', proof: hmac[1]!.toLowerCase(), nonce } : null;
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols) {
    for (const p of protocols.split(',')) {
      const t = p.trim();
      if (t.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return { kind: 'token', token: t.slice(TOKEN_SUBPROTOCOL_PREFIX.length) };
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
  const cred = presentedCredential(req);
  return cred?.kind === 'token' && tokenMatches(cred.token, token);
}

export interface WsOptions {
  rpc: RpcServer;
  host: string;
  port?: number;
  token: string;
  log: Logger;
  /** Plain HTTP requests go here first; it answers true for those it handled (the MCP endpoint). */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Tests shorten these; the protocol's values otherwise. */
  handshakeTimeoutMs?: number;
  maxUnauthenticated?: number;
}

export async function listenWebSocket(opts: WsOptions): Promise<WsListener> {
  const host = checkLoopback(opts.host);
  const { rpc, log, token } = opts;
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? PROTOCOL_LIMITS.handshakeTimeoutMs;
  const maxUnauthenticated = opts.maxUnauthenticated ?? PROTOCOL_LIMITS.maxUnauthenticatedConnections;
  const usedNonces = new Set<string>();
  /** The daemon's proof for each upgrade that sent a nonce, added to its 101 answer. */
  const proofs = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: rpc.limits.maxFrameBytes,
    // The token subprotocol must be echoed back, or standard clients abort the handshake.
    handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) ?? false,
  });
  wss.on('headers', (headers, req) => {
    const proof = proofs.get(req);
    if (proof) headers.push(`${DAEMON_PROOF_HEADER}: ${proof}`);
  });

  /** Checks a credential; a nonce counts once, so a proof seen once is worthless afterwards. */
  const authenticate = (req: IncomingMessage): boolean => {
    const cred = presentedCredential(req);
    if (!cred) return false;
    const nonce = cred.kind === 'proof' ? cred.nonce : nonceOf(req);
    if (nonce !== null && usedNonces.has(nonce)) return false;
    const ok = cred.kind === 'token' ? tokenMatches(cred.token, token) : proofMatches(cred.proof, clientProof(token, cred.nonce));
    if (!ok) return false;
    if (nonce !== null) {
      usedNonces.add(nonce);
      if (usedNonces.size > REMEMBERED_NONCES) usedNonces.delete(usedNonces.values().next().value!);
      proofs.set(req, daemonProof(token, nonce));
    }
    return true;
  };

  const http: Server = createServer((req, res) => {
    // A request with the token (the MCP endpoint) is an authenticated connection: no handshake timeout.
    if (hasToken(req, token)) settle(req.socket);
    if (opts.onRequest?.(req, res)) return;
    // A client may prove the daemon's identity without opening a connection: plain HTTP with its nonce and
    // proof gets the daemon's proof back (discovery checks a daemon.json this way).
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    const proof = req.headers.origin === undefined && authenticate(req) ? proofs.get(req) : undefined;
    if (proof) headers[DAEMON_PROOF_HEADER] = proof;
    res.writeHead(426, headers);
    res.end('This is the Cairn daemon: connect with a WebSocket and the token from daemon.json (see docs/protocol.md).\n');
  });

  // TCP connections that have not completed an authenticated upgrade, oldest first.
  const waiting = new Map<Socket, NodeJS.Timeout>();
  const settle = (socket: Socket) => {
    const timer = waiting.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    waiting.delete(socket);
  };
  http.on('connection', (socket: Socket) => {
    if (waiting.size >= maxUnauthenticated) {
      const [oldest] = waiting.keys();
      log.warn('dropped the oldest connection waiting for its handshake', { max: maxUnauthenticated });
      settle(oldest!);
      oldest!.destroy();
    }
    const timer = setTimeout(() => {
      waiting.delete(socket);
      socket.destroy();
    }, handshakeTimeoutMs);
    timer.unref();
    waiting.set(socket, timer);
    socket.once('close', () => settle(socket));
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (req.headers.origin !== undefined) {
      log.warn('upgrade refused: browser origin', { origin: String(req.headers.origin).slice(0, 200) });
      refuse(socket, 403, 'Forbidden', 'Connections from web pages are refused.\n');
      return;
    }
    if (!authenticate(req)) {
      log.warn('upgrade refused: missing or wrong token');
      refuse(socket, 401, 'Unauthorized', 'Present the token from daemon.json as "Authorization: Bearer <token>", or its HMAC (see docs/protocol.md).\n');
      return;
    }
    settle(socket as Socket);
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    const peer = rpc.accept({
      kind: 'ws',
      send(text) {
        if (ws.readyState !== ws.OPEN) return;
        // Counted with the message about to be queued: one huge answer cannot slip in under the check.
        if (ws.bufferedAmount + text.length > PROTOCOL_LIMITS.maxUnreadOutputBytes) {
          log.warn('connection closed: client is not reading its messages', { bufferedBytes: ws.bufferedAmount });
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
  // After listening, errors come from accepting connections: out of file handles is said as such, and the
  // daemon keeps serving the connections it has (an unhandled 'error' would end the process).
  http.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') log.error('out of file handles: a connection could not be accepted', { code: err.code, waiting: waiting.size });
    else log.error('listener error', { code: err.code, error: err.message });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    host,
    port,
    async close() {
      for (const [socket, timer] of waiting) {
        clearTimeout(timer);
        socket.destroy();
      }
      waiting.clear();
      for (const ws of wss.clients) ws.close(1001, 'daemon shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
