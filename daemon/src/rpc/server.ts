/**
 * The transport-agnostic JSON-RPC 2.0 engine. A transport (WebSocket or stdio) hands it each text frame and
 * a way to send one back; the engine parses, validates against the protocol module's zod schemas, runs the
 * handler with a cancellable context, and answers. Every fault a client can cause ends in an error response
 * (or a closed connection), never in an exception that escapes to the process.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import {
  notifications as declaredNotifications,
  requests as declaredRequests,
  RpcError,
  RpcErrorCodes,
  type ErrorCodeName,
  type NotificationMethod,
  type NotificationParamsOf,
  type RequestDef,
  type RequestMethod,
} from '../protocol/index.js';
import { StoreError, type Store, type StoreErrorKind } from '../store/types.js';
import { TopicHub } from './hub.js';
import { RequestMetrics } from './metrics.js';
import type { Connection, Handler, HandlerContext, HandlerRegistry, Logger, ProgressValue } from './registry.js';

export interface Limits {
  /** Largest frame accepted, in bytes. */
  maxFrameBytes: number;
  /** Requests of one connection running at once; more are answered `Busy`. */
  maxInFlight: number;
  /** Open connections; more are refused. */
  maxConnections: number;
  /** Topics one connection may subscribe to. */
  maxTopicsPerConnection: number;
}

export const defaultLimits: Limits = {
  maxFrameBytes: 8 * 1024 * 1024,
  maxInFlight: 64,
  maxConnections: 32,
  maxTopicsPerConnection: 1024,
};

/** What the engine needs from a transport for one connection. */
export interface Transport {
  /** `internal`: a connection the daemon opens to itself (the MCP endpoint calling protocol methods). */
  readonly kind: 'ws' | 'stdio' | 'internal';
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface RpcServerOptions {
  store: Store;
  log: Logger;
  shutdownSignal: AbortSignal;
  limits?: Partial<Limits>;
  /** Checks each result against its schema before sending (tests turn this on with CAIRN_VALIDATE_RESULTS=1). */
  validateResults?: boolean;
}

type Id = string | number | null;

interface ErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

interface Response {
  jsonrpc: '2.0';
  id: Id;
  result?: unknown;
  error?: ErrorObject;
}

const storeErrorCodes: Record<StoreErrorKind, ErrorCodeName> = {
  not_signed_in: 'NotSignedIn',
  schema_behind: 'SchemaBehind',
  permission_denied: 'PermissionDenied',
  not_found: 'NotFound',
  invalid_input: 'InvalidInput',
  conflict: 'Conflict',
  // The database is locked, closing or unreachable: the client may retry.
  unavailable: 'Busy',
  internal: 'InternalError',
};

/** `['a', 'b', 0, 'c']` → `a.b[0].c`; the empty string is the params object itself. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function errorObject(codeName: ErrorCodeName, message: string, data?: unknown): ErrorObject {
  return data === undefined ? { code: RpcErrorCodes[codeName], message } : { code: RpcErrorCodes[codeName], message, data };
}

function isId(v: unknown): v is Id {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

export class RpcServer implements HandlerRegistry {
  readonly hub = new TopicHub();
  readonly metrics = new RequestMetrics();
  readonly limits: Limits;
  private readonly handlers = new Map<string, Handler<RequestMethod>>();
  private readonly peers = new Set<PeerConnection>();

  constructor(readonly opts: RpcServerOptions) {
    this.limits = { ...defaultLimits, ...opts.limits };
  }

  handle<M extends RequestMethod>(method: M, handler: Handler<M>): void {
    if (!(method in declaredRequests)) throw new Error(`${method} is not declared in the protocol module`);
    if (this.handlers.has(method)) throw new Error(`${method} already has a handler`);
    this.handlers.set(method, handler as unknown as Handler<RequestMethod>);
  }

  /** Requests that have a handler, sorted. */
  get methods(): string[] {
    return [...this.handlers.keys()].sort();
  }

  get connectionCount(): number {
    return this.peers.size;
  }

  /** A new connection, or null when the daemon is at its connection limit or shutting down (the transport then refuses it). */
  accept(transport: Transport): PeerConnection | null {
    if (this.opts.shutdownSignal.aborted || this.peers.size >= this.limits.maxConnections) return null;
    const peer = new PeerConnection(this, transport);
    this.peers.add(peer);
    this.opts.log.info('connection opened', { connection: peer.id, transport: transport.kind });
    return peer;
  }

  /** Resolves once every request received so far, on every connection, has been answered. */
  async drainAll(): Promise<void> {
    await Promise.all([...this.peers].map((p) => p.drain()));
  }

  /** Aborts the in-flight requests of every connection and closes them (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const peer of [...this.peers]) {
      peer.transport.close(code, reason);
      peer.closed();
    }
  }

  /** @internal */
  forget(peer: PeerConnection): void {
    if (this.peers.delete(peer)) this.opts.log.info('connection closed', { connection: peer.id });
  }

  /** @internal */
  handlerFor(method: string): Handler<RequestMethod> | undefined {
    return this.handlers.get(method);
  }

  /** Maps any thrown value to the error a client sees; unexpected faults keep their details in the log only. */
  toErrorObject(err: unknown, method: string, connection: string): ErrorObject {
    if (err instanceof RpcError) return err.data === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, data: err.data };
    if (err instanceof StoreError) {
      const codeName = storeErrorCodes[err.kind];
      if (codeName === 'InternalError') {
        this.opts.log.error('store fault', { method, connection, error: err, sqlstate: err.sqlstate });
        return errorObject('InternalError', 'Internal error in the store; see the daemon log.');
      }
      return errorObject(codeName, err.message, err.sqlstate ? { sqlstate: err.sqlstate } : undefined);
    }
    this.opts.log.error('handler fault', { method, connection, error: err });
    return errorObject('InternalError', 'Internal error; see the daemon log.');
  }
}

interface InFlight {
  controller: AbortController;
}

export class PeerConnection implements Connection {
  readonly id = randomUUID().slice(0, 8);
  private readonly inFlight = new Map<string, InFlight>();
  private readonly topics = new Set<string>();
  private isClosed = false;
  /** Frames received whose answer is not sent yet (for `drain`). */
  private pending = 0;
  private drained: (() => void)[] = [];

  constructor(
    private readonly server: RpcServer,
    readonly transport: Transport,
  ) {}

  get subscriptions(): string[] {
    return [...this.topics].sort();
  }

  notify<N extends NotificationMethod>(method: N, params: NotificationParamsOf<N>): void {
    if (this.isClosed) return;
    if (this.server.opts.validateResults) {
      const def = declaredNotifications[method];
      const checked = def?.params.safeParse(params);
      if (!checked?.success) this.server.opts.log.error('notification does not match its schema', { method, issues: checked?.error.issues });
    }
    this.sendJson({ jsonrpc: '2.0', method, params });
  }

  subscribe(topic: string): void {
    if (this.topics.has(topic)) return;
    if (this.topics.size >= this.server.limits.maxTopicsPerConnection) {
      throw new RpcError('TooLarge', `at most ${this.server.limits.maxTopicsPerConnection} topics per connection`, {
        limit: 'maxTopicsPerConnection',
      });
    }
    this.topics.add(topic);
    this.server.hub.add(topic, this);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
    this.server.hub.remove(topic, this);
  }

  /** The transport closed: abort this connection's requests and drop its subscriptions. */
  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const f of this.inFlight.values()) f.controller.abort(new RpcError('Cancelled', 'connection closed'));
    this.inFlight.clear();
    for (const t of this.topics) this.server.hub.remove(t, this);
    this.topics.clear();
    this.server.forget(this);
  }

  /** A frame over the size limit that the transport skipped (stdio); WebSocket closes with 1009 instead. */
  frameTooLarge(bytes: number): void {
    this.sendJson({
      jsonrpc: '2.0',
      id: null,
      error: errorObject('TooLarge', `frame of ${bytes} bytes is over the ${this.server.limits.maxFrameBytes}-byte limit; it was skipped`, {
        limit: 'maxFrameBytes',
        max: this.server.limits.maxFrameBytes,
      }),
    });
  }

  /** One text frame from the transport. */
  receive(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.sendJson({ jsonrpc: '2.0', id: null, error: errorObject('ParseError', 'Parse error: the frame is not valid JSON') });
      return;
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) {
        this.sendJson({ jsonrpc: '2.0', id: null, error: errorObject('InvalidRequest', 'Invalid request: empty batch') });
        return;
      }
      this.track(
        Promise.all(msg.map((m) => this.dispatch(m))).then((answers) => {
          const responses = answers.filter((r): r is Response => r !== null);
          if (responses.length > 0) this.sendJson(responses);
        }),
      );
      return;
    }
    this.track(
      this.dispatch(msg).then((r) => {
        if (r) this.sendJson(r);
      }),
    );
  }

  /** Resolves once every frame received so far has been answered (stdio: answer everything before exiting). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private track(work: Promise<void>): void {
    this.pending++;
    void work
      .catch((err: unknown) => this.server.opts.log.error('sending a response failed', { connection: this.id, error: err }))
      .finally(() => {
        if (--this.pending === 0) for (const resolve of this.drained.splice(0)) resolve();
      });
  }

  private sendJson(value: unknown): void {
    if (this.isClosed) return;
    this.transport.send(JSON.stringify(value));
  }

  /** Handles one request or notification object; resolves to its response, or null for a notification. */
  private async dispatch(msg: unknown): Promise<Response | null> {
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      return { jsonrpc: '2.0', id: null, error: errorObject('InvalidRequest', 'Invalid request: expected an object') };
    }
    const m = msg as Record<string, unknown>;
    const hasId = 'id' in m;
    const id: Id = hasId && isId(m.id) ? m.id : null;
    if (m.jsonrpc !== '2.0' || typeof m.method !== 'string' || (hasId && !isId(m.id))) {
      return { jsonrpc: '2.0', id, error: errorObject('InvalidRequest', 'Invalid request: needs jsonrpc "2.0", a string method and a string or number id') };
    }
    if (m.params !== undefined && (m.params === null || typeof m.params !== 'object')) {
      return hasId ? { jsonrpc: '2.0', id, error: errorObject('InvalidRequest', 'Invalid request: params must be an object') } : null;
    }
    if (!hasId) {
      this.onNotification(m.method, m.params);
      return null;
    }
    return this.runRequest(id, m.method, m.params);
  }

  private onNotification(method: string, params: unknown): void {
    if (method === '$/cancelRequest') {
      const parsed = declaredNotifications['$/cancelRequest'].params.safeParse(params);
      if (parsed.success) this.inFlight.get(key(parsed.data.id))?.controller.abort(new RpcError('Cancelled', 'Request cancelled'));
      return;
    }
    // Unknown notifications are ignored, as JSON-RPC asks; no answer can be sent for them.
    this.server.opts.log.debug('notification ignored', { method: method.slice(0, 100), connection: this.id });
  }

  private async runRequest(id: Id, method: string, rawParams: unknown): Promise<Response> {
    const { opts, limits } = this.server;
    const handler = this.server.handlerFor(method);
    if (!handler) {
      return { jsonrpc: '2.0', id, error: errorObject('MethodNotFound', `Method not found: ${method.slice(0, 200)}`) };
    }
    if (Array.isArray(rawParams)) {
      return { jsonrpc: '2.0', id, error: errorObject('InvalidParams', 'Invalid params: pass params by name (an object)', { issues: [{ path: '', message: 'expected an object' }] }) };
    }
    if (opts.shutdownSignal.aborted) {
      return { jsonrpc: '2.0', id, error: errorObject('Busy', 'The daemon is shutting down; reconnect to the next one', { limit: 'shutdown' }) };
    }
    if (this.inFlight.size >= limits.maxInFlight) {
      opts.log.warn('request refused: too many in flight', { method, connection: this.id });
      this.server.metrics.record(method, 0, true);
      return {
        jsonrpc: '2.0',
        id,
        error: errorObject('Busy', `Busy: this connection already has ${limits.maxInFlight} requests running; retry later`, {
          limit: 'maxInFlight',
          max: limits.maxInFlight,
        }),
      };
    }
    const def = declaredRequests[method as RequestMethod] as unknown as RequestDef;
    const started = performance.now();
    const parsed = def.params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      this.server.metrics.record(method, performance.now() - started, true);
      return {
        jsonrpc: '2.0',
        id,
        error: errorObject('InvalidParams', `Invalid params for ${method}: ${describeIssue(parsed.error.issues[0])}`, {
          issues: parsed.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message })),
        }),
      };
    }

    const progressToken = (rawParams as { progressToken?: unknown } | undefined)?.progressToken;
    const controller = new AbortController();
    const onShutdown = () => controller.abort(new RpcError('Cancelled', 'The daemon is shutting down'));
    opts.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    const k = key(id);
    const entry: InFlight = { controller };
    this.inFlight.set(k, entry);
    const ctx: HandlerContext = {
      store: opts.store,
      signal: controller.signal,
      connection: this,
      hub: this.server.hub,
      log: opts.log,
      progress: (value: ProgressValue) => {
        if ((typeof progressToken === 'string' || typeof progressToken === 'number') && !controller.signal.aborted) {
          this.notify('$/progress', { token: progressToken, value });
        }
      },
    };

    let response: Response;
    try {
      const result = await handler(parsed.data as never, ctx);
      if (opts.validateResults) {
        const checked = def.result.safeParse(result);
        if (!checked.success) {
          opts.log.error('result does not match its schema', { method, issues: checked.error.issues });
          throw new Error(`result of ${method} does not match its schema`);
        }
      }
      response = { jsonrpc: '2.0', id, result: result ?? null };
    } catch (err) {
      response = controller.signal.aborted
        ? { jsonrpc: '2.0', id, error: errorObject('Cancelled', 'Request cancelled') }
        : { jsonrpc: '2.0', id, error: this.server.toErrorObject(err, method, this.id) };
    } finally {
      opts.shutdownSignal.removeEventListener('abort', onShutdown);
      if (this.inFlight.get(k) === entry) this.inFlight.delete(k);
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    this.server.metrics.record(method, durationMs, response.error !== undefined);
    opts.log.info('request', {
      method,
      durationMs,
      connection: this.id,
      ...(response.error ? { errorCode: response.error.code } : {}),
    });
    return response;
  }
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  const path = formatIssuePath(issue.path);
  return path ? `${path}: ${issue.message}` : issue.message;
}

function key(id: Id): string {
  return `${typeof id}:${String(id)}`;
}
