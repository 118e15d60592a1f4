/**
 * A contract-faithful Supabase Auth (GoTrue) test server: the part of the API Cairn uses, with the request
 * and response shapes of supabase/auth's `openapi.yaml` for GoTrue v2.x (API version header 2024-01-01, the
 * one `@supabase/auth-js` 2.x sends), so the real `@supabase/supabase-js` signs in against it unchanged.
 *
 * Routes under /auth/v1: signup; token (grant_type password, refresh_token, pkce); verify (the confirmation
 * link's token hash, or the emailed code); authorize (PKCE, with a fake GitHub/Google consent that immediately
 * sends the browser back); user (GET, PUT); logout (scope global, local, others); factors (TOTP enrol, refused
 * at aal1 once the user has a verified factor; challenge; verify to aal2; unenrol); admin/users (list,
 * create, read, update with `email_confirm`, delete: the service-role key only); settings; health.
 *
 * Email confirmations are on, as in supabase/config.toml (`enable_confirmations = true`) and GoTrue's
 * MAILER_AUTOCONFIRM=false: sign-up answers with the user and no session and "sends" a confirmation email
 * (kept in `mail`, as a local project's Inbucket keeps it); a password sign-in before confirmation is refused
 * with `email_not_confirmed`; signing up again with a taken address answers like a new sign-up (an
 * obfuscated user), so sign-up tells nobody whether an account exists. OAuth users are confirmed by their
 * provider. `enableConfirmations: false` gives the autoconfirm behaviour instead.
 *
 * Users live in memory with a row in `auth.users` of the shared PGlite (so triggers such as profile creation
 * run, and foreign keys to auth.users hold), and their factors with rows in `auth.mfa_factors` (which SQL reads
 * to ask for aal2). The row is the account, as in GoTrue: once SQL deletes it (`delete_my_account`), the user,
 * their sessions and refresh tokens are gone here too (GoTrue's cascade), noticed at the next request. Refresh tokens rotate; reusing a rotated token outside the
 * reuse interval revokes the whole session, as GoTrue does (refresh_token_already_used).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import type { PGliteInterface } from '@electric-sql/pglite';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import { signJwt, verifyJwt, JwtError, type AccessTokenClaims } from './jwt.js';
import { BadJson, bearer, isObject, readJson, redirect, sendEmpty, sendJson } from './http.js';

export const GOTRUE_VERSION_FOLLOWED = 'v2.170 (openapi.yaml), API version 2024-01-01';
const API_VERSION = '2024-01-01';

type Provider = 'email' | 'github' | 'google';

interface Factor {
  id: string;
  friendlyName: string | null;
  secret: string;
  status: 'unverified' | 'verified';
  createdAt: string;
  updatedAt: string;
}

interface UserRecord {
  id: string;
  email: string;
  /** Null until the address is confirmed (the link followed, the code entered, or the admin API). */
  emailConfirmedAt: string | null;
  confirmationSentAt: string | null;
  passwordHash: string | null;
  createdAt: string;
  updatedAt: string;
  lastSignInAt: string | null;
  userMetadata: Record<string, unknown>;
  providers: Provider[];
  factors: Factor[];
}

interface SessionRecord {
  id: string;
  userId: string;
  aal: 'aal1' | 'aal2';
  amr: { method: string; timestamp: number }[];
  createdAt: number;
}

interface RefreshTokenRecord {
  token: string;
  sessionId: string;
  revokedAt: number | null;
  /** The token that replaced this one, when rotated. */
  child: string | null;
}

interface FlowState {
  provider: Provider;
  codeChallenge: string | null;
  codeChallengeMethod: 's256' | 'plain';
  redirectTo: string;
  createdAt: number;
  userId: string | null;
}

interface Challenge {
  id: string;
  factorId: string;
  createdAt: number;
}

/** An email the server "sent" (a local Supabase project shows them in Inbucket). */
export interface SentMail {
  to: string;
  kind: 'confirmation';
  /** The 6-digit code in the email. */
  token: string;
  /** What the email's link carries (`/verify?token=<hash>&type=signup`). */
  tokenHash: string;
  sentAt: string;
}

export interface OAuthIdentity {
  email: string;
  name?: string;
}

export interface AuthServerOptions {
  db: PGliteInterface;
  jwtSecret: string;
  /** Public base URL of the project (http://127.0.0.1:port); the routes are under `${baseUrl}/auth/v1`. */
  baseUrl: () => string;
  /** Where a redirect without an allowed `redirect_to` goes (GoTrue's SITE_URL). */
  siteUrl?: string;
  /**
   * GoTrue's URI_ALLOW_LIST: `redirect_to` must start with one of these, else the browser goes to `siteUrl`.
   * Unset: every `redirect_to` is allowed.
   */
  redirectAllowList?: string[];
  accessTokenTtlSeconds?: number;
  refreshTokenReuseIntervalSeconds?: number;
  /** GoTrue's MAILER_AUTOCONFIRM negated (supabase/config.toml `enable_confirmations`); default true. */
  enableConfirmations?: boolean;
}

class AuthFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const MIN_PASSWORD = 6;
const FLOW_STATE_TTL_MS = 5 * 60_000;
const CHALLENGE_TTL_MS = 5 * 60_000;

function nowIso(): string {
  return new Date().toISOString();
}

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(password, salt, 32).toString('hex')}`;
}

function checkPassword(password: string, stored: string): boolean {
  const [saltHex, hashHex] = stored.split(':');
  const expected = Buffer.from(hashHex ?? '', 'hex');
  const actual = scryptSync(password, Buffer.from(saltHex ?? '', 'hex'), 32);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function base64url(buf: Buffer): string {
  return buf.toString('base64url');
}

export class AuthServer {
  /** Mutable so a test can make tokens expire mid-session. */
  accessTokenTtlSeconds: number;
  refreshTokenReuseIntervalSeconds: number;
  /** Identity the fake OAuth provider signs in as on its consent page. */
  oauthIdentity: OAuthIdentity = { email: 'octocat@users.noreply.github.com', name: 'The Octocat' };
  /** Emails sent, oldest first (confirmation links and codes). */
  readonly mail: SentMail[] = [];
  readonly enableConfirmations: boolean;

  private readonly users = new Map<string, UserRecord>();
  private readonly usersByEmail = new Map<string, string>();
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly flowStates = new Map<string, FlowState>();
  private readonly authCodes = new Map<string, string>();
  private readonly challenges = new Map<string, Challenge>();
  private authUserColumns: Set<string> | null = null;
  private hasFactorTable: boolean | null = null;

  constructor(private readonly opts: AuthServerOptions) {
    this.accessTokenTtlSeconds = opts.accessTokenTtlSeconds ?? 3600;
    this.refreshTokenReuseIntervalSeconds = opts.refreshTokenReuseIntervalSeconds ?? 10;
    this.enableConfirmations = opts.enableConfirmations ?? true;
  }

  private get authBase(): string {
    return `${this.opts.baseUrl()}/auth/v1`;
  }

  /** Handles a request under /auth/v1; `path` is the rest after that prefix. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    try {
      await this.route(req, res, url, path);
    } catch (err) {
      if (err instanceof AuthFailure) return this.fail(req, res, err);
      if (err instanceof BadJson) return this.fail(req, res, new AuthFailure(400, 'bad_json', 'Could not parse request body as JSON'));
      const message = err instanceof Error ? err.message : String(err);
      this.fail(req, res, new AuthFailure(500, 'unexpected_failure', message));
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    const m = req.method ?? 'GET';
    if (m === 'GET' && path === '/health') return sendJson(res, 200, { version: GOTRUE_VERSION_FOLLOWED, name: 'GoTrue', description: 'Cairn test server' });
    if (m === 'GET' && path === '/settings') return this.ok(req, res, 200, this.settings());
    if (m === 'POST' && path === '/signup') return this.signup(req, res);
    if (m === 'POST' && path === '/token') return this.token(req, res, url);
    if (m === 'POST' && path === '/verify') return this.verifyEmail(req, res);
    if (path === '/admin/users' || path.startsWith('/admin/users/')) return this.admin(req, res, m, path.slice('/admin/users'.length));
    if (m === 'GET' && path === '/authorize') return this.authorize(res, url);
    if (m === 'GET' && path.startsWith('/fake-provider/')) return this.fakeConsent(res, url);
    if (m === 'GET' && path === '/callback') return this.callback(res, url);
    if (m === 'GET' && path === '/user') return this.getUser(req, res);
    if (m === 'PUT' && path === '/user') return this.updateUser(req, res);
    if (m === 'POST' && path === '/logout') return this.logout(req, res, url);
    if (m === 'POST' && path === '/factors') return this.enrol(req, res);
    const factor = /^\/factors\/([^/]+)(\/challenge|\/verify)?$/.exec(path);
    if (factor) {
      const id = factor[1]!;
      if (m === 'POST' && factor[2] === '/challenge') return this.challenge(req, res, id);
      if (m === 'POST' && factor[2] === '/verify') return this.verify(req, res, id);
      if (m === 'DELETE' && !factor[2]) return this.unenrol(req, res, id);
    }
    throw new AuthFailure(404, 'not_found', 'Not Found');
  }

  // ---- responses ---------------------------------------------------------------------------------------

  private ok(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
    sendJson(res, status, body, this.versionHeader(req));
  }

  private versionHeader(req: IncomingMessage): Record<string, string> {
    return req.headers['x-supabase-api-version'] ? { 'x-supabase-api-version': API_VERSION } : {};
  }

  /** Error bodies in both shapes auth-js reads: `{code, message}` for API version 2024-01-01, else `{code, error_code, msg}`. */
  private fail(req: IncomingMessage, res: ServerResponse, err: AuthFailure): void {
    const versioned = String(req.headers['x-supabase-api-version'] ?? '') >= API_VERSION;
    const body = versioned
      ? { code: err.errorCode, message: err.message, ...err.extra }
      : { code: err.status, error_code: err.errorCode, msg: err.message, ...err.extra };
    sendJson(res, err.status, body, this.versionHeader(req));
  }

  private settings(): Record<string, unknown> {
    return {
      external: { anonymous_users: false, apple: false, azure: false, email: true, github: true, google: true, phone: false },
      disable_signup: false,
      mailer_autoconfirm: !this.enableConfirmations,
      phone_autoconfirm: false,
      sms_provider: '',
      saml_enabled: false,
    };
  }

  private userJson(user: UserRecord): Record<string, unknown> {
    const provider = user.providers[0] ?? 'email';
    const json: Record<string, unknown> = {
      id: user.id,
      aud: 'authenticated',
      role: 'authenticated',
      email: user.email,
      ...(user.emailConfirmedAt ? { email_confirmed_at: user.emailConfirmedAt, confirmed_at: user.emailConfirmedAt } : {}),
      ...(user.confirmationSentAt ? { confirmation_sent_at: user.confirmationSentAt } : {}),
      phone: '',
      last_sign_in_at: user.lastSignInAt,
      app_metadata: { provider, providers: user.providers },
      user_metadata: user.userMetadata,
      identities: user.providers.map((p) => ({
        identity_id: createHash('sha256').update(`identity:${p}:${user.id}`).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5'),
        id: p === 'email' ? user.id : createHash('sha256').update(`${p}:${user.email}`).digest('hex').slice(0, 12),
        user_id: user.id,
        identity_data: { email: user.email, email_verified: user.emailConfirmedAt !== null, sub: user.id },
        provider: p,
        last_sign_in_at: user.lastSignInAt,
        created_at: user.createdAt,
        updated_at: user.updatedAt,
        email: user.email,
      })),
      created_at: user.createdAt,
      updated_at: user.updatedAt,
      is_anonymous: false,
    };
    if (user.factors.length > 0) {
      json.factors = user.factors.map((f) => ({
        id: f.id,
        friendly_name: f.friendlyName ?? undefined,
        factor_type: 'totp',
        status: f.status,
        created_at: f.createdAt,
        updated_at: f.updatedAt,
      }));
    }
    return json;
  }

  private async sessionJson(session: SessionRecord, refreshToken: string): Promise<Record<string, unknown>> {
    const user = this.users.get(session.userId)!;
    const expiresAt = Math.floor(Date.now() / 1000) + this.accessTokenTtlSeconds;
    const claims: AccessTokenClaims = {
      iss: this.authBase,
      sub: user.id,
      aud: 'authenticated',
      email: user.email,
      phone: '',
      app_metadata: { provider: user.providers[0] ?? 'email', providers: user.providers },
      user_metadata: user.userMetadata,
      role: 'authenticated',
      aal: session.aal,
      amr: session.amr,
      session_id: session.id,
      is_anonymous: false,
    };
    const accessToken = await signJwt(this.opts.jwtSecret, claims, expiresAt);
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: this.accessTokenTtlSeconds,
      expires_at: expiresAt,
      refresh_token: refreshToken,
      user: this.userJson(user),
    };
  }

  private newRefreshToken(sessionId: string): string {
    const token = base64url(randomBytes(16));
    this.refreshTokens.set(token, { token, sessionId, revokedAt: null, child: null });
    return token;
  }

  private async startSession(user: UserRecord, method: string): Promise<Record<string, unknown>> {
    const session: SessionRecord = {
      id: randomUUID(),
      userId: user.id,
      aal: 'aal1',
      amr: [{ method, timestamp: Math.floor(Date.now() / 1000) }],
      createdAt: Date.now(),
    };
    this.sessions.set(session.id, session);
    user.lastSignInAt = nowIso();
    return this.sessionJson(session, this.newRefreshToken(session.id));
  }

  private endSession(sessionId: string): void {
    this.sessions.delete(sessionId);
    for (const [token, rt] of this.refreshTokens) if (rt.sessionId === sessionId) this.refreshTokens.delete(token);
  }

  // ---- users -------------------------------------------------------------------------------------------

  private async createUser(email: string, password: string | null, provider: Provider, metadata: Record<string, unknown>, confirmed: boolean): Promise<UserRecord> {
    const now = nowIso();
    const user: UserRecord = {
      id: randomUUID(),
      email,
      emailConfirmedAt: confirmed ? now : null,
      confirmationSentAt: null,
      passwordHash: password === null ? null : hashPassword(password),
      createdAt: now,
      updatedAt: now,
      lastSignInAt: null,
      userMetadata: metadata,
      providers: [provider],
      factors: [],
    };
    await this.insertAuthUsersRow(user);
    this.users.set(user.id, user);
    this.usersByEmail.set(email, user.id);
    return user;
  }

  /** Writes the `auth.users` row with whichever GoTrue columns the bootstrap schema defines. */
  private async insertAuthUsersRow(user: UserRecord): Promise<void> {
    if (!this.authUserColumns) {
      const cols = await this.opts.db.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = 'auth' and table_name = 'users'`,
      );
      this.authUserColumns = new Set(cols.rows.map((r) => r.column_name));
    }
    const values: Record<string, unknown> = {
      id: user.id,
      email: user.email,
      aud: 'authenticated',
      role: 'authenticated',
      raw_user_meta_data: JSON.stringify(user.userMetadata),
      raw_app_meta_data: JSON.stringify({ provider: user.providers[0], providers: user.providers }),
      email_confirmed_at: user.emailConfirmedAt,
      created_at: user.createdAt,
      updated_at: user.updatedAt,
      is_anonymous: false,
    };
    const names = Object.keys(values).filter((c) => this.authUserColumns!.has(c));
    await this.opts.db.query(
      `insert into auth.users (${names.map((n) => `"${n}"`).join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
      names.map((n) => values[n]),
    );
  }

  /**
   * The user if their `auth.users` row is still there; a row SQL deleted takes the account with it (its
   * sessions and refresh tokens too, as GoTrue's foreign keys cascade).
   */
  private async live(user: UserRecord | undefined): Promise<UserRecord | undefined> {
    if (!user) return undefined;
    const { rows } = await this.opts.db.query('select 1 from auth.users where id = $1', [user.id]);
    if (rows.length > 0) return user;
    for (const s of [...this.sessions.values()]) if (s.userId === user.id) this.endSession(s.id);
    this.users.delete(user.id);
    this.usersByEmail.delete(user.email);
    return undefined;
  }

  /** Mirrors a factor into `auth.mfa_factors` when the schema has it (insert, update of its status, delete). */
  private async writeFactor(user: UserRecord, factor: Factor, op: 'insert' | 'update' | 'delete'): Promise<void> {
    if (this.hasFactorTable === null) {
      const { rows } = await this.opts.db.query<{ t: string | null }>(`select to_regclass('auth.mfa_factors')::text as t`);
      this.hasFactorTable = rows[0]?.t != null;
    }
    if (!this.hasFactorTable) return;
    if (op === 'insert') {
      await this.opts.db.query(
        `insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at, secret)
         values ($1, $2, $3, 'totp', $4, $5, $6, $7)`,
        [factor.id, user.id, factor.friendlyName, factor.status, factor.createdAt, factor.updatedAt, factor.secret],
      );
    } else if (op === 'update') {
      await this.opts.db.query('update auth.mfa_factors set status = $2, updated_at = $3 where id = $1', [factor.id, factor.status, factor.updatedAt]);
    } else {
      await this.opts.db.query('delete from auth.mfa_factors where id = $1', [factor.id]);
    }
  }

  /** Looks up a user by email (tests use it to name teammates). */
  userIdByEmail(email: string): string | null {
    return this.usersByEmail.get(email.toLowerCase()) ?? null;
  }

  private async signup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (!isObject(body)) throw new AuthFailure(400, 'validation_failed', 'Request body must be a JSON object');
    const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new AuthFailure(400, 'validation_failed', 'Unable to validate email address: invalid format');
    if (password.length < MIN_PASSWORD) {
      throw new AuthFailure(422, 'weak_password', `Password should be at least ${MIN_PASSWORD} characters.`, { weak_password: { reasons: ['length'] } });
    }
    const existing = this.usersByEmail.get(email);
    if (existing && !this.enableConfirmations) throw new AuthFailure(422, 'user_already_exists', 'User already registered');
    if (existing) {
      // GoTrue with confirmations on (signup.go, sanitizeUser): a taken address gets the answer a new sign-up
      // gets, with a made-up user, so sign-up is no way to learn who has an account. An unconfirmed owner of
      // the address gets the confirmation email again.
      const user = this.users.get(existing)!;
      if (!user.emailConfirmedAt) await this.sendConfirmation(user);
      const now = nowIso();
      const madeUp: UserRecord = { ...user, id: randomUUID(), emailConfirmedAt: null, confirmationSentAt: now, createdAt: now, updatedAt: now, lastSignInAt: null, userMetadata: {}, factors: [] };
      return this.ok(req, res, 200, { ...this.userJson(madeUp), identities: [] });
    }
    const data = isObject(body.data) ? body.data : {};
    const user = await this.createUser(email, password, 'email', data, !this.enableConfirmations);
    if (!this.enableConfirmations) {
      // Autoconfirm: sign-up answers with a session.
      return this.ok(req, res, 200, await this.startSession(user, 'password'));
    }
    await this.sendConfirmation(user);
    this.ok(req, res, 200, this.userJson(user));
  }

  /** "Sends" the confirmation email: a 6-digit code and a link carrying its hash (GoTrue's token_hash). */
  private async sendConfirmation(user: UserRecord): Promise<void> {
    const token = String(100000 + (randomBytes(4).readUInt32BE(0) % 900000));
    const tokenHash = createHash('sha224').update(user.email + token).digest('hex');
    user.confirmationSentAt = nowIso();
    for (let i = this.mail.length - 1; i >= 0; i--) if (this.mail[i]!.to === user.email) this.mail.splice(i, 1);
    this.mail.push({ to: user.email, kind: 'confirmation', token, tokenHash, sentAt: user.confirmationSentAt });
    await this.opts.db.query(`update auth.users set confirmation_sent_at = $2 where id = $1`, [user.id, user.confirmationSentAt]);
  }

  private async confirmEmail(user: UserRecord): Promise<void> {
    if (user.emailConfirmedAt) return;
    user.emailConfirmedAt = nowIso();
    user.updatedAt = user.emailConfirmedAt;
    await this.opts.db.query(`update auth.users set email_confirmed_at = $2 where id = $1`, [user.id, user.emailConfirmedAt]);
  }

  /** POST /verify: the confirmation link's token hash, or the emailed code with the address; answers with a session. */
  private async verifyEmail(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (!isObject(body)) throw new AuthFailure(400, 'validation_failed', 'Request body must be a JSON object');
    if (body.type !== 'signup' && body.type !== 'email') throw new AuthFailure(400, 'validation_failed', 'Verify requires a verification type');
    const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
    const at = this.mail.findIndex((m) =>
      typeof body.token_hash === 'string' ? m.tokenHash === body.token_hash : m.to === email && typeof body.token === 'string' && m.token === body.token,
    );
    const id = at >= 0 ? this.usersByEmail.get(this.mail[at]!.to) : undefined;
    const user = id ? this.users.get(id) : undefined;
    if (at < 0 || !user) throw new AuthFailure(403, 'otp_expired', 'Token has expired or is invalid');
    this.mail.splice(at, 1);
    await this.confirmEmail(user);
    this.ok(req, res, 200, await this.startSession(user, 'otp'));
  }

  // ---- admin API (service role) --------------------------------------------------------------------------

  /** /admin/users[/id]: what the dashboard and server-side code do with the service-role key. */
  private async admin(req: IncomingMessage, res: ServerResponse, method: string, rest: string): Promise<void> {
    const token = bearer(req);
    let role = '';
    try {
      role = token ? (await verifyJwt(this.opts.jwtSecret, token)).role : '';
    } catch {
      role = '';
    }
    if (role !== 'service_role' && role !== 'supabase_admin') throw new AuthFailure(403, 'not_admin', 'User not allowed');
    const idMatch = /^\/([0-9a-f-]{36})$/.exec(rest);
    if (method === 'POST' && rest === '') {
      const body = await readJson(req);
      if (!isObject(body)) throw new AuthFailure(400, 'validation_failed', 'Request body must be a JSON object');
      const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new AuthFailure(400, 'validation_failed', 'Unable to validate email address: invalid format');
      if (this.usersByEmail.has(email)) throw new AuthFailure(422, 'email_exists', 'A user with this email address has already been registered');
      const password = typeof body.password === 'string' ? body.password : null;
      const metadata = isObject(body.user_metadata) ? body.user_metadata : {};
      const user = await this.createUser(email, password, 'email', metadata, body.email_confirm === true);
      return this.ok(req, res, 200, this.userJson(user));
    }
    if (method === 'GET' && rest === '') {
      return this.ok(req, res, 200, { users: [...this.users.values()].map((u) => this.userJson(u)), aud: 'authenticated' });
    }
    const user = idMatch ? this.users.get(idMatch[1]!) : undefined;
    if (!idMatch) throw new AuthFailure(404, 'not_found', 'Not Found');
    if (!user) throw new AuthFailure(404, 'user_not_found', 'User not found');
    if (method === 'GET') return this.ok(req, res, 200, this.userJson(user));
    if (method === 'PUT') {
      const body = await readJson(req);
      if (!isObject(body)) throw new AuthFailure(400, 'validation_failed', 'Request body must be a JSON object');
      if (body.email_confirm === true) await this.confirmEmail(user);
      if (typeof body.password === 'string') user.passwordHash = hashPassword(body.password);
      if (isObject(body.user_metadata)) user.userMetadata = { ...user.userMetadata, ...body.user_metadata };
      return this.ok(req, res, 200, this.userJson(user));
    }
    if (method === 'DELETE') {
      // The row goes first: if the database refuses (a team would lose its last owner), nothing changes here.
      await this.opts.db.query('delete from auth.users where id = $1', [user.id]);
      for (const s of [...this.sessions.values()]) if (s.userId === user.id) this.endSession(s.id);
      this.users.delete(user.id);
      this.usersByEmail.delete(user.email);
      return this.ok(req, res, 200, {});
    }
    throw new AuthFailure(405, 'method_not_allowed', 'Method not allowed');
  }

  // ---- token grants ------------------------------------------------------------------------------------

  private async token(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const grant = url.searchParams.get('grant_type');
    const body = await readJson(req);
    if (!isObject(body)) throw new AuthFailure(400, 'validation_failed', 'Request body must be a JSON object');
    if (grant === 'password') return this.ok(req, res, 200, await this.passwordGrant(body));
    if (grant === 'refresh_token') return this.ok(req, res, 200, await this.refreshGrant(body));
    if (grant === 'pkce') return this.ok(req, res, 200, await this.pkceGrant(body));
    throw new AuthFailure(400, 'unsupported_grant_type', 'unsupported_grant_type');
  }

  private async passwordGrant(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const id = this.usersByEmail.get(email);
    const user = await this.live(id ? this.users.get(id) : undefined);
    if (!user || !user.passwordHash || !checkPassword(password, user.passwordHash)) {
      throw new AuthFailure(400, 'invalid_credentials', 'Invalid login credentials');
    }
    if (!user.emailConfirmedAt) throw new AuthFailure(400, 'email_not_confirmed', 'Email not confirmed');
    return this.startSession(user, 'password');
  }

  private async refreshGrant(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const token = typeof body.refresh_token === 'string' ? body.refresh_token : '';
    if (!token) throw new AuthFailure(400, 'validation_failed', 'refresh_token required');
    const rt = this.refreshTokens.get(token);
    let session = rt ? this.sessions.get(rt.sessionId) : undefined;
    if (session && !(await this.live(this.users.get(session.userId)))) session = undefined;
    if (!rt || !session) throw new AuthFailure(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    if (rt.revokedAt !== null) {
      const withinReuse = Date.now() - rt.revokedAt < this.refreshTokenReuseIntervalSeconds * 1000;
      const active = rt.child ? this.refreshTokens.get(rt.child) : undefined;
      if (withinReuse && active && active.revokedAt === null) {
        // A concurrent refresh from the same client: GoTrue answers with the active child instead.
        return this.sessionJson(session, active.token);
      }
      // Reuse of a rotated token is treated as theft: the whole session goes.
      this.endSession(session.id);
      throw new AuthFailure(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
    }
    rt.revokedAt = Date.now();
    rt.child = this.newRefreshToken(session.id);
    return this.sessionJson(session, rt.child);
  }

  private async pkceGrant(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const code = typeof body.auth_code === 'string' ? body.auth_code : '';
    const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
    if (!code || !verifier) throw new AuthFailure(400, 'validation_failed', 'invalid request: both auth code and code verifier should be non-empty');
    const flowId = this.authCodes.get(code);
    const flow = flowId ? this.flowStates.get(flowId) : undefined;
    if (!flowId || !flow || !flow.userId) throw new AuthFailure(404, 'flow_state_not_found', 'invalid flow state, no valid flow state found');
    this.authCodes.delete(code);
    this.flowStates.delete(flowId);
    if (Date.now() - flow.createdAt > FLOW_STATE_TTL_MS) throw new AuthFailure(400, 'flow_state_expired', 'invalid flow state, flow state has expired');
    const computed = flow.codeChallengeMethod === 's256' ? base64url(createHash('sha256').update(verifier).digest()) : verifier;
    if (computed !== flow.codeChallenge) {
      throw new AuthFailure(400, 'bad_code_verifier', 'code challenge does not match previously saved code verifier');
    }
    const user = this.users.get(flow.userId)!;
    const session = await this.startSession(user, 'oauth');
    return { ...session, provider_token: `fake-${flow.provider}-token`, provider_refresh_token: null };
  }

  // ---- OAuth with PKCE ---------------------------------------------------------------------------------

  private authorize(res: ServerResponse, url: URL): void {
    const provider = url.searchParams.get('provider') ?? '';
    if (provider !== 'github' && provider !== 'google') {
      throw new AuthFailure(400, 'validation_failed', 'Unsupported provider: provider is not enabled');
    }
    const challenge = url.searchParams.get('code_challenge');
    const method = (url.searchParams.get('code_challenge_method') ?? 's256').toLowerCase();
    if (challenge && method !== 's256' && method !== 'plain') {
      throw new AuthFailure(400, 'validation_failed', 'code challenge method not supported');
    }
    const flowId = randomUUID();
    this.flowStates.set(flowId, {
      provider,
      codeChallenge: challenge,
      codeChallengeMethod: method === 'plain' ? 'plain' : 's256',
      redirectTo: this.allowedRedirect(url.searchParams.get('redirect_to')),
      createdAt: Date.now(),
      userId: null,
    });
    redirect(res, `${this.authBase}/fake-provider/${provider}/consent?state=${flowId}`);
  }

  private allowedRedirect(asked: string | null): string {
    const site = this.opts.siteUrl ?? this.opts.baseUrl();
    if (!asked) return site;
    const list = this.opts.redirectAllowList;
    return !list || list.some((prefix) => asked.startsWith(prefix)) ? asked : site;
  }

  /** The provider's consent screen, approved at once: it sends the browser back to GoTrue's callback. */
  private fakeConsent(res: ServerResponse, url: URL): void {
    const state = url.searchParams.get('state') ?? '';
    redirect(res, `${this.authBase}/callback?code=${base64url(randomBytes(12))}&state=${encodeURIComponent(state)}`);
  }

  private async callback(res: ServerResponse, url: URL): Promise<void> {
    const flowId = url.searchParams.get('state') ?? '';
    const flow = this.flowStates.get(flowId);
    if (!flow) throw new AuthFailure(404, 'flow_state_not_found', 'invalid flow state, no valid flow state found');
    const email = this.oauthIdentity.email.toLowerCase();
    const existing = this.usersByEmail.get(email);
    let user = existing ? this.users.get(existing)! : undefined;
    // The provider vouches for the address (email_verified), so an OAuth user is confirmed.
    if (!user) user = await this.createUser(email, null, flow.provider, { full_name: this.oauthIdentity.name ?? email }, true);
    else {
      if (!user.providers.includes(flow.provider)) user.providers.push(flow.provider);
      await this.confirmEmail(user);
    }
    flow.userId = user.id;
    const target = new URL(flow.redirectTo);
    if (flow.codeChallenge) {
      const code = randomUUID();
      this.authCodes.set(code, flowId);
      target.searchParams.set('code', code);
      return redirect(res, target.toString());
    }
    // Implicit flow: the session goes in the fragment.
    this.flowStates.delete(flowId);
    const session = await this.startSession(user, 'oauth');
    const fragment = new URLSearchParams({
      access_token: String(session.access_token),
      expires_at: String(session.expires_at),
      expires_in: String(session.expires_in),
      refresh_token: String(session.refresh_token),
      token_type: 'bearer',
    });
    redirect(res, `${target.toString()}#${fragment.toString()}`);
  }

  // ---- the signed-in user ------------------------------------------------------------------------------

  /** Resolves the Bearer JWT to a live session, with GoTrue's errors for missing, bad, expired or revoked tokens. */
  private async authenticate(req: IncomingMessage): Promise<{ user: UserRecord; session: SessionRecord; claims: AccessTokenClaims }> {
    const token = bearer(req);
    if (!token) throw new AuthFailure(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
    let claims: AccessTokenClaims;
    try {
      claims = await verifyJwt(this.opts.jwtSecret, token);
    } catch (err) {
      const why = err instanceof JwtError && err.problem === 'expired' ? 'token has invalid claims: token is expired' : 'signature is invalid';
      throw new AuthFailure(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${why}`);
    }
    if (!claims.sub) throw new AuthFailure(403, 'bad_jwt', 'invalid claim: missing sub claim');
    const user = await this.live(this.users.get(claims.sub));
    if (!user) throw new AuthFailure(403, 'user_not_found', 'User from sub claim in JWT does not exist');
    const session = claims.session_id ? this.sessions.get(claims.session_id) : undefined;
    if (!session) throw new AuthFailure(403, 'session_not_found', 'Session from session_id claim in JWT does not exist');
    return { user, session, claims };
  }

  private async getUser(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { user } = await this.authenticate(req);
    this.ok(req, res, 200, this.userJson(user));
  }

  private async updateUser(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { user } = await this.authenticate(req);
    const body = await readJson(req);
    if (!isObject(body)) throw new AuthFailure(400, 'validation_failed', 'Request body must be a JSON object');
    if (typeof body.password === 'string') {
      if (body.password.length < MIN_PASSWORD) {
        throw new AuthFailure(422, 'weak_password', `Password should be at least ${MIN_PASSWORD} characters.`, { weak_password: { reasons: ['length'] } });
      }
      user.passwordHash = hashPassword(body.password);
    }
    if (isObject(body.data)) user.userMetadata = { ...user.userMetadata, ...body.data };
    user.updatedAt = nowIso();
    this.ok(req, res, 200, this.userJson(user));
  }

  private async logout(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const { user, session } = await this.authenticate(req);
    const scope = url.searchParams.get('scope') ?? 'global';
    if (scope !== 'global' && scope !== 'local' && scope !== 'others') {
      throw new AuthFailure(400, 'validation_failed', `Unsupported logout scope "${scope}"`);
    }
    for (const s of [...this.sessions.values()]) {
      if (s.userId !== user.id) continue;
      const mine = s.id === session.id;
      if (scope === 'global' || (scope === 'local' && mine) || (scope === 'others' && !mine)) this.endSession(s.id);
    }
    sendEmpty(res, 204, this.versionHeader(req));
  }

  // ---- TOTP MFA ----------------------------------------------------------------------------------------

  private async enrol(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { user, session } = await this.authenticate(req);
    const body = await readJson(req);
    if (!isObject(body) || body.factor_type !== 'totp') throw new AuthFailure(422, 'validation_failed', 'factor_type needs to be totp');
    const friendlyName = typeof body.friendly_name === 'string' ? body.friendly_name : null;
    if (friendlyName && user.factors.some((f) => f.friendlyName === friendlyName)) {
      throw new AuthFailure(422, 'mfa_factor_name_conflict', `A factor with the friendly name "${friendlyName}" for this user already exists`);
    }
    // Since GoTrue v2.143.0 (supabase/auth#1439; validateFactors in internal/api/mfa.go, unchanged in the v2.170
    // followed here), once a user has a verified factor only a session that proved one (aal2) may add another:
    // a stolen password alone must not plant a second factor. After the name check, as there.
    if (session.aal !== 'aal2' && user.factors.some((f) => f.status === 'verified')) {
      throw new AuthFailure(403, 'insufficient_aal', 'AAL2 required to enroll a new factor');
    }
    const issuer = typeof body.issuer === 'string' && body.issuer ? body.issuer : new URL(this.opts.baseUrl()).host;
    const secret = new OTPAuth.Secret({ size: 20 });
    const totp = new OTPAuth.TOTP({ issuer, label: user.email, algorithm: 'SHA1', digits: 6, period: 30, secret });
    const uri = totp.toString();
    const now = nowIso();
    const factor: Factor = { id: randomUUID(), friendlyName, secret: secret.base32, status: 'unverified', createdAt: now, updatedAt: now };
    user.factors.push(factor);
    await this.writeFactor(user, factor, 'insert');
    const svg = await QRCode.toString(uri, { type: 'svg', margin: 1 });
    this.ok(req, res, 200, {
      id: factor.id,
      type: 'totp',
      friendly_name: friendlyName ?? '',
      totp: { qr_code: svg, secret: secret.base32, uri },
    });
  }

  private findFactor(user: UserRecord, id: string): Factor {
    const factor = user.factors.find((f) => f.id === id);
    if (!factor) throw new AuthFailure(404, 'mfa_factor_not_found', 'Factor not found');
    return factor;
  }

  private async challenge(req: IncomingMessage, res: ServerResponse, factorId: string): Promise<void> {
    const { user } = await this.authenticate(req);
    this.findFactor(user, factorId);
    const challenge: Challenge = { id: randomUUID(), factorId, createdAt: Date.now() };
    this.challenges.set(challenge.id, challenge);
    this.ok(req, res, 200, { id: challenge.id, type: 'totp', expires_at: Math.floor((challenge.createdAt + CHALLENGE_TTL_MS) / 1000) });
  }

  private async verify(req: IncomingMessage, res: ServerResponse, factorId: string): Promise<void> {
    const { user, session } = await this.authenticate(req);
    const factor = this.findFactor(user, factorId);
    const body = await readJson(req);
    if (!isObject(body)) throw new AuthFailure(400, 'validation_failed', 'Request body must be a JSON object');
    const challenge = typeof body.challenge_id === 'string' ? this.challenges.get(body.challenge_id) : undefined;
    if (!challenge || challenge.factorId !== factor.id) throw new AuthFailure(404, 'mfa_challenge_not_found', 'Challenge not found');
    if (Date.now() - challenge.createdAt > CHALLENGE_TTL_MS) {
      this.challenges.delete(challenge.id);
      throw new AuthFailure(422, 'mfa_challenge_expired', `Challenge ${challenge.id} has expired, please try again`);
    }
    const code = typeof body.code === 'string' ? body.code : '';
    const totp = new OTPAuth.TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(factor.secret) });
    if (!/^\d{6}$/.test(code) || totp.validate({ token: code, window: 1 }) === null) {
      throw new AuthFailure(422, 'mfa_verification_failed', 'Invalid TOTP code entered');
    }
    this.challenges.delete(challenge.id);
    factor.status = 'verified';
    factor.updatedAt = nowIso();
    await this.writeFactor(user, factor, 'update');
    session.aal = 'aal2';
    session.amr = [{ method: 'totp', timestamp: Math.floor(Date.now() / 1000) }, ...session.amr.filter((a) => a.method !== 'totp')];
    // GoTrue issues a new refresh token for the upgraded session and revokes the old ones.
    for (const rt of this.refreshTokens.values()) if (rt.sessionId === session.id && rt.revokedAt === null) rt.revokedAt = Date.now();
    this.ok(req, res, 200, await this.sessionJson(session, this.newRefreshToken(session.id)));
  }

  private async unenrol(req: IncomingMessage, res: ServerResponse, factorId: string): Promise<void> {
    const { user, session } = await this.authenticate(req);
    const factor = this.findFactor(user, factorId);
    if (factor.status === 'verified' && session.aal !== 'aal2') {
      throw new AuthFailure(403, 'insufficient_aal', 'AAL2 required to unenroll verified factor');
    }
    user.factors = user.factors.filter((f) => f.id !== factor.id);
    await this.writeFactor(user, factor, 'delete');
    this.ok(req, res, 200, { id: factor.id });
  }
}
