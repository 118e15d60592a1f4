/**
 * What the extension needs from a daemon connection: typed requests (with cancellation and progress) and
 * notifications, declared by the protocol module. The implementation is the shared protocol client
 * (daemon/src/protocol/client), adapted in connection.ts.
 */
import type {
  NotificationMethod,
  NotificationParamsOf,
  ParamsOf,
  RequestMethod,
  ResultOf,
} from '../../daemon/src/protocol/index.js';

export interface ProgressValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
  data?: Record<string, unknown>;
}

export interface RequestOptions {
  signal?: AbortSignal;
  onProgress?: (value: ProgressValue) => void;
}

export interface DaemonClient {
  request<M extends RequestMethod>(method: M, params: ParamsOf<M>, opts?: RequestOptions): Promise<ResultOf<M>>;
  onNotification<N extends NotificationMethod>(method: N, listener: (params: NotificationParamsOf<N>) => void): () => void;
  /** Settles when the connection is gone, for whatever reason. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}
