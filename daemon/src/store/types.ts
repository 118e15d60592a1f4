/**
 * The store interface the rest of the daemon uses. Three implementations, one schema and one SQL API
 * (supabase/migrations): embedded PGlite (default), any Postgres URL (`CAIRN_DATABASE_URL`), and Supabase
 * (team mode, the user's JWT). Every call runs *as the acting user*, so Row Level Security decides.
 */
export type StoreMode = 'embedded' | 'postgres' | 'supabase';

export interface StoreUser {
  id: string;
  email: string | null;
  /** Authenticator assurance level from the JWT (`aal1` or `aal2`). */
  aal: 'aal1' | 'aal2';
}

/** Typed failure of a store call; the daemon maps `kind` to its RPC error codes. */
export type StoreErrorKind =
  | 'not_signed_in'
  | 'schema_behind'
  | 'permission_denied'
  | 'not_found'
  | 'invalid_input'
  | 'conflict'
  | 'unavailable'
  /** No space left on the device (ENOSPC, SQLSTATE 53100). */
  | 'disk_full'
  | 'internal';

/**
 * A full disk, however it surfaces: Node's ENOSPC, Postgres's disk_full (53100), or PGlite's file system
 * reporting "No space left on device" inside another error.
 */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e.code === 'ENOSPC' || e.code === '53100') return true;
  return typeof e.message === 'string' && /\bENOSPC\b|No space left on device/i.test(e.message);
}

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    /** SQLSTATE when the error came from Postgres. */
    readonly sqlstate?: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface SchemaStatus {
  /** Newest migration version applied to the database (e.g. `20261122000100`), or null when none. */
  applied: string | null;
  /** Newest migration version this daemon ships. */
  expected: string;
  /** Versions shipped but not applied, oldest first. */
  pending: string[];
}

export interface ChangeEvent {
  /** Table that changed, e.g. `messages` or `sessions`. */
  table: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  /** The row's id and the keys clients route on (session_id, project_id, team_id). */
  record: Record<string, unknown>;
  /**
   * Set on events the store synthesises after its feed was interrupted (a dropped socket, an expired token):
   * the row changed during the gap, but what changed (a message, its title) is unknown.
   */
  resync?: true;
}

/** How the local database was opened at start, for the daemon's log and the start-up bench. */
export interface OpenedHow {
  fresh: boolean;
  /** An existing data dir, an image given by the caller, the image prepared at build time, or initdb. */
  from: 'existing' | 'template' | 'prepared' | 'initdb';
  /** Why the prepared image was not used, when it was not. */
  why?: string;
  appliedMigrations: number;
}

/** One stored file of a knowledge base (Supabase Storage in team mode). */
export interface StoredDocument {
  bytes: Buffer;
  contentType: string;
}

/**
 * Files beside the database: team documents in Supabase Storage's `kb-documents` bucket, as the acting user
 * (the bucket's policies on `storage.objects` decide). Object names are `<team_id>/<project_id>/<file>`.
 * Throws StoreError (`permission_denied` when the policies refuse, `not_found` for an object the user
 * cannot see or that does not exist).
 */
export interface DocumentStorage {
  /** Stores (or replaces) the object. */
  upload(name: string, bytes: Uint8Array, contentType: string, opts?: { signal?: AbortSignal }): Promise<void>;
  download(name: string, opts?: { signal?: AbortSignal }): Promise<StoredDocument>;
  /** Removes the objects the user may delete; returns the names removed. */
  remove(names: string[], opts?: { signal?: AbortSignal }): Promise<string[]>;
  /** The files directly under a folder (`<team_id>/<project_id>`) that the user may read. */
  list(folder: string, opts?: { signal?: AbortSignal }): Promise<{ name: string; size: number | null; contentType: string | null }[]>;
}

export interface Store {
  readonly mode: StoreMode;
  /** How the local database was opened (embedded store only). */
  readonly opened?: OpenedHow;
  /** Bytes of the database engine's own heap in this process (PGlite's WASM memory), where there is one. */
  engineHeapBytes?(): number | null;
  /** The acting user, or null when team mode has no signed-in user yet. */
  user(): StoreUser | null;
  /**
   * Calls a function of the SQL API as the acting user, as PostgREST's `POST /rest/v1/rpc/<fn>` does with
   * named arguments. Returns an array of rows for set-returning functions, the value otherwise.
   * Throws StoreError.
   */
  rpc<T = unknown>(fn: string, args?: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<T>;
  schemaStatus(): Promise<SchemaStatus>;
  /**
   * Change feed: rows of sessions and messages visible to the acting user (LISTEN/NOTIFY in the embedded and
   * Postgres stores, Supabase Realtime in team mode). Returns the function that unsubscribes.
   */
  onChange(listener: (event: ChangeEvent) => void): Promise<() => Promise<void>>;
  /** Row counts and size for metrics. */
  stats(): Promise<{ tables: Record<string, number>; bytes: number | null }>;
  /**
   * Resolves when no call of the acting user is queued or running. Background work (publishing vectors)
   * awaits it before each slice, so on a store with one connection (PGlite) a request waits at most for the
   * slice under way, never for a backlog. Stores whose calls run at once (a pool, PostgREST) resolve at once.
   */
  whenIdle?(): Promise<void>;
  /** Finishes in-flight work and closes the database. */
  close(): Promise<void>;
  /** File storage for team documents, where the store has one (Supabase); absent or null elsewhere. */
  documents?(): DocumentStorage | null;
}
