/**
 * Team mode's store: a Supabase project through `@supabase/supabase-js`, acting with the signed-in user's
 * access token (handed over by the extension, never a service-role key), calling the same SQL API as the
 * embedded store through PostgREST's `rpc`, so RLS on the project decides everything. Changes arrive through
 * Realtime `postgres_changes` on sessions, messages and access_changes (what left someone's view), RLS
 * applied per subscriber by Realtime.
 *
 * The token is given through supabase-js's `accessToken` option rather than a fixed `Authorization` header:
 * with a fixed header Realtime would join with the anon key, and a refreshed token would need a new client.
 * An expired token triggers one refresh round with the client (`onTokenExpired`); concurrent calls that
 * hit the expiry share that round instead of each asking again.
 */
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { kindOfSqlstate, StoreError, type ChangeEvent, type DocumentStorage, type RpcName, type RpcRest, type RpcResult, type SchemaStatus, type Store, type StoreErrorKind, type StoreUser } from './types.js';

export interface SupabaseSession {
  accessToken: string;
  refreshToken?: string;
}

export interface SupabaseStoreOptions {
  /** Project URL, e.g. https://abcd.supabase.co. */
  url: string;
  /** The project's anon (publishable) key; not a secret. */
  anonKey: string;
  /** Migration versions this daemon ships, oldest first (the files of supabase/migrations). */
  shippedMigrations: string[];
  /**
   * Asks the client (the extension) for a fresh session after the access token expired. Resolves with the
   * new session, or null when the user is signed out.
   */
  onTokenExpired?: () => Promise<SupabaseSession | null>;
  /** Realtime socket options (tests shorten the heartbeat to notice a dropped socket quickly). */
  realtime?: { heartbeatIntervalMs?: number; timeout?: number };
  fetch?: typeof fetch;
}

/** The keys a change event carries (the same as the `cairn_changes` trigger payload): never content. */
const ROUTING_KEYS: Record<string, (row: Record<string, unknown>) => Record<string, unknown>> = {
  messages: (r) => ({ id: r.id, session_id: r.session_id, seq: r.seq, status: r.status, author_id: r.author_id }),
  access_changes: (r) => ({
    id: r.id,
    team_id: r.team_id,
    reason: r.reason,
    user_id: r.user_id,
    project_id: r.project_id,
    session_id: r.session_id,
  }),
  sessions: (r) => ({
    id: r.id,
    project_id: r.project_id,
    owner_id: r.owner_id,
    visibility: r.visibility,
    archived: r.archived_at !== undefined ? r.archived_at !== null : r.archived,
  }),
};

/** Clock skew allowed between this machine and the project when deciding what changed during a gap. */
const RESYNC_MARGIN_MS = 60_000;

interface PostgrestFailure {
  code?: string;
  message?: string;
  details?: string | null;
  hint?: string | null;
}

interface JwtPayload {
  sub?: string;
  email?: string;
  aal?: string;
  exp?: number;
}

function decodeJwt(token: string): JwtPayload {
  const part = token.split('.')[1];
  if (!part) throw new StoreError('not_signed_in', 'The access token is not a JWT');
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as JwtPayload;
  } catch {
    throw new StoreError('not_signed_in', 'The access token is not a JWT');
  }
}

/** Maps a PostgREST error body and HTTP status to a StoreError (docs/sql-api.md's table, plus transport). */
export function storeErrorFrom(error: PostgrestFailure, status: number): StoreError {
  const code = error.code ?? '';
  const message = error.message || `Supabase answered HTTP ${status}`;
  if (status === 0 || (code === '' && status >= 500)) {
    return new StoreError('unavailable', `Supabase is unreachable: ${message}`);
  }
  if (code === 'PGRST301' || code === 'PGRST302') return new StoreError('not_signed_in', `Supabase refused the access token: ${message}`, code);
  if (code === 'PGRST202') {
    return new StoreError('schema_behind', `${message}. The project's schema is older than this version of Cairn: run \`supabase db push\`.`, code);
  }
  if (code === 'PGRST000' || code === 'PGRST001' || code === 'PGRST002' || code === 'PGRST003') {
    return new StoreError('unavailable', `Supabase cannot reach its database: ${message}`, code);
  }
  // PGRST116: `.single()` found no row.
  let kind: StoreErrorKind | undefined = code === 'PGRST116' ? 'not_found' : kindOfSqlstate(code);
  if (!kind && status === 401) kind = 'not_signed_in';
  return new StoreError(kind ?? 'internal', message, code || undefined);
}

/** The private bucket of team knowledge-base documents (supabase/migrations/20261207000300_kb_documents_storage.sql). */
export const KB_DOCUMENTS_BUCKET = 'kb-documents';

interface StorageFailure {
  message?: string;
  /** HTTP status (storage-api answers 400 for client errors and puts the real one in `statusCode`). */
  status?: number;
  statusCode?: string;
  name?: string;
}

/** Maps a Storage API error (storage-js's StorageApiError, or a network failure) to a StoreError. */
export function storeErrorFromStorage(error: StorageFailure): StoreError {
  const message = error.message || 'Supabase Storage failed';
  const status = Number(error.statusCode ?? error.status ?? 0);
  if (!error.statusCode && !error.status) return new StoreError('unavailable', `Supabase Storage is unreachable: ${message}`);
  if (status === 403 || status === 401) return new StoreError('permission_denied', `Supabase Storage refused: ${message}`, '42501');
  if (status === 404) return new StoreError('not_found', `Supabase Storage: ${message}`);
  if (status === 409) return new StoreError('conflict', `Supabase Storage: ${message}`);
  if (status === 413 || status === 415 || status === 400) return new StoreError('invalid_input', `Supabase Storage refused the file: ${message}`);
  if (status >= 500) return new StoreError('unavailable', `Supabase Storage failed: ${message}`);
  return new StoreError('internal', `Supabase Storage: ${message}`);
}

/** storage-api's answer for an expired access token (InvalidJWT, 400, message `jwt expired`). */
const storageTokenExpired = (error: StorageFailure) => /jwt expired|exp.*claim/i.test(error.message ?? '');

export class SupabaseStore implements Store {
  readonly mode = 'supabase' as const;
  private readonly client: SupabaseClient;
  private session: SupabaseSession | null = null;
  private acting: StoreUser | null = null;
  /** The single refresh round in flight, shared by every call that saw the token expire. */
  private refreshing: Promise<boolean> | null = null;
  private readonly channels = new Set<RealtimeChannel>();
  private channelSeq = 0;
  private closed = false;

  /** The session is needed up front: supabase-js hands the first token to Realtime while it is built. */
  constructor(
    private readonly opts: SupabaseStoreOptions,
    session: SupabaseSession,
  ) {
    this.adopt(session);
    this.client = createClient(opts.url, opts.anonKey, {
      accessToken: async () => this.session?.accessToken ?? opts.anonKey,
      realtime: {
        // Node 20 and Electron's Node have no global WebSocket that realtime-js accepts.
        transport: WebSocket as unknown as typeof globalThis.WebSocket,
        ...(opts.realtime?.heartbeatIntervalMs ? { heartbeatIntervalMs: opts.realtime.heartbeatIntervalMs } : {}),
        ...(opts.realtime?.timeout ? { timeout: opts.realtime.timeout } : {}),
      },
      global: opts.fetch ? { fetch: opts.fetch } : {},
    });
  }

  /**
   * Opens the store and refuses a project whose schema is behind the migrations this daemon ships, with
   * the command that fixes it.
   */
  static async connect(opts: SupabaseStoreOptions, session: SupabaseSession): Promise<SupabaseStore> {
    const store = new SupabaseStore(opts, session);
    try {
      await store.assertSchemaCurrent();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Takes the session the extension signed in with (and every refreshed token after it). */
  setSession(session: SupabaseSession): void {
    this.adopt(session);
    // Pushes the token to every joined channel (Realtime closes channels whose token expired).
    void this.client.realtime.setAuth(session.accessToken).catch(() => undefined);
  }

  private adopt(session: SupabaseSession): void {
    const claims = decodeJwt(session.accessToken);
    if (!claims.sub) throw new StoreError('not_signed_in', 'The access token names no user');
    this.session = session;
    this.acting = { id: claims.sub, email: claims.email ?? null, aal: claims.aal === 'aal2' ? 'aal2' : 'aal1' };
  }

  /**
   * Forgets the user (sign-out): calls fail with not_signed_in until the next setSession, and the Realtime
   * channels fall back to the anon key, so RLS stops showing them the user's rows at once.
   */
  clearSession(): void {
    this.session = null;
    this.acting = null;
    void this.client.realtime.setAuth(this.opts.anonKey).catch(() => undefined);
  }

  user(): StoreUser | null {
    return this.acting;
  }

  /** The project's URL, e.g. for its Edge Functions (`<url>/functions/v1/<name>`). */
  get projectUrl(): string {
    return this.opts.url;
  }

  /**
   * The user's current access token, for the team's Edge Functions (the model gateway takes it as its API
   * key). Held in memory only; never logged.
   */
  accessToken(): string | null {
    return this.session?.accessToken ?? null;
  }

  /**
   * The access token, refreshed first when it expires within `marginMs` (one refresh round shared with RPCs),
   * for calls that outlive a token, such as an index run embedding through the model gateway.
   */
  async freshAccessToken(marginMs = 60_000): Promise<string | null> {
    const token = this.session?.accessToken;
    if (!token) return null;
    const exp = decodeJwt(token).exp;
    if (typeof exp === 'number' && exp * 1000 - marginMs <= Date.now()) await this.refreshAfterExpiry(token);
    return this.session?.accessToken ?? null;
  }

  async rpc<F extends RpcName>(fn: F, ...[args, opts]: RpcRest<F>): Promise<RpcResult<F>> {
    type T = RpcResult<F>;
    if (this.closed) throw new StoreError('unavailable', 'The store is closed');
    if (!this.session) throw new StoreError('not_signed_in', 'Team mode needs a signed-in user: sign in to Supabase first');
    const tokenUsed = this.session.accessToken;
    const first = await this.call<T>(fn, args ?? {}, opts?.signal);
    if (!first.expired) return first.value as T;
    if (!(await this.refreshAfterExpiry(tokenUsed))) {
      throw new StoreError('not_signed_in', 'The Supabase session expired and could not be refreshed: sign in again', 'PGRST301');
    }
    const second = await this.call<T>(fn, args ?? {}, opts?.signal);
    if (second.expired) throw new StoreError('not_signed_in', 'Supabase refused the refreshed access token: sign in again', 'PGRST301');
    return second.value as T;
  }

  private async call<T>(fn: string, args: object, signal?: AbortSignal): Promise<{ expired: boolean; value?: T }> {
    let builder = this.client.rpc(fn, args);
    if (signal) builder = builder.abortSignal(signal);
    const { data, error, status } = await builder;
    if (!error) return { expired: false, value: data as T };
    if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
    if (status === 401 && error.code === 'PGRST301' && /expired/i.test(error.message)) return { expired: true };
    throw storeErrorFrom(error, status);
  }

  private tokenExpired(token: string): boolean {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' && exp * 1000 <= Date.now();
  }

  /** One refresh round per expired token, however many calls noticed it. */
  private refreshAfterExpiry(expiredToken: string): Promise<boolean> {
    if (this.session && this.session.accessToken !== expiredToken) return Promise.resolve(true);
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          const fresh = await this.opts.onTokenExpired?.();
          if (!fresh || fresh.accessToken === expiredToken) return false;
          this.setSession(fresh);
          return true;
        } catch {
          return false;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  /**
   * Supabase Storage's `kb-documents` bucket as the signed-in user: the bucket's policies decide, and an
   * expired token costs the same single refresh round as an RPC.
   */
  documents(): DocumentStorage {
    const bucket = () => this.client.storage.from(KB_DOCUMENTS_BUCKET);
    return {
      upload: async (name, bytes, contentType, opts = {}) => {
        await this.storageCall(async () => {
          const { error } = await bucket().upload(name, Buffer.from(bytes), { contentType, upsert: true, cacheControl: '60' });
          return { error };
        }, opts.signal);
      },
      download: async (name, opts = {}) => {
        const blob = await this.storageCall(async () => {
          const { data, error } = await bucket().download(name, undefined, opts.signal ? { signal: opts.signal } : undefined);
          return { data, error };
        }, opts.signal);
        return { bytes: Buffer.from(await blob!.arrayBuffer()), contentType: blob!.type || 'application/octet-stream' };
      },
      remove: async (names, opts = {}) => {
        const rows = await this.storageCall(async () => {
          const { data, error } = await bucket().remove(names);
          return { data, error };
        }, opts.signal);
        return (rows ?? []).map((r) => r.name);
      },
      list: async (folder, opts = {}) => {
        const rows = await this.storageCall(async () => {
          const { data, error } = await bucket().list(folder, { limit: 1000, sortBy: { column: 'name', order: 'asc' } }, opts.signal ? { signal: opts.signal } : undefined);
          return { data, error };
        }, opts.signal);
        return (rows ?? [])
          .filter((r) => r.id !== null)
          .map((r) => {
            const meta = (r.metadata ?? {}) as { size?: number; mimetype?: string };
            return { name: r.name, size: typeof meta.size === 'number' ? meta.size : null, contentType: meta.mimetype ?? null };
          });
      },
    };
  }

  private async storageCall<T>(call: () => Promise<{ data?: T; error: StorageFailure | null }>, signal?: AbortSignal): Promise<T | undefined> {
    if (this.closed) throw new StoreError('unavailable', 'The store is closed');
    if (!this.session) throw new StoreError('not_signed_in', 'Team mode needs a signed-in user: sign in to Supabase first');
    const tokenUsed = this.session.accessToken;
    let result = await call();
    if (result.error && storageTokenExpired(result.error)) {
      if (!(await this.refreshAfterExpiry(tokenUsed))) {
        throw new StoreError('not_signed_in', 'The Supabase session expired and could not be refreshed: sign in again');
      }
      result = await call();
    }
    if (!result.error) return result.data;
    if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
    throw storeErrorFromStorage(result.error);
  }

  async schemaStatus(): Promise<SchemaStatus> {
    const applied = await this.rpc('schema_version');
    const shipped = [...this.opts.shippedMigrations].sort();
    return {
      applied: applied ?? null,
      expected: shipped.at(-1) ?? '',
      pending: shipped.filter((v) => applied === null || v > applied),
    };
  }

  /** Throws StoreError('schema_behind') naming `supabase db push` when the project lacks shipped migrations. */
  async assertSchemaCurrent(): Promise<SchemaStatus> {
    let status: SchemaStatus;
    try {
      status = await this.schemaStatus();
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'schema_behind') {
        throw new StoreError('schema_behind', 'The Supabase project has no Cairn schema yet: run `supabase db push` from the Cairn repository (see docs/team-mode.md).', err.sqlstate);
      }
      throw err;
    }
    if (status.pending.length > 0) {
      throw new StoreError(
        'schema_behind',
        `The Supabase project's schema is at ${status.applied ?? 'no migration'}, this Cairn needs ${status.expected} ` +
          `(${status.pending.length} migration${status.pending.length === 1 ? '' : 's'} pending): run \`supabase db push\`.`,
      );
    }
    return status;
  }

  async onChange(listener: (event: ChangeEvent) => void): Promise<() => Promise<void>> {
    const topic = `cairn-changes-${++this.channelSeq}`;
    let stopped = false;
    let channel: RealtimeChannel | null = null;
    /** When the feed was last known to be interrupted (socket dropped, channel closed); null while live. */
    let gapSince: number | null = null;
    const emit = (table: string, op: ChangeEvent['op'], row: Record<string, unknown>, resync = false) => {
      const keys = ROUTING_KEYS[table]?.(row) ?? { id: row.id };
      const record = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
      listener(resync ? { table, op, record, resync: true } : { table, op, record });
    };
    const deliver = (table: string) => (payload: { eventType: string; new: Record<string, unknown>; old: Record<string, unknown> }) => {
      const op = payload.eventType;
      if (op !== 'INSERT' && op !== 'UPDATE' && op !== 'DELETE') return;
      emit(table, op, op === 'DELETE' ? payload.old : payload.new);
    };
    // Realtime does not replay what happened while a socket was down (or its channel was closed for an
    // expired token), so after a rejoin every visible session that changed during the gap is announced again
    // as a resync: its row or its messages changed, clients re-read it by `seq` and lose nothing.
    const resync = async (since: number) => {
      const sessions = await this.rpc('list_sessions', { p_limit: 200, p_include_archived: true });
      for (const s of sessions) {
        const changed = Math.max(Date.parse(String(s.updated_at ?? '')) || 0, Date.parse(String(s.last_message_at ?? '')) || 0);
        if (changed >= since - RESYNC_MARGIN_MS) emit('sessions', 'UPDATE', s, true);
      }
    };
    // Subscribes, and subscribes again when Realtime closes the channel (e.g. its token expired while the
    // daemon waited for a fresh one); realtime-js itself rejoins after errors and dropped sockets.
    const open = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const ch = this.client.channel(topic);
        channel = ch;
        this.channels.add(ch);
        let settled = false;
        let retired = false;
        ch.on('postgres_changes', { event: '*', schema: 'public', table: 'sessions' }, deliver('sessions'))
          .on('postgres_changes', { event: '*', schema: 'public', table: 'messages' }, deliver('messages'))
          .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'access_changes' }, deliver('access_changes'))
          .subscribe((status, err) => {
            if (stopped || this.closed || retired) return;
            if (status === 'SUBSCRIBED') {
              if (!settled) {
                settled = true;
                resolve();
              }
              if (gapSince !== null) {
                const since = gapSince;
                gapSince = null;
                void resync(since).catch(() => {
                  gapSince = gapSince ?? since;
                });
              }
              return;
            }
            gapSince = gapSince ?? Date.now();
            // Realtime refuses a join with an expired token: ask for a fresh one (the same single round
            // RPC calls share); realtime-js retries the join with it.
            if (status === 'CHANNEL_ERROR' && /expired/i.test(err?.message ?? '') && this.session && this.tokenExpired(this.session.accessToken)) {
              void this.refreshAfterExpiry(this.session.accessToken);
            }
            if (!settled) {
              settled = true;
              reject(new StoreError('unavailable', `Supabase Realtime refused the subscription: ${err?.message ?? status}`));
            } else if (status === 'CLOSED') {
              retired = true;
              this.channels.delete(ch);
              void this.client.removeChannel(ch).finally(() => {
                if (!stopped && !this.closed) void open().catch(() => undefined);
              });
            }
          });
      });
    try {
      await open();
    } catch (err) {
      stopped = true;
      if (channel) {
        this.channels.delete(channel);
        await this.client.removeChannel(channel);
      }
      throw err;
    }
    return async () => {
      stopped = true;
      if (channel) {
        this.channels.delete(channel);
        await this.client.removeChannel(channel);
      }
    };
  }

  /** Operator metrics live on the Supabase project; the daemon sees only what RLS shows its user. */
  async stats(): Promise<{ tables: Record<string, number>; bytes: number | null }> {
    return { tables: {}, bytes: null };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ch of this.channels) await this.client.removeChannel(ch);
    this.channels.clear();
    this.client.realtime.disconnect();
  }
}
