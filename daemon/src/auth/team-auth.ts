/**
 * Team mode's sign-in on the daemon side. The client (the extension) signs the user in with supabase-js and
 * hands the session over with `auth/setSession`; the first hand-over connects a SupabaseStore to the project
 * and makes it the daemon's store, later ones only replace the token. When the project says the token
 * expired, the daemon asks the client once (`auth/tokenExpired` on topic `auth`) and the calls that noticed
 * wait for the next hand-over, up to a deadline, then fail with NotSignedIn.
 */
import { decodeJwt } from 'jose';
import { RpcError } from '../protocol/errors.js';
import { TOKEN_REFRESH_DEADLINE_MS } from '../protocol/auth.js';
import type { EventHub } from '../rpc/registry.js';
import type { Logger } from '../log/logger.js';
import { findMigrationsDir, listMigrations } from '../store/migrate.js';
import type { SupabaseStore, SupabaseSession, SupabaseStoreOptions } from '../store/supabase.js';
import type { SwitchableStore } from '../store/switchable.js';
import { StoreError, type Store } from '../store/types.js';

export interface HandOver {
  supabaseUrl?: string | undefined;
  anonKey?: string | undefined;
  accessToken: string;
  refreshToken?: string | undefined;
  expiresAt?: number | null | undefined;
}

export interface SignedIn {
  store: 'supabase';
  user: { id: string; email: string | null };
  aal: 'aal1' | 'aal2';
}

export interface TeamAuthOptions {
  store: SwitchableStore;
  hub: EventHub;
  log: Logger;
  /** For CAIRN_SUPABASE_URL and CAIRN_SUPABASE_ANON_KEY, the project used when a hand-over names none. */
  env: NodeJS.ProcessEnv;
  refreshDeadlineMs?: number;
  /** Realtime socket tuning passed to the store (tests shorten the heartbeat). */
  realtime?: SupabaseStoreOptions['realtime'];
  /**
   * Run on a team store before it becomes current; resolves to the replies it marked failed. The daemon
   * passes chat's sweep of the replies a crashed daemon of this user left streaming (host/run.ts).
   */
  sweepInterrupted?: (store: Store) => Promise<number>;
}

interface Claims {
  sub: string;
  email: string | null;
  aal: 'aal1' | 'aal2';
  exp: number | null;
}

function readClaims(token: string): Claims {
  let payload: ReturnType<typeof decodeJwt>;
  try {
    payload = decodeJwt(token);
  } catch {
    throw new RpcError('NotSignedIn', 'The access token is not a JWT; sign in again');
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new RpcError('NotSignedIn', 'The access token names no user; sign in again');
  return {
    sub: payload.sub,
    email: typeof payload.email === 'string' ? payload.email : null,
    aal: payload.aal === 'aal2' ? 'aal2' : 'aal1',
    exp: typeof payload.exp === 'number' ? payload.exp : null,
  };
}

interface RefreshRound {
  promise: Promise<SupabaseSession | null>;
  resolve(session: SupabaseSession | null): void;
  timer: NodeJS.Timeout;
}

export class TeamAuth {
  private project: { url: string; anonKey: string } | null = null;
  private expiresAt: number | null = null;
  private round: RefreshRound | null = null;
  /** Hand-overs and sign-outs run one at a time: two first hand-overs must not connect two stores. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly deadlineMs: number;

  constructor(private readonly opts: TeamAuthOptions) {
    this.deadlineMs = opts.refreshDeadlineMs ?? TOKEN_REFRESH_DEADLINE_MS;
  }

  setSession(p: HandOver): Promise<SignedIn> {
    // A hand-over answering `auth/tokenExpired` must not queue behind anything: the waiting calls need it.
    const claims = readClaims(p.accessToken);
    if (claims.exp !== null && claims.exp * 1000 <= Date.now()) {
      throw new RpcError('NotSignedIn', 'The access token has already expired; refresh the session and hand it over again');
    }
    const session: SupabaseSession = { accessToken: p.accessToken, ...(p.refreshToken ? { refreshToken: p.refreshToken } : {}) };
    const team = this.opts.store.teamStore;
    const url = (p.supabaseUrl ?? this.project?.url ?? this.opts.env.CAIRN_SUPABASE_URL)?.replace(/\/+$/, '');
    const anonKey = p.anonKey ?? this.project?.anonKey ?? this.opts.env.CAIRN_SUPABASE_ANON_KEY;
    if (team && this.project && url === this.project.url && anonKey === this.project.anonKey && team.user()?.id === claims.sub) {
      team.setSession(session);
      this.expiresAt = p.expiresAt ?? claims.exp;
      this.settleRound(session);
      void this.opts.store.resubscribe();
      return Promise.resolve(this.signedIn(claims));
    }
    if (!url || !anonKey) {
      throw new RpcError(
        'InvalidInput',
        'No Supabase project to sign in to: give supabaseUrl and anonKey (the cairn.supabase.url and cairn.supabase.anonKey settings)',
        { field: url ? 'anonKey' : 'supabaseUrl' },
      );
    }
    return this.serially(() => this.connect(url, anonKey, session, claims, p.expiresAt ?? claims.exp));
  }

  /** Forgets the session and returns to the local store. */
  signOut(): Promise<void> {
    return this.serially(async () => {
      this.settleRound(null);
      this.project = null;
      this.expiresAt = null;
      await this.opts.store.useLocal();
    });
  }

  /** Fails a refresh round still waiting (daemon shutdown). */
  dispose(): void {
    this.settleRound(null);
  }

  private async connect(url: string, anonKey: string, session: SupabaseSession, claims: Claims, expiresAt: number | null): Promise<SignedIn> {
    // A different user or project: calls waiting for the previous user's fresh token fail now.
    this.settleRound(null);
    let next: SupabaseStore;
    try {
      // supabase-js loads with the first sign-in, not with every daemon.
      const { SupabaseStore } = await import('../store/supabase.js');
      next = await SupabaseStore.connect(
        {
          url,
          anonKey,
          shippedMigrations: listMigrations(findMigrationsDir()).map((m) => m.version),
          onTokenExpired: () => this.askForFreshToken(),
          ...(this.opts.realtime ? { realtime: this.opts.realtime } : {}),
        },
        session,
      );
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'schema_behind') {
        throw new RpcError('SchemaBehind', err.message, { command: 'supabase db push' });
      }
      throw err;
    }
    // Nothing is accepted on the user's behalf: joining a team is their own act (teams/myInvitations, then
    // teams/acceptInvitation or teams/declineInvitation).
    let interrupted: number;
    try {
      // Replies a crashed daemon of this user left streaming (on this machine or another): only stale ones,
      // the user's other machines may be answering right now.
      interrupted = (await this.opts.sweepInterrupted?.(next)) ?? 0;
    } catch (err) {
      await next.close();
      throw err;
    }
    await this.opts.store.useTeam(next);
    this.project = { url, anonKey };
    this.expiresAt = expiresAt;
    this.opts.log.info('signed in to a team project', { user: claims.sub, aal: claims.aal, interruptedReplies: interrupted });
    return this.signedIn(claims);
  }

  /** One round per expired token: SupabaseStore already shares it between the calls that noticed. */
  private askForFreshToken(): Promise<SupabaseSession | null> {
    if (this.round) return this.round.promise;
    let resolve!: (s: SupabaseSession | null) => void;
    const promise = new Promise<SupabaseSession | null>((r) => (resolve = r));
    const timer = setTimeout(() => {
      this.opts.log.warn('no fresh Supabase session arrived in time; waiting calls fail with NotSignedIn', { deadlineMs: this.deadlineMs });
      this.settleRound(null);
    }, this.deadlineMs);
    this.round = { promise, resolve, timer };
    const at = this.expiresAt !== null ? ` at ${new Date(this.expiresAt * 1000).toISOString()}` : '';
    this.opts.hub.publish('auth', 'auth/tokenExpired', { reason: `The access token expired${at}`, respondWithinMs: this.deadlineMs });
    return promise;
  }

  private settleRound(session: SupabaseSession | null): void {
    const round = this.round;
    if (!round) return;
    this.round = null;
    clearTimeout(round.timer);
    round.resolve(session);
  }

  private signedIn(claims: Claims): SignedIn {
    return { store: 'supabase', user: { id: claims.sub, email: claims.email }, aal: claims.aal };
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
