/**
 * The transport-agnostic JSON-RPC 2.0 engine. A transport (WebSocket or stdio) hands it each text frame and
 * a way to send one back; the engine parses, validates against the protocol module's zod schemas, runs the
 * handler with a cancellable context, and answers. Every fault a client can cause ends in an error response
 * (or a closed connection), never in an exception that escapes to the process.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  PROTOCOL_LIMITS,
  notifications as declaredNotifications,
  requests as declaredRequests,
  RpcError,
  RpcErrorCodes,
  reasonOfSqlstate,
  type ErrorCodeName,
  type NotificationMethod,
  type NotificationParamsOf,
  type RequestDef,
  type RequestMethod,
} from '../protocol/index.js';
import { isDiskFull, StoreError, type Store, type StoreErrorKind } from '../store/types.js';
import { TopicHub } from './hub.js';
import { RequestMetrics } from './metrics.js';
import type { ProgressValue } from '../protocol/core.js';
import type { Connection, Handler, HandlerContext, HandlerRegistry } from './registry.js';
import type { Logger } from '../log/logger.js';

export interface Limits {
  /** Largest frame accepted, in bytes. */
  maxFrameBytes: number;
  /** Elements of one batch; a larger batch is refused whole. */
  maxBatchElements: number;
  /** JSON values (objects, arrays and members) in one frame; a frame with more is refused unparsed. */
  maxFrameValues: number;
  /** Largest response frame, a batch answer counted whole; what would go over is answered `TooLarge`. */
  maxResponseBytes: number;
  /** Requests of one connection running at once, whatever their ids; more are answered `Busy`. */
  maxInFlight: number;
  /** Open connections; more are refused. */
  maxConnections: number;
  /** Topics one connection may subscribe to. */
  maxTopicsPerConnection: number;
}

export const defaultLimits: Limits = {
  maxFrameBytes: PROTOCOL_LIMITS.maxFrameBytes,
  maxBatchElements: PROTOCOL_LIMITS.maxBatchElements,
  maxFrameValues: PROTOCOL_LIMITS.maxFrameValues,
  maxResponseBytes: PROTOCOL_LIMITS.maxResponseBytes,
  maxInFlight: PROTOCOL_LIMITS.maxInFlight,
  maxConnections: PROTOCOL_LIMITS.maxConnections,
  maxTopicsPerConnection: PROTOCOL_LIMITS.maxTopicsPerConnection,
};

/** Batch elements dispatched between two yields to the event loop, so one batch never holds it for long. */
const BATCH_SLICE = 16;

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
  disk_full: 'DiskFull',
  quota_exceeded: 'QuotaExceeded',
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
      const reason = reasonOfSqlstate(err.sqlstate);
      return errorObject(codeName, err.message, err.sqlstate ? { sqlstate: err.sqlstate, ...(reason ? { reason } : {}) } : undefined);
    }
    const errno = (err as NodeJS.ErrnoException | null)?.code;
    if (isDiskFull(err)) {
      this.opts.log.error('disk full', { method, connection, code: errno });
      return errorObject('DiskFull', `The disk is full (${errno ?? 'ENOSPC'}): nothing was written; free some space and retry.`);
    }
    if (errno === 'EMFILE' || errno === 'ENFILE') {
      this.opts.log.error('out of file handles', { method, connection, code: errno });
      return errorObject('Busy', `the daemon has run out of file handles (${errno}); close other programs or raise the limit (ulimit -n), then retry`, { limit: 'fileHandles' });
    }
    this.opts.log.error('handler fault', { method, connection, error: err });
    return errorObject('InternalError', 'Internal error; see the daemon log.');
  }
}

/** One running request. Entries are counted one by one: a client reusing an id still uses up a slot each time. */
interface InFlight {
  key: string;
  controller: AbortController;
}

export class PeerConnection implements Connection {
  readonly id = randomUUID().slice(0, 8);
  private readonly inFlight = new Set<InFlight>();
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
    if (this.inFlight.size > 0) this.server.opts.log.info('connection closed: its running requests are cancelled', { connection: this.id, cancelled: this.inFlight.size });
    for (const f of this.inFlight) f.controller.abort(new RpcError('Cancelled', 'connection closed'));
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
    // Counted before parsing: parsing millions of tiny values would hold the event loop for seconds.
    const over = overCount(text, this.server.limits);
    if (over) {
      this.server.opts.log.warn('frame refused before parsing', { connection: this.id, limit: over });
      const { maxBatchElements, maxFrameValues } = this.server.limits;
      const message =
        over === 'maxBatchElements'
          ? `a batch of more than ${maxBatchElements} elements is over the limit; none of it ran`
          : `a frame of more than ${maxFrameValues} JSON values is over the limit; none of it ran`;
      this.sendJson({ jsonrpc: '2.0', id: null, error: errorObject('TooLarge', message, { limit: over, max: this.server.limits[over] }) });
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.sendJson({ jsonrpc: '2.0', id: null, error: errorObject('ParseError', 'Parse error: the frame is not valid JSON') });
      return;
    }
    if (Array.isArray(msg)) {
      this.track(this.receiveBatch(msg));
      return;
    }
    this.track(
      this.dispatch(msg).then((r) => {
        if (r) this.sendResponse(r);
      }),
    );
  }

  /**
   * A batch: refused whole over the element limit; otherwise dispatched a slice at a time with a yield to the
   * event loop between slices (other connections are served meanwhile), and answered in one frame that stays
   * within the response limit.
   */
  private async receiveBatch(batch: unknown[]): Promise<void> {
    const { maxBatchElements } = this.server.limits;
    if (batch.length === 0) {
      this.sendJson({ jsonrpc: '2.0', id: null, error: errorObject('InvalidRequest', 'Invalid request: empty batch') });
      return;
    }
    if (batch.length > maxBatchElements) {
      this.server.opts.log.warn('batch refused: too many elements', { connection: this.id, elements: batch.length });
      this.sendJson({
        jsonrpc: '2.0',
        id: null,
        error: errorObject('TooLarge', `a batch of ${batch.length} elements is over the ${maxBatchElements}-element limit; none of it ran`, {
          limit: 'maxBatchElements',
          max: maxBatchElements,
        }),
      });
      return;
    }
    const answers: Promise<Response | null>[] = [];
    for (let i = 0; i < batch.length; i++) {
      if (i > 0 && i % BATCH_SLICE === 0) await yieldToEventLoop();
      if (this.isClosed) return;
      answers.push(this.dispatch(batch[i]));
    }
    const responses = (await Promise.all(answers)).filter((r): r is Response => r !== null);
    if (responses.length === 0 || this.isClosed) return;
    // Each answer is serialised once and counted; once the frame would go over the limit, the rest are
    // answered with a short TooLarge error (bounded too: the batch has at most maxBatchElements elements).
    const { maxResponseBytes } = this.server.limits;
    const parts: string[] = [];
    let bytes = 2;
    for (const r of responses) {
      let part = JSON.stringify(r);
      const size = Buffer.byteLength(part) + 1;
      if (bytes + size > maxResponseBytes) part = JSON.stringify(this.tooLargeAnswer(r.id, size));
      bytes += Buffer.byteLength(part) + 1;
      parts.push(part);
    }
    this.transport.send(`[${parts.join(',')}]`);
  }

  /** The error that replaces an answer over the response limit. */
  private tooLargeAnswer(id: Id, bytes: number): Response {
    const max = this.server.limits.maxResponseBytes;
    this.server.opts.log.warn('response over the size limit', { connection: this.id, bytes });
    return {
      jsonrpc: '2.0',
      id,
      error: errorObject('TooLarge', `the answer (${bytes} bytes) is over the ${max}-byte limit per response; ask for less (a smaller limit or range)`, {
        limit: 'maxResponseBytes',
        max,
      }),
    };
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

  /** Sends one response, or its TooLarge error when it is over the response limit. */
  private sendResponse(r: Response): void {
    if (this.isClosed) return;
    const text = JSON.stringify(r);
    // UTF-16 length bounds UTF-8 bytes from below, so the exact count is needed only near the limit.
    const bytes = text.length * 3 > this.server.limits.maxResponseBytes ? Buffer.byteLength(text) : text.length;
    this.transport.send(bytes > this.server.limits.maxResponseBytes ? JSON.stringify(this.tooLargeAnswer(r.id, bytes)) : text);
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
      if (parsed.success) {
        const k = key(parsed.data.id);
        for (const f of this.inFlight) if (f.key === k) f.controller.abort(new RpcError('Cancelled', 'Request cancelled'));
      }
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
    const entry: InFlight = { key: key(id), controller };
    this.inFlight.add(entry);
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
      this.inFlight.delete(entry);
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

/**
 * Which limit a frame is over before it is parsed, or null: more top-level elements than a batch may have,
 * or more JSON values than a frame may hold. One pass over the text, outside strings; stops at the first
 * limit crossed, so a hostile frame costs little more than its first few kilobytes.
 */
export function overCount(text: string, limits: Pick<Limits, 'maxBatchElements' | 'maxFrameValues'>): 'maxBatchElements' | 'maxFrameValues' | null {
  let depth = 0;
  let values = 0;
  let elements = 0;
  let batch = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      // [ {
      if (depth === 0 && c === 0x5b) batch = true;
      depth++;
      if (++values > limits.maxFrameValues) return 'maxFrameValues';
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2c || c === 0x3a) {
      // , :
      if (++values > limits.maxFrameValues) return 'maxFrameValues';
      if (batch && depth === 1 && c === 0x2c && ++elements >= limits.maxBatchElements) return 'maxBatchElements';
    }
  }
  return null;
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  const path = formatIssuePath(issue.path);
  return path ? `${path}: ${issue.message}` : issue.message;
}

function key(id: Id): string {
  return `${typeof id}:${String(id)}`;
}
