/**
 * Team-mode sign-in with Supabase Auth (embedded mode needs none). supabase-js runs here for sign-in only
 * (flowType pkce, detectSessionInUrl false, session in SecretStorage); the daemon gets the access token.
 *
 * Overlapping OAuth sign-ins: supabase-js keeps one PKCE verifier per storage, so a second attempt would
 * overwrite the first's. Each attempt therefore gets its own client with private in-memory storage and an
 * unguessable `attempt` id in its redirect URL; the callback must name a live attempt, or it is rejected as
 * stale or foreign. The exchanged session is then installed in the persistent client.
 */
import * as vscode from 'vscode';
import { createHash, randomBytes } from 'node:crypto';
import { createClient, type Factor, type Session, type SupabaseClient } from '@supabase/supabase-js';
import type { Ctx } from '../ctx.js';
import { describeError, log } from '../log.js';
import { explain } from '../errors.js';
import { supabaseSettings, type SupabaseSettings } from '../settings.js';
import { MemoryStorage, SecretStorageAdapter } from './storage.js';
import { showMfaEnrolment } from './mfa.js';

export const CALLBACK_PATH = '/auth-callback';
const ATTEMPT_TTL_MS = 10 * 60_000;

export class SignInError extends Error {
  /** True when nothing is wrong: no team project is configured, so there is nothing to sign in to. */
  constructor(
    message: string,
    readonly information = false,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

interface Attempt {
  client: SupabaseClient;
  settings: SupabaseSettings;
  createdAt: number;
  resolve(session: Session): void;
  reject(err: Error): void;
}

export interface SignInOptions {
  method?: 'github' | 'google' | 'email' | 'signup';
  email?: string;
  password?: string;
  /** false: return the provider URL instead of opening a browser (automation). */
  open?: boolean;
}

export class AuthService implements vscode.Disposable {
  private client: SupabaseClient | null = null;
  private clientFor: string | null = null;
  private session: Session | null = null;
  private readonly attempts = new Map<string, Attempt>();
  private readonly changed = new vscode.EventEmitter<Session | null>();
  private readonly subs: vscode.Disposable[] = [];
  private authSub: { unsubscribe(): void } | null = null;

  readonly onDidChangeSession = this.changed.event;
  /** Who the daemon acts as after a hand-over (null: its local store). */
  daemonUser: string | null = null;
  private readonly daemonChanged = new vscode.EventEmitter<void>();
  /** Fires when the daemon switched user or store because of a sign-in or sign-out. */
  readonly onDidChangeDaemonUser = this.daemonChanged.event;

  constructor(private readonly ctx: Ctx) {
    this.subs.push(
      this.changed,
      this.daemonChanged,
      ctx.onNotification('auth/tokenExpired', () => void this.onTokenExpired()),
      ctx.extension.secrets.onDidChange((e) => {
        // Another window signed in, refreshed or signed out: reload from the shared keychain.
        if (this.clientFor && e.key === storageKey(this.clientFor)) void this.reload();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('cairn.supabase') && void this.reload()),
      ctx.onDidConnect(() => void this.handToDaemon(this.session)),
    );
    void ctx.subscribe('auth');
  }

  get current(): Session | null {
    return this.session;
  }

  /** Loads the stored session (if any) for the configured project. */
  async reload(): Promise<void> {
    const settings = supabaseSettings();
    if (!settings) {
      this.setSession(null);
      return;
    }
    let client: SupabaseClient;
    try {
      client = this.persistentClient(settings);
    } catch (err) {
      log().warn(`Supabase settings are not usable: ${describeError(err)}`);
      this.setSession(null);
      return;
    }
    const { data } = await client.auth.getSession();
    this.setSession(data.session);
  }

  private persistentClient(settings: SupabaseSettings): SupabaseClient {
    const id = `${settings.url}|${settings.anonKey}`;
    if (this.client && this.clientFor === settings.url && this.clientId === id) return this.client;
    this.authSub?.unsubscribe();
    const client = makeClient(settings, new SecretStorageAdapter(this.ctx.extension.secrets), true);
    this.client = client;
    this.clientFor = settings.url;
    this.clientId = id;
    const { data } = client.auth.onAuthStateChange((event, session) => {
      // Refreshed tokens go to the daemon too, or its calls would start failing an hour in.
      if (event === 'SIGNED_IN' || event === 'TOKEN_REFRESHED' || event === 'SIGNED_OUT' || event === 'USER_UPDATED' || event === 'MFA_CHALLENGE_VERIFIED') {
        this.setSession(session);
      }
    });
    this.authSub = data.subscription;
    return client;
  }
  private clientId: string | null = null;

  private setSession(session: Session | null): void {
    const before = this.session?.access_token ?? null;
    this.session = session;
    if ((session?.access_token ?? null) === before) return;
    this.changed.fire(session);
    void this.handToDaemon(session);
  }

  /**
   * Hands the session (and every refreshed token) to the daemon, which then acts as this user against the team
   * project; signing out switches it back to its local store.
   */
  private async handToDaemon(session: Session | null): Promise<void> {
    const client = this.ctx.client;
    if (!client) return;
    const settings = supabaseSettings();
    try {
      if (session && settings) {
        const r = await client.request('auth/setSession', {
          supabaseUrl: settings.url,
          anonKey: settings.anonKey,
          accessToken: session.access_token,
          refreshToken: session.refresh_token,
          expiresAt: session.expires_at ?? null,
        });
        this.daemonUser = r.user.email ?? r.user.id;
        this.daemonChanged.fire();
      } else if (!session && this.daemonUser !== null) {
        await client.request('auth/signOut', {});
        this.daemonUser = null;
        this.daemonChanged.fire();
      }
    } catch (err) {
      const e = explain(err);
      log().warn(`handing the session to the daemon failed: ${describeError(err)}`);
      void vscode.window.showWarningMessage(`Cairn: signed in, but the daemon could not switch to the team project: ${e.message}`, ...e.actions.map((a) => a.label)).then((picked) => {
        const a = e.actions.find((x) => x.label === picked);
        if (a) void vscode.commands.executeCommand(a.command, ...(a.args ?? []));
      });
    }
  }

  /** The daemon asks for a fresh token (its copy expired): refresh once and hand it over. */
  private async onTokenExpired(): Promise<void> {
    const settings = supabaseSettings();
    if (!settings || !this.session) return;
    const { data, error } = await this.persistentClient(settings).auth.refreshSession();
    if (error || !data.session) {
      log().warn(`refreshing the session for the daemon failed: ${error?.message ?? 'no session'}`);
      return;
    }
    // onAuthStateChange(TOKEN_REFRESHED) hands it over; this covers a refresh that did not change the token.
    if (data.session.access_token === this.session?.access_token) await this.handToDaemon(data.session);
  }

  private requireSettings(): SupabaseSettings {
    const s = supabaseSettings();
    if (!s) {
      throw new SignInError('Cairn: no sign-in is needed in embedded mode (your data stays on this machine). For team mode, set cairn.supabase.url and cairn.supabase.anonKey, then sign in.', true);
    }
    if (!/^https?:\/\/[^/\s]+/i.test(s.url)) throw new SignInError(`cairn.supabase.url is not a URL: “${s.url}”. It looks like https://<project>.supabase.co.`);
    if (!s.anonKey) throw new SignInError('cairn.supabase.anonKey is empty. Copy the anon (publishable) key from your Supabase project settings.');
    return s;
  }

  /** The command: asks how to sign in, then does it. Returns the provider URL when `open` is false. */
  async signInInteractive(raw?: unknown): Promise<string | Session | null> {
    const opts = (raw && typeof raw === 'object' ? raw : {}) as SignInOptions;
    try {
      const settings = this.requireSettings();
      let method = opts.method;
      if (!method) {
        const picked = await vscode.window.showQuickPick(
          [
            { label: '$(github) Continue with GitHub', method: 'github' as const },
            { label: '$(globe) Continue with Google', method: 'google' as const },
            { label: '$(mail) Sign in with email and password', method: 'email' as const },
            { label: '$(person-add) Create an account with email', method: 'signup' as const },
          ],
          { title: 'Sign in to Cairn', placeHolder: settings.url },
        );
        if (!picked) return null;
        method = picked.method;
      }
      if (method === 'github' || method === 'google') return await this.signInWithOAuth(settings, method, opts.open !== false);
      return await this.signInWithPassword(settings, method === 'signup', opts);
    } catch (err) {
      const message = err instanceof SignInError ? err.message : `Sign-in failed: ${describeError(err)}`;
      const text = message.startsWith('Cairn: ') ? message : `Cairn: ${message}`;
      // Not awaited: the command ends now; the notification stays until the user acts on it. Embedded mode is
      // not an error: there is nothing to sign in to.
      const shown = err instanceof SignInError && err.information ? vscode.window.showInformationMessage(text, 'Open Settings') : vscode.window.showErrorMessage(text, 'Open Settings');
      void shown.then((action) => {
        if (action) void vscode.commands.executeCommand('workbench.action.openSettings', 'cairn.supabase');
      });
      return null;
    }
  }

  private async signInWithOAuth(settings: SupabaseSettings, provider: 'github' | 'google', open: boolean): Promise<string | Session | null> {
    this.expireAttempts();
    const attemptId = randomBytes(16).toString('base64url');
    const client = makeClient(settings, new MemoryStorage(), false);
    const callback = vscode.Uri.parse(`${vscode.env.uriScheme}://${this.ctx.extension.extension.id}${CALLBACK_PATH}`).with({ query: `attempt=${attemptId}` });
    // On the web (code-server, vscode.dev) the editor's own callback route stands in for the URI scheme.
    const redirectTo = (await vscode.env.asExternalUri(callback)).toString(true);
    const { data, error } = await client.auth.signInWithOAuth({ provider, options: { redirectTo, skipBrowserRedirect: true } });
    if (error || !data.url) throw new SignInError(`could not start ${provider} sign-in: ${error?.message ?? 'no URL returned'}`);
    await checkReachable(settings, data.url);
    const done = new Promise<Session>((resolve, reject) => {
      this.attempts.set(attemptId, { client, settings, createdAt: Date.now(), resolve, reject });
    });
    done.then(
      (s) => void vscode.window.showInformationMessage(`Cairn: signed in as ${s.user.email ?? s.user.id}.`),
      (err: Error) => void vscode.window.showErrorMessage(`Cairn: ${err.message}`),
    );
    if (!open) return data.url;
    // The URL goes to openExternal as the exact string: a Uri round trip decodes redirect_to's query
    // (`?`, `&`) and re-encodes it differently, which breaks the provider redirect.
    const opened = await vscode.env.openExternal(data.url as unknown as vscode.Uri);
    if (!opened) throw new SignInError('the browser did not open; sign-in was not started.');
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Cairn: finish signing in with ${provider} in your browser…`, cancellable: true },
      (_p, token) =>
        new Promise<Session | null>((resolve) => {
          token.onCancellationRequested(() => {
            this.attempts.delete(attemptId);
            resolve(null);
          });
          done.then(resolve, () => resolve(null));
        }),
    );
  }

  /** The URI handler: `<scheme>://cairn-dev.cairn/auth-callback?attempt=…&code=…` (or `error=…`). */
  async handleUri(uri: vscode.Uri): Promise<void> {
    if (uri.path !== CALLBACK_PATH) {
      void vscode.window.showWarningMessage(`Cairn: ignored an unknown link (${uri.path}).`);
      return;
    }
    const q = new URLSearchParams(uri.query);
    const attemptId = q.get('attempt') ?? '';
    const attempt = this.attempts.get(attemptId);
    if (!attempt) {
      void vscode.window.showErrorMessage('Cairn: this sign-in link is stale or was not started from this window, so it was ignored. Run "Cairn: Sign In" again.');
      log().warn('rejected an auth callback that names no live sign-in attempt');
      return;
    }
    this.attempts.delete(attemptId);
    if (Date.now() - attempt.createdAt > ATTEMPT_TTL_MS) {
      attempt.reject(new SignInError('this sign-in link expired. Run "Cairn: Sign In" again.'));
      return;
    }
    const error = q.get('error_description') ?? q.get('error');
    if (error) {
      attempt.reject(new SignInError(`sign-in was cancelled or refused by the provider: ${error}`));
      return;
    }
    const code = q.get('code');
    if (!code) {
      attempt.reject(new SignInError('the sign-in link carries no authorization code.'));
      return;
    }
    const { data, error: exchangeError } = await attempt.client.auth.exchangeCodeForSession(code);
    if (exchangeError || !data.session) {
      attempt.reject(new SignInError(`the authorization code was refused: ${exchangeError?.message ?? 'no session returned'}`));
      return;
    }
    // Every other attempt is now stale: a late callback for one of them must not replace this session.
    for (const other of this.attempts.values()) other.reject(new SignInError('another sign-in finished first; this one was discarded.'));
    this.attempts.clear();
    await this.install(attempt.settings, data.session);
    attempt.resolve(data.session);
  }

  private async install(settings: SupabaseSettings, session: Session): Promise<void> {
    const client = this.persistentClient(settings);
    const { data, error } = await client.auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token });
    if (error || !data.session) throw new SignInError(`could not keep the session: ${error?.message ?? 'unknown error'}`);
    this.setSession(data.session);
  }

  private async signInWithPassword(settings: SupabaseSettings, signUp: boolean, opts: SignInOptions): Promise<Session | null> {
    const email =
      opts.email ??
      (await vscode.window.showInputBox({
        title: signUp ? 'Create a Cairn account' : 'Sign in to Cairn',
        prompt: 'Email',
        ignoreFocusOut: true,
        validateInput: (v) => (/^[^@\s]+@[^@\s]+$/.test(v.trim()) ? null : 'Enter an email address.'),
      }));
    if (!email) return null;
    const password =
      opts.password ??
      (await vscode.window.showInputBox({
        title: signUp ? 'Create a Cairn account' : 'Sign in to Cairn',
        prompt: signUp ? 'Choose a password (at least 6 characters)' : 'Password',
        password: true,
        ignoreFocusOut: true,
      }));
    if (!password) return null;
    const client = this.persistentClient(settings);
    const { data, error } = signUp
      ? await client.auth.signUp({ email: email.trim(), password })
      : await client.auth.signInWithPassword({ email: email.trim(), password });
    if (error) throw new SignInError(friendlyAuthError(settings, error));
    if (!data.session) {
      void vscode.window.showInformationMessage(`Cairn: check ${email} for a confirmation link, then sign in.`);
      return null;
    }
    this.setSession(data.session);
    void vscode.window.showInformationMessage(`Cairn: signed in as ${data.session.user.email ?? email}.`);
    return data.session;
  }

  /** Signs out of every device (`scope: global`), then forgets the local session. */
  async signOut(): Promise<void> {
    const settings = supabaseSettings();
    if (!settings || !this.session) {
      void vscode.window.showInformationMessage(settings ? 'Cairn: you are not signed in.' : 'Cairn: embedded mode has no account to sign out of.');
      return;
    }
    const client = this.persistentClient(settings);
    const { error } = await client.auth.signOut({ scope: 'global' });
    if (error) {
      // The server could not be told (offline, token already revoked); forget the session here regardless.
      log().warn(`global sign-out failed: ${error.message}`);
      await client.auth.signOut({ scope: 'local' });
    }
    this.setSession(null);
    void vscode.window.showInformationMessage('Cairn: signed out everywhere.');
  }

  /**
   * The command (`cairn.enrollMfa`, "Verify or Set Up Two-Factor Authentication"). With a verified TOTP factor,
   * its 6-digit code confirms this sign-in (aal1 → aal2): a new sign-in is aal1, and Supabase Auth refuses a new
   * factor to an aal1 session once one is verified, so this is the only way back to aal2. Without one, it sets
   * one up (QR code and secret in a panel, then its code). Either way the aal2 session goes to the daemon.
   */
  async enrollMfa(): Promise<boolean> {
    const client = this.signedInClient();
    if (!client) return false;
    const factors = await client.auth.mfa.listFactors();
    if (factors.error) {
      void vscode.window.showErrorMessage(`Cairn: could not read your two-factor authentication settings: ${factors.error.message}`);
      return false;
    }
    // listFactors puts only verified factors under `totp`.
    const verified = factors.data.totp;
    if (verified.length === 0) return this.setUpTotp();
    const level = await client.auth.mfa.getAuthenticatorAssuranceLevel();
    if (level.data?.currentLevel === 'aal2') {
      // Nothing to confirm; handing the session over again repairs a daemon that missed it.
      await this.handToDaemon(this.session);
      void vscode.window.showInformationMessage('Cairn: this sign-in is already confirmed with your second factor (aal2).');
      return true;
    }
    const factor = await pickFactor(verified);
    return factor ? this.stepUp(factor) : false;
  }

  /** Asks for the code of a verified factor until one is accepted (or the user gives up); true at aal2. */
  private async stepUp(factor: Factor): Promise<boolean> {
    const app = factor.friendly_name ? ` (${factor.friendly_name})` : '';
    let prompt = `Enter the 6-digit code your authenticator app${app} shows for Cairn`;
    for (let tries = 0; tries < 5; tries++) {
      const code = await vscode.window.showInputBox({
        title: 'Cairn: confirm this sign-in with two-factor authentication',
        prompt,
        ignoreFocusOut: true,
        validateInput: validateTotpCode,
      });
      if (!code) return false;
      if (await this.confirmFactor(factor.id, code)) {
        void vscode.window.showInformationMessage('Cairn: this sign-in is confirmed with your second factor (aal2); team management is open to it.');
        return true;
      }
      prompt = `That code was not accepted. Enter the current 6-digit code from your authenticator app${app} (if it keeps failing, check the time on this device).`;
    }
    return false;
  }

  /** A new TOTP factor: the QR code and secret in a panel, then the 6-digit code (reaching aal2). */
  private async setUpTotp(): Promise<boolean> {
    const enrolment = await this.startMfaEnrolment();
    if (!enrolment) return false;
    const panel = await showMfaEnrolment(enrolment.uri, enrolment.secret);
    try {
      for (let tries = 0; tries < 5; tries++) {
        const code = await vscode.window.showInputBox({
          title: 'Cairn: two-factor authentication',
          prompt: 'Enter the 6-digit code your authenticator app shows for Cairn',
          ignoreFocusOut: true,
          validateInput: validateTotpCode,
        });
        if (!code) return false;
        if (await this.verifyMfa(enrolment.factorId, code)) return true;
      }
      return false;
    } finally {
      panel.dispose();
    }
  }

  /** The persistent client when signed in to team mode; null (after saying why) otherwise. */
  private signedInClient(): SupabaseClient | null {
    const settings = supabaseSettings();
    if (!settings || !this.session) {
      void vscode.window.showInformationMessage('Cairn: sign in to team mode first; two-factor authentication protects team accounts.');
      return null;
    }
    return this.persistentClient(settings);
  }

  /** Starts a TOTP enrolment for the signed-in user; null (after saying why) when it cannot. */
  async startMfaEnrolment(): Promise<{ factorId: string; secret: string; uri: string } | null> {
    const client = this.signedInClient();
    if (!client) return null;
    // Friendly names must be unique per user (Supabase checks that before anything else); to the millisecond, two set-ups never clash.
    const { data, error } = await client.auth.mfa.enroll({ factorType: 'totp', friendlyName: `Cairn ${new Date().toISOString().slice(0, 23)}` });
    if (error || !data) {
      const message =
        error?.code === 'insufficient_aal'
          ? 'you already have two-factor authentication, and a new authenticator can only be added once this sign-in is confirmed with it. Run "Cairn: Verify or Set Up Two-Factor Authentication" and enter its code first.'
          : `could not start two-factor set-up: ${error?.message ?? 'no answer'}`;
      void vscode.window.showErrorMessage(`Cairn: ${message}`);
      return null;
    }
    return { factorId: data.id, secret: data.totp.secret, uri: data.totp.uri };
  }

  /** Verifies a TOTP code for a newly enrolled factor; on success the session is aal2 (and handed to the daemon). */
  async verifyMfa(factorId: string, code: string): Promise<boolean> {
    if (!(await this.confirmFactor(factorId, code))) return false;
    void vscode.window.showInformationMessage('Cairn: two-factor authentication is on; this session is now at aal2.');
    return true;
  }

  /** Challenges a factor and verifies its code; the aal2 session replaces this one and goes to the daemon. */
  private async confirmFactor(factorId: string, code: string): Promise<boolean> {
    const settings = supabaseSettings();
    if (!settings) return false;
    const client = this.persistentClient(settings);
    const verified = await client.auth.mfa.challengeAndVerify({ factorId, code: code.trim() });
    if (verified.error) {
      void vscode.window.showWarningMessage(`Cairn: that code was not accepted (${verified.error.message}). Check the time on your device and enter the current code.`);
      return false;
    }
    const { data } = await client.auth.getSession();
    this.setSession(data.session);
    return true;
  }

  private expireAttempts(): void {
    for (const [id, a] of this.attempts) {
      if (Date.now() - a.createdAt > ATTEMPT_TTL_MS) {
        a.reject(new SignInError('sign-in timed out.'));
        this.attempts.delete(id);
      }
    }
  }

  dispose(): void {
    this.authSub?.unsubscribe();
    for (const s of this.subs) s.dispose();
  }
}

function validateTotpCode(value: string): string | null {
  return /^\d{6}$/.test(value.trim()) ? null : 'The code is 6 digits.';
}

/** The verified factor whose code to ask for: the only one, or the user's pick. */
async function pickFactor(factors: Factor[]): Promise<Factor | undefined> {
  if (factors.length === 1) return factors[0];
  const picked = await vscode.window.showQuickPick(
    factors.map((f) => ({ label: f.friendly_name || 'Authenticator app', description: `added ${new Date(f.created_at).toLocaleDateString()}`, factor: f })),
    { title: 'Cairn: confirm this sign-in with two-factor authentication', placeHolder: 'Which authenticator app will you take the code from?' },
  );
  return picked?.factor;
}

function storageKey(url: string): string {
  return `cairn.supabase.${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

function makeClient(settings: SupabaseSettings, storage: SecretStorageAdapter | MemoryStorage, persist: boolean): SupabaseClient {
  return createClient(settings.url, settings.anonKey, {
    auth: {
      flowType: 'pkce',
      detectSessionInUrl: false,
      persistSession: true,
      autoRefreshToken: persist,
      storage,
      storageKey: storageKey(settings.url),
    },
  });
}

/** Turns a wrong URL or key into a message that names the setting to fix. */
function friendlyAuthError(settings: SupabaseSettings, error: { message: string; status?: number; name?: string }): string {
  if (error.name === 'AuthRetryableFetchError' || error.status === 0 || /fetch failed|ECONNREFUSED|ENOTFOUND/i.test(error.message)) {
    return `could not reach Supabase at ${settings.url}. Check cairn.supabase.url and your network.`;
  }
  if (error.status === 401 && /api key|apikey|jwt/i.test(error.message)) {
    return `the anon key was refused by ${settings.url}. Check cairn.supabase.anonKey.`;
  }
  return error.message;
}

/** Fails fast with a clear message when the project URL does not answer or rejects the key. */
async function checkReachable(settings: SupabaseSettings, _authorizeUrl: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${settings.url.replace(/\/+$/, '')}/auth/v1/settings`, { headers: { apikey: settings.anonKey }, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new SignInError(`could not reach Supabase at ${settings.url}. Check cairn.supabase.url and your network.`);
  }
  if (res.status === 401 || res.status === 403) throw new SignInError(`the anon key was refused by ${settings.url}. Check cairn.supabase.anonKey.`);
  if (!res.ok) throw new SignInError(`${settings.url} does not look like a Supabase project (HTTP ${res.status} from /auth/v1/settings). Check cairn.supabase.url.`);
}
