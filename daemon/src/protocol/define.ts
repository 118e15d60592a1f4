/**
 * The shape of a protocol declaration. Every RPC method and notification is declared once with
 * `request()` or `notification()` in one of the namespace files beside this one; the daemon validates
 * with the zod schemas, clients derive their types from them, and `docs/protocol.md` plus
 * `docs/protocol.schema.json` are generated from them.
 */
import type { z } from 'zod';
import type { ErrorCodeName } from './errors.js';

export interface RequestDef<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly kind: 'request';
  readonly method: string;
  readonly summary: string;
  readonly params: P;
  readonly result: R;
  /** Application errors this method may answer with (besides the JSON-RPC reserved ones). */
  readonly errors: readonly ErrorCodeName[];
  /** True when the method reports `$/progress` for the `progressToken` in its params. */
  readonly progress?: boolean;
  /** A request and response that the docs show and a test replays for its shape. */
  readonly example: { readonly params: z.input<P>; readonly result: z.output<R> };
}

export interface NotificationDef<P extends z.ZodType = z.ZodType> {
  readonly kind: 'notification';
  readonly method: string;
  readonly summary: string;
  /** Who sends it. */
  readonly direction: 'daemon->client' | 'client->daemon';
  readonly params: P;
  readonly example: z.output<P>;
}

export function request<const M extends string, P extends z.ZodType, R extends z.ZodType>(
  method: M,
  def: Omit<RequestDef<P, R>, 'kind' | 'method'>,
): RequestDef<P, R> & { readonly method: M } {
  return { kind: 'request', method, ...def };
}

export function notification<const M extends string, P extends z.ZodType>(
  method: M,
  def: Omit<NotificationDef<P>, 'kind' | 'method'>,
): NotificationDef<P> & { readonly method: M } {
  return { kind: 'notification', method, ...def };
}
