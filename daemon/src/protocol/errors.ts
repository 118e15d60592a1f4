/**
 * JSON-RPC error codes. -32768..-32000 is reserved by JSON-RPC 2.0; Cairn's application errors live in
 * -31999..-31900, outside it, so a client can tell a protocol fault from a domain answer. Each code has a
 * stable name that clients switch on; `data` carries details (never secrets).
 */
export const RpcErrorCodes = {
  // JSON-RPC 2.0 reserved codes
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  // Cairn application errors
  NotSignedIn: -31900,
  SchemaBehind: -31901,
  PermissionDenied: -31902,
  NotFound: -31903,
  ModelNotConfigured: -31904,
  Cancelled: -31905,
  TooLarge: -31906,
  Busy: -31907,
  Unauthorized: -31908,
  Conflict: -31909,
  InvalidInput: -31910,
  ProviderError: -31911,
  QuotaExceeded: -31912,
  NotImplementedInStore: -31913,
  ProjectChoiceNeeded: -31914,
  DiskFull: -31915,
} as const;

export type ErrorCodeName = keyof typeof RpcErrorCodes;

export const RpcErrorDescriptions: Record<ErrorCodeName, string> = {
  ParseError: 'The frame is not valid JSON.',
  InvalidRequest: 'The JSON is not a valid JSON-RPC 2.0 request object.',
  MethodNotFound: 'No such method.',
  InvalidParams: 'Params do not match the method schema; `data.issues` lists each offending field with its `path`.',
  InternalError: 'An unexpected fault in the daemon; the daemon keeps running.',
  NotSignedIn: 'Team mode needs a signed-in user; call `auth/setSession` first.',
  SchemaBehind: 'The database schema is older than this daemon; `data.command` names the command that migrates it.',
  PermissionDenied: 'Row Level Security or a role check refused the operation.',
  NotFound: 'The row does not exist or is not visible to the acting user.',
  ModelNotConfigured: 'No chat or embedding model is configured for this operation.',
  Cancelled: 'The request was cancelled by `$/cancelRequest` or a cancel method.',
  TooLarge: 'A frame, field or file is over its limit; `data.limit` says which.',
  Busy: 'Too many requests or connections at once; retry later.',
  Unauthorized: 'The connection did not present the daemon token.',
  Conflict: 'The operation conflicts with the current state (for example, a duplicate name).',
  InvalidInput: 'The database rejected a value (a check constraint or a readable error from the SQL API).',
  ProviderError: 'The model or embedding provider failed (wrong key or URL, timeout, bad answer).',
  QuotaExceeded: 'A usage quota was exceeded.',
  NotImplementedInStore: 'The current store cannot do this (for example, backup outside the embedded store).',
  ProjectChoiceNeeded:
    "The folder's git remote matches a project of a team the user has not used with this folder, so it is not mapped " +
    'until they choose: `data.candidates` lists those projects with their teams. Answer with `workspace/chooseProject` ' +
    '(a candidate\'s `projectId`, or `personal: true` to keep the folder personal); the answer is remembered.',
  DiskFull:
    'The disk holding the database or the named file is full (ENOSPC): nothing was written, no partial file is left, ' +
    'and reads keep working; free some space and retry.',
};

/**
 * Why the database refused, when a client has something to do about it: each reason is one documented SQLSTATE
 * of the SQL API (docs/sql-api.md), raised by the SQL and carried through the daemon as `data.reason` (with
 * `data.sqlstate`) of the error its store kind maps to. Clients act on the reason, never on a message's wording.
 */
export const ErrorReasons = {
  projectChoice: {
    sqlstate: 'CR001',
    description: "The folder's git remote matches a team project the user has not chosen for it (`ProjectChoiceNeeded`).",
  },
  secondFactor: {
    sqlstate: 'CR002',
    description: 'The operation needs a second factor on this sign-in (aal2): verify one, or set one up, then retry.',
  },
  lastOwner: { sqlstate: 'CR003', description: 'The change would leave a team without an owner: make someone else an owner first.' },
  notMember: { sqlstate: 'CR004', description: 'The user is not a member of that team, or their role there does not allow it.' },
  overBudget: { sqlstate: 'CR005', description: 'A budget or rate limit of the model gateway was reached.' },
  modelChanged: {
    sqlstate: 'CR006',
    description: "The project's active embedding model changed during the search (another machine switched it): search again.",
  },
} as const;

export type ErrorReason = keyof typeof ErrorReasons;

const reasonBySqlstate = new Map<string, ErrorReason>(
  (Object.entries(ErrorReasons) as [ErrorReason, { sqlstate: string }][]).map(([reason, r]) => [r.sqlstate, reason]),
);

/** The reason a SQLSTATE stands for; null for the SQLSTATEs that carry none. */
export function reasonOfSqlstate(sqlstate: string | null | undefined): ErrorReason | null {
  return (sqlstate && reasonBySqlstate.get(sqlstate)) || null;
}

/** The reason a daemon error carries (`data.reason`), read from the error object a client received. */
export function errorReason(err: unknown): ErrorReason | null {
  const data = err && typeof err === 'object' ? (err as { data?: unknown }).data : undefined;
  const reason = data && typeof data === 'object' ? (data as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && Object.hasOwn(ErrorReasons, reason) ? (reason as ErrorReason) : null;
}

/** An error a handler throws to answer with a typed application error. */
export class RpcError extends Error {
  readonly code: number;
  constructor(
    readonly codeName: ErrorCodeName,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RpcError';
    this.code = RpcErrorCodes[codeName];
  }
}
