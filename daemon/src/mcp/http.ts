/**
 * MCP's Streamable HTTP transport at `/mcp` on the daemon's loopback port, with the WebSocket's rules: the
 * daemon token as `Authorization: Bearer`, and any browser `Origin` refused (a web page reaching a loopback
 * port through DNS rebinding gets nothing). Stateless: each POST gets a fresh server and transport, and an
 * in-process connection to the daemon that is closed (aborting its work) when the HTTP exchange ends.
 * `?root=/abs/folder` names the workspace folder tools use by default.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute } from 'node:path';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Logger } from '../log/logger.js';
import { openInternalConnection } from '../rpc/internal.js';
import type { RpcServer } from '../rpc/server.js';
import { createMcpServer } from './server.js';

export const MCP_PATH = '/mcp';

function jsonError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));
}

/** Reads a JSON body of at most `max` bytes (the WebSocket's frame limit), refusing more as it arrives. */
async function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw Object.assign(new Error(`request body over the ${max}-byte limit`), { status: 413 });
    parts.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw Object.assign(new Error('request body is not valid JSON'), { status: 400 });
  }
}

export interface McpHttpOptions {
  readonly rpc: RpcServer;
  readonly log: Logger;
  /** Checks the bearer token (constant time); the WebSocket's check. */
  readonly authorized: (req: IncomingMessage) => boolean;
}

/** Handles a request to `/mcp`; answers false for any other path so the caller can. */
export function handleMcpHttp(opts: McpHttpOptions, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== MCP_PATH) return false;
  if (req.headers.origin !== undefined) {
    opts.log.warn('mcp request refused: browser origin', { origin: String(req.headers.origin).slice(0, 200) });
    jsonError(res, 403, 'Requests from web pages are refused.');
    return true;
  }
  if (!opts.authorized(req)) {
    opts.log.warn('mcp request refused: missing or wrong token');
    jsonError(res, 401, 'Present the token from daemon.json as "Authorization: Bearer <token>".', { 'WWW-Authenticate': 'Bearer' });
    return true;
  }
  if (req.method !== 'POST') {
    // Stateless: no standalone SSE stream and no session to delete.
    jsonError(res, 405, 'Method not allowed: this MCP endpoint is stateless; POST JSON-RPC messages.', { Allow: 'POST' });
    return true;
  }
  const root = url.searchParams.get('root');
  if (root !== null && !isAbsolute(root)) {
    jsonError(res, 400, 'root must be an absolute path');
    return true;
  }
  void serve(opts, req, res, root);
  return true;
}

async function serve(opts: McpHttpOptions, req: IncomingMessage, res: ServerResponse, root: string | null): Promise<void> {
  let body: unknown;
  try {
    body = await readBody(req, opts.rpc.limits.maxFrameBytes);
  } catch (err) {
    const status = (err as { status?: number }).status ?? 400;
    jsonError(res, status, (err as Error).message);
    if (status === 413) req.destroy();
    return;
  }
  let connection;
  try {
    connection = openInternalConnection(opts.rpc);
  } catch (err) {
    jsonError(res, 503, (err as Error).message, { 'Retry-After': '1' });
    return;
  }
  const server = createMcpServer({ call: connection.call, defaultRoot: root });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    connection.close();
    void transport.close();
    void server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  } catch (err) {
    opts.log.error('mcp request failed', { error: err });
    if (!res.headersSent) jsonError(res, 500, 'Internal error; see the daemon log.');
  }
}
