/**
 * A connection the daemon opens to itself, so that in-process callers (the MCP endpoint) use protocol methods
 * exactly as a client does: the same validation, limits, cancellation, metrics and acting user. Requests go
 * through `PeerConnection.receive` as JSON text, so nothing here can skip a check a client would meet.
 */
import { RpcError, type ErrorCodeName, RpcErrorCodes } from '../protocol/errors.js';
import type { ParamsOf, RequestMethod, ResultOf } from '../protocol/index.js';
import type { RpcServer } from './server.js';

/** Calls one protocol method; what a CLI command, the extension and the MCP tools all need. */
export type CallMethod = <M extends RequestMethod>(method: M, params: ParamsOf<M>, opts?: { signal?: AbortSignal }) => Promise<ResultOf<M>>;

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const codeNames = new Map<number, ErrorCodeName>(Object.entries(RpcErrorCodes).map(([name, code]) => [code, name as ErrorCodeName]));

export interface InternalConnection {
  readonly call: CallMethod;
  /** Aborts what is still running (the caller went away) and frees the connection slot. */
  close(): void;
}

/** Opens an in-process connection, or throws `Busy` when the daemon is at its connection limit or stopping. */
export function openInternalConnection(rpc: RpcServer): InternalConnection {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const peer = rpc.accept({
    kind: 'internal',
    send(text) {
      const msg = JSON.parse(text) as { id?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } };
      if (typeof msg.id !== 'number') return; // notifications: nobody in-process subscribes
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new RpcError(codeNames.get(msg.error.code) ?? 'InternalError', msg.error.message, msg.error.data as Record<string, unknown> | undefined));
      else p.resolve(msg.result);
    },
    close() {
      for (const p of pending.values()) p.reject(new RpcError('Cancelled', 'connection closed'));
      pending.clear();
    },
  });
  if (!peer) throw new RpcError('Busy', 'The daemon is at its connection limit or shutting down; retry later');
  const call: CallMethod = (method, params, opts = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const onAbort = () => peer.receive(JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } }));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      peer.receive(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  return {
    call,
    close() {
      peer.closed();
      for (const p of pending.values()) p.reject(new RpcError('Cancelled', 'connection closed'));
      pending.clear();
    },
  };
}
