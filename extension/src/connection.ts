/**
 * Finds the running daemon through its discovery file ($CAIRN_HOME/daemon.json) or starts the one bundled in
 * the extension (dist/daemon.mjs) with VS Code's own runtime (`process.execPath` with ELECTRON_RUN_AS_NODE=1,
 * so users need no Node.js), then opens a JSON-RPC 2.0 WebSocket to it with the discovery token.
 */
import * as vscode from 'vscode';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { DaemonClient, ProgressValue, RequestOptions } from './client.js';
import { log } from './log.js';

interface Discovery {
  port: number;
  pid: number;
  token: string;
  version?: string;
}

export function cairnHome(): string {
  return process.env.CAIRN_HOME && process.env.CAIRN_HOME.length > 0 ? process.env.CAIRN_HOME : join(homedir(), '.cairn');
}

async function readDiscovery(home: string): Promise<Discovery | null> {
  try {
    const d = JSON.parse(await readFile(join(home, 'daemon.json'), 'utf8')) as Discovery;
    if (typeof d.port !== 'number' || typeof d.token !== 'string') return null;
    process.kill(d.pid, 0);
    return d;
  } catch {
    return null;
  }
}

async function startDaemon(extension: vscode.ExtensionContext, home: string): Promise<Discovery> {
  const script = vscode.Uri.joinPath(extension.extensionUri, 'dist', 'daemon.mjs').fsPath;
  log().info(`starting the daemon: ${script}`);
  const child = spawn(process.execPath, [script], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', CAIRN_HOME: home },
  });
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  child.unref();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const d = await readDiscovery(home);
    if (d) return d;
    if (exited !== null) throw new Error(`the Cairn daemon exited at start (code ${exited}); see ${join(home, 'logs', 'daemon.log')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the Cairn daemon did not start within 30 s');
}

export async function connectDaemon(extension: vscode.ExtensionContext): Promise<DaemonClient> {
  const home = cairnHome();
  const found = await readDiscovery(home);
  try {
    if (found) return await openClient(found);
  } catch (err) {
    log().warn(`discovered daemon did not answer (${String(err)}); starting a new one`);
  }
  return openClient(await startDaemon(extension, home));
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void; onProgress?: (v: ProgressValue) => void };

export class DaemonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'DaemonRpcError';
  }
}

function openClient(d: Discovery): Promise<DaemonClient> {
  return new Promise((resolveOpen, rejectOpen) => {
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}`, { headers: { Authorization: `Bearer ${d.token}` }, handshakeTimeout: 5000 });
    const pending = new Map<number, Pending>();
    const progress = new Map<string, (v: ProgressValue) => void>();
    const listeners = new Map<string, Set<(p: unknown) => void>>();
    let nextId = 1;
    let markClosed!: () => void;
    const closed = new Promise<void>((r) => (markClosed = r));

    ws.on('message', (raw) => {
      let msg: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } };
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        return;
      }
      if (msg.method) {
        if (msg.method === '$/progress') {
          const p = msg.params as { token: string; value: ProgressValue };
          progress.get(String(p.token))?.(p.value);
        }
        for (const l of listeners.get(msg.method) ?? []) l(msg.params);
        return;
      }
      if (typeof msg.id !== 'number') return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new DaemonRpcError(msg.error.code, msg.error.message, msg.error.data));
      else p.resolve(msg.result);
    });
    ws.once('close', () => {
      for (const p of pending.values()) p.reject(new Error('the connection to the Cairn daemon closed'));
      pending.clear();
      markClosed();
    });
    ws.once('error', (err) => rejectOpen(err));
    ws.once('open', () => {
      const client: DaemonClient = {
        closed,
        request(method, params, opts?: RequestOptions) {
          const id = nextId++;
          const withToken = opts?.onProgress ? { ...(params as object), progressToken: `p${id}` } : params;
          return new Promise((resolve, reject) => {
            if (opts?.signal?.aborted) return reject(new DaemonRpcError(-31905, 'cancelled'));
            if (opts?.onProgress) progress.set(`p${id}`, opts.onProgress);
            pending.set(id, {
              resolve: (v) => {
                progress.delete(`p${id}`);
                resolve(v as never);
              },
              reject: (e) => {
                progress.delete(`p${id}`);
                reject(e);
              },
            });
            opts?.signal?.addEventListener('abort', () => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } })), { once: true });
            ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: withToken }));
          });
        },
        onNotification(method, listener) {
          let set = listeners.get(method);
          if (!set) listeners.set(method, (set = new Set()));
          set.add(listener as (p: unknown) => void);
          return () => set.delete(listener as (p: unknown) => void);
        },
        async close() {
          ws.close();
          await closed;
        },
      };
      resolveOpen(client);
    });
  });
}
