/**
 * How subsystems plug their handlers into the daemon. The server (daemon/src/rpc/server.ts) owns framing,
 * validation, cancellation and limits; a handler receives params already validated by the method's zod
 * schema and a context, and returns the result (validated on the way out in tests) or throws RpcError.
 */
import type { ProgressValue } from '../protocol/core.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import type {
  NotificationMethod,
  NotificationParamsOf,
  ParsedParamsOf,
  RequestMethod,
  ResultOf,
} from '../protocol/index.js';

/** One client connection (a WebSocket or the stdio pair). */
export interface Connection {
  readonly id: string;
  notify<N extends NotificationMethod>(method: N, params: NotificationParamsOf<N>): void;
  /** Adds this connection to a topic's subscribers until it closes or unsubscribes. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/**
 * Topic-based fan-out of daemon notifications to the connections that asked for them. Topics used:
 * `session:<id>` (chat deltas, tool activity, done, message changes of that session), `sessions` (the
 * session list changed), `kb` (index status changed).
 */
export interface EventHub {
  publish<N extends NotificationMethod>(topic: string, method: N, params: NotificationParamsOf<N>): void;
}


export interface HandlerContext {
  readonly store: Store;
  /** Aborted by `$/cancelRequest`, by the connection closing, or by daemon shutdown. */
  readonly signal: AbortSignal;
  readonly connection: Connection;
  readonly hub: EventHub;
  readonly log: Logger;
  /** Sends `$/progress` for the request's `progressToken`, if the client gave one; otherwise does nothing. */
  progress(value: ProgressValue): void;
}

export type Handler<M extends RequestMethod> = (
  params: ParsedParamsOf<M>,
  ctx: HandlerContext,
) => Promise<ResultOf<M>>;

export interface HandlerRegistry {
  handle<M extends RequestMethod>(method: M, handler: Handler<M>): void;
}

/** What every subsystem gets when the daemon starts. */
export interface DaemonDeps {
  readonly store: Store;
  readonly config: import('../config.js').ConfigHolder;
  readonly hub: EventHub;
  readonly log: Logger;
  /** `$CAIRN_HOME`. */
  readonly home: string;
  /** Aborted when the daemon begins shutting down. */
  readonly shutdownSignal: AbortSignal;
  /** Work that must finish before the database closes (in-flight writes); the daemon awaits these on shutdown. */
  track<T>(work: Promise<T>): Promise<T>;
  /**
   * Start-up work that no answer waits for (e.g. the sweep of replies a crash left streaming): run, tracked,
   * once the daemon has answered its first `initialize` (or a second after it began listening), so clients
   * are never kept waiting by it. PGlite runs in the daemon's own thread: work started earlier would delay
   * every answer by its length. Absent in tests that compose deps by hand: the work then runs at once.
   */
  afterStart?(name: string, work: () => Promise<unknown>): void;
}

/** A subsystem's entry point: registers its handlers and returns its cleanup. */
export type Subsystem = (registry: HandlerRegistry, deps: DaemonDeps) => Promise<{ dispose(): Promise<void> }>;
