/**
 * Team-mode sign-in with Supabase Auth (embedded mode needs none), and the hand-over of the session to the
 * daemon. supabase-js runs here for sign-in only (client.ts, session in SecretStorage); the daemon gets the
 * access token and every refreshed one. OAuth attempts in flight are kept apart by attempts.ts; an exchanged
 * session is installed in the persistent client. Two-factor authentication is mfa.ts.
 */
import * as vscode from 'vscode';
import type { Session, SupabaseClient } from '@supabase/supabase-js';
import type { Ctx } from '../ctx.js';
import { describeError, log } from '../log.js';
import { explain } from '../errors.js';
import { supabaseSettings, type SupabaseSettings } from '../settings.js';
import { MemoryStorage, SecretStorageAdapter } from './storage.js';
import { makeClient, storageKey } from './client.js';
import { SignInAttempts } from './attempts.js';
import { MfaCommands } from './mfa.js';
import { SignInError, checkReachable, friendlyAuthError, usableSettings } from './sign-in-checks.js';

export const CALLBACK_PATH = '/auth-callback';

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
  private readonly attempts = new SignInAttempts<SupabaseClient, SupabaseSettings, Session>();
  private readonly mfa = new MfaCommands({
    signedInClient: () => this.signedInClient(),
    teamClient: () => {
      const settings = supabaseSettings();
      return settings ? this.persistentClient(settings) : null;
    },
    adopt: (session) => this.setSession(session),
    handOver: () => this.handToDaemon(this.session),
  });
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

  /** The command: asks how to sign in, then does it. Returns the provider URL when `open` is false. */
  async signInInteractive(raw?: unknown): Promise<string | Session | null> {
    const opts = (raw && typeof raw === 'object' ? raw : {}) as SignInOptions;
    try {
      const settings = usableSettings(supabaseSettings());
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
    const attemptId = SignInAttempts.newId();
    const client = makeClient(settings, new MemoryStorage(), false);
    const callback = vscode.Uri.parse(`${vscode.env.uriScheme}://${this.ctx.extension.extension.id}${CALLBACK_PATH}`).with({ query: `attempt=${attemptId}` });
    // On the web (code-server, vscode.dev) the editor's own callback route stands in for the URI scheme.
    const redirectTo = (await vscode.env.asExternalUri(callback)).toString(true);
    const { data, error } = await client.auth.signInWithOAuth({ provider, options: { redirectTo, skipBrowserRedirect: true } });
    if (error || !data.url) throw new SignInError(`could not start ${provider} sign-in: ${error?.message ?? 'no URL returned'}`);
    await checkReachable(settings);
    const done = this.attempts.start(attemptId, client, settings);
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
            this.attempts.cancel(attemptId);
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
    const claim = this.attempts.claim(uri.query);
    if (claim.kind === 'unknown') {
      void vscode.window.showErrorMessage('Cairn: this sign-in link is stale or was not started from this window, so it was ignored. Run "Cairn: Sign In" again.');
      log().warn('rejected an auth callback that names no live sign-in attempt');
      return;
    }
    if (claim.kind === 'failed') return;
    const { attempt, code } = claim;
    const { data, error: exchangeError } = await attempt.client.auth.exchangeCodeForSession(code);
    if (exchangeError || !data.session) {
      attempt.reject(new SignInError(`the authorization code was refused: ${exchangeError?.message ?? 'no session returned'}`));
      return;
    }
    this.attempts.supersede();
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

  /** The command `cairn.enrollMfa`: confirms this sign-in with a second factor, or sets one up (mfa.ts). */
  enrollMfa(): Promise<boolean> {
    return this.mfa.enrollMfa();
  }

  /** Starts a TOTP enrolment for the signed-in user; null (after saying why) when it cannot. */
  startMfaEnrolment(): Promise<{ factorId: string; secret: string; uri: string } | null> {
    return this.mfa.startMfaEnrolment();
  }

  /** Verifies a TOTP code for a newly enrolled factor; on success the session is aal2 (and handed to the daemon). */
  verifyMfa(factorId: string, code: string): Promise<boolean> {
    return this.mfa.verifyMfa(factorId, code);
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

  dispose(): void {
    this.authSub?.unsubscribe();
    for (const s of this.subs) s.dispose();
  }
}
