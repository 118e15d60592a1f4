/**
 * A typed JSON-RPC client of the Cairn daemon over WebSocket, for the CLI, the VS Code extension and tests.
 * Depends only on `ws`, node: builtins and the protocol declarations, so an editor process can load it
 * without the daemon's internals.
 */
import WebSocket from 'ws';
import type { NotificationMethod, NotificationParamsOf, ParamsOf, RequestMethod, ResultOf } from '../index.js';
import { RpcErrorCodes, type ErrorCodeName } from '../errors.js';
import type { ProgressValue } from '../core.js';
import { CLIENT_PROOF_SCHEME, DAEMON_PROOF_HEADER, NONCE_HEADER, clientProof, daemonProof, newNonce, proofMatches } from '../handshake.js';
import { daemonUrl, DaemonIdentityError, type DiscoveryInfo } from './discovery.js';

export type { ProgressValue } from '../core.js';

export interface RequestOptions {
  signal?: AbortSignal;
  onProgress?: (value: ProgressValue) => void;
}

const codeNames = new Map<number, ErrorCodeName>(Object.entries(RpcErrorCodes).map(([name, code]) => [code, name as ErrorCodeName]));

/** An error response from the daemon, with the code's stable name for switching on. */
export class DaemonResponseError extends Error {
  readonly codeName: ErrorCodeName | null;
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'DaemonResponseError';
    this.codeName = codeNames.get(code) ?? null;
  }
}

/** The connection dropped before an answer arrived. */
export class ConnectionClosedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ConnectionClosedError';
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  cleanup(): void;
}

/**
 * Opens a WebSocket to the daemon `info` describes, proving knowledge of its token without sending it and
 * requiring the daemon's proof for the same nonce before resolving: nothing is sent on a socket whose other
 * end has not shown it knows the token (see protocol/handshake.ts).
 */
export function openDaemonSocket(info: Pick<DiscoveryInfo, 'host' | 'port' | 'token'>, opts: { timeoutMs?: number; maxPayload?: number } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const nonce = newNonce();
    const ws = new WebSocket(daemonUrl(info), {
      headers: { Authorization: `${CLIENT_PROOF_SCHEME} ${clientProof(info.token, nonce)}`, [NONCE_HEADER]: nonce },
      handshakeTimeout: opts.timeoutMs ?? 10_000,
      maxPayload: opts.maxPayload ?? 64 * 1024 * 1024,
    });
    let verified = false;
    ws.once('upgrade', (res) => {
      verified = proofMatches(res.headers[DAEMON_PROOF_HEADER] as string | undefined, daemonProof(info.token, nonce));
    });
    ws.once('open', () => {
      if (verified) return resolve(ws);
      ws.terminate();
      reject(new DaemonIdentityError(info.port));
    });
    ws.once('unexpected-response', (_req, res) => {
      reject(new ConnectionClosedError(`the daemon refused the connection (HTTP ${res.statusCode})`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(new ConnectionClosedError(`cannot connect to the daemon on port ${info.port}: ${err.message}`)));
  });
}

/** What a connected client of the daemon offers: requests (with progress and cancellation) and notifications. */
export interface RpcClient {
  request<M extends RequestMethod>(
    method: M,
    params: ParamsOf<M>,
    opts?: { signal?: AbortSignal; onProgress?: (value: ProgressValue) => void },
  ): Promise<ResultOf<M>>;
  onNotification<N extends NotificationMethod>(method: N, listener: (params: NotificationParamsOf<N>) => void): () => void;
  close(): Promise<void>;
}

export class DaemonClient implements RpcClient {
  private nextId = 1;
  private nextProgress = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly progress = new Map<string | number, (v: ProgressValue) => void>();
  private readonly listeners = new Map<string, Set<(params: never) => void>>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  private closedReason: string | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('close', (code, reason) => this.handleClose(`connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`));
    ws.on('error', () => undefined);
  }

  /** Opens an authenticated WebSocket to the daemon described by `info`, once the daemon has proved who it is. */
  static async connect(info: Pick<DiscoveryInfo, 'host' | 'port' | 'token'>, opts: { timeoutMs?: number } = {}): Promise<DaemonClient> {
    return new DaemonClient(await openDaemonSocket(info, opts));
  }

  request<M extends RequestMethod>(method: M, params: ParamsOf<M>, opts: RequestOptions = {}): Promise<ResultOf<M>> {
    if (this.closedReason !== null) return Promise.reject(new ConnectionClosedError(this.closedReason));
    const id = this.nextId++;
    let sent: Record<string, unknown> = (params ?? {}) as Record<string, unknown>;
    let token: number | undefined;
    if (opts.onProgress) {
      token = this.nextProgress++;
      this.progress.set(token, opts.onProgress);
      sent = { ...sent, progressToken: token };
    }
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const onAbort = () => this.notify('$/cancelRequest', { id });
      if (opts.signal?.aborted) {
        reject(new DaemonResponseError(RpcErrorCodes.Cancelled, 'Request cancelled'));
        return;
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        cleanup: () => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (token !== undefined) this.progress.delete(token);
        },
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: sent }));
    });
  }

  /** Sends a client→daemon notification (e.g. `$/cancelRequest`). */
  notify(method: string, params: unknown): void {
    if (this.closedReason === null) this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  onNotification<N extends NotificationMethod>(method: N, listener: (params: NotificationParamsOf<N>) => void): () => void {
    let set = this.listeners.get(method);
    if (!set) this.listeners.set(method, (set = new Set()));
    set.add(listener as (params: never) => void);
    return () => set.delete(listener as (params: never) => void);
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  get isOpen(): boolean {
    return this.closedReason === null;
  }

  async close(): Promise<void> {
    if (this.closedReason !== null) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000, 'client closing');
    });
  }

  private onFrame(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) this.onMessage(m as Record<string, unknown>);
  }

  private onMessage(m: Record<string, unknown>): void {
    if (typeof m.method === 'string') {
      const params = m.params as Record<string, unknown> | undefined;
      if (m.method === '$/progress' && params) {
        this.progress.get(params.token as string | number)?.(params.value as ProgressValue);
      }
      for (const l of this.listeners.get(m.method) ?? []) l(params as never);
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.cleanup();
    const error = m.error as { code: number; message: string; data?: unknown } | undefined;
    if (error) p.reject(new DaemonResponseError(error.code, error.message, error.data));
    else p.resolve(m.result);
  }

  private handleClose(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const p of this.pending.values()) {
      p.cleanup();
      p.reject(new ConnectionClosedError(reason));
    }
    this.pending.clear();
    for (const l of this.closeListeners) l(reason);
  }
}
