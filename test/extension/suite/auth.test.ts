import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { TOTP, Secret } from 'otpauth';
import { cairn, ready, recordNotifications, waitFor } from './helpers.js';
import type { CairnApi } from '../../../extension/src/extension.js';

const url = () => process.env.CAIRN_TEST_SUPABASE_URL!;
const anonKey = () => process.env.CAIRN_TEST_SUPABASE_ANON_KEY!;

async function useProject(projectUrl: string, key: string): Promise<void> {
  const c = vscode.workspace.getConfiguration('cairn');
  await c.update('supabase.url', projectUrl, vscode.ConfigurationTarget.Workspace);
  await c.update('supabase.anonKey', key, vscode.ConfigurationTarget.Workspace);
}

function claims(accessToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8'));
}

/**
 * Plays the browser's part of OAuth: follows the provider's redirects (authorize → consent → callback) and
 * returns the editor URI the flow ends at. On the web the redirect is the workbench's /callback route, which
 * carries the editor URI in its `vscode-*` parameters.
 */
async function browserRedirects(startUrl: string): Promise<vscode.Uri> {
  let next = startUrl;
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (!location) throw new Error(`the OAuth flow stopped at ${next} with HTTP ${res.status}`);
    const target = new URL(location, next);
    if (!target.href.startsWith(url())) {
      if (target.searchParams.has('vscode-scheme')) {
        // What the workbench's callback page does: the editor URI's own query plus the params the provider added.
        const p = new URLSearchParams(target.searchParams);
        const uri = { scheme: p.get('vscode-scheme')!, authority: p.get('vscode-authority') ?? '', path: p.get('vscode-path') ?? '' };
        const own = new URLSearchParams(p.get('vscode-query') ?? '');
        for (const k of ['vscode-reqid', 'vscode-scheme', 'vscode-authority', 'vscode-path', 'vscode-query', 'vscode-fragment']) p.delete(k);
        own.forEach((v, k) => p.set(k, v));
        return vscode.Uri.from({ ...uri, query: p.toString() });
      }
      return vscode.Uri.parse(target.href, true);
    }
    next = target.href;
  }
  throw new Error('too many redirects');
}

async function startOAuth(api: CairnApi): Promise<string> {
  const started = await api.auth.signInInteractive({ method: 'github', open: false });
  assert.equal(typeof started, 'string', 'sign-in returned the provider URL');
  return started as string;
}

describe('sign-in (team mode)', function () {
  this.timeout(60_000);
  let notes: ReturnType<typeof recordNotifications>;

  beforeEach(() => {
    notes = recordNotifications();
  });
  afterEach(() => notes.dispose());
  after(async () => {
    const api = await cairn();
    if (api.auth.current) await api.auth.signOut();
    await useProject('', '');
  });

  it('explains a Supabase URL that does not answer', async () => {
    const api = await cairn();
    await useProject('http://127.0.0.1:9', anonKey());
    assert.equal(await api.auth.signInInteractive({ method: 'github', open: false }), null);
    assert.ok(notes.messages.some((m) => /could not reach Supabase at http:\/\/127\.0\.0\.1:9.*cairn\.supabase\.url/.test(m)), notes.messages.join(' | '));
  });

  it('explains an anon key the project refuses', async () => {
    const api = await cairn();
    await useProject(url(), 'not-the-anon-key');
    assert.equal(await api.auth.signInInteractive({ method: 'github', open: false }), null);
    assert.ok(notes.messages.some((m) => /anon key was refused.*cairn\.supabase\.anonKey/.test(m)), notes.messages.join(' | '));
  });

  it('signs in with GitHub through the URI handler (PKCE) and shows the account', async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    const callback = await browserRedirects(await startOAuth(api));
    assert.equal(callback.path, '/auth-callback');
    const callbackText = callback.toString(true);
    await api.auth.handleUri(callback);
    const session = await waitFor(`the session (notifications: ${notes.messages.join(' | ')}; callback ${callbackText})`, () => api.auth.current);
    assert.equal(session.user.email, 'octocat@users.noreply.github.com');
    const accounts = await waitFor('the account', async () => {
      const a = await vscode.authentication.getAccounts('cairn');
      return a.length > 0 ? a : null;
    });
    assert.deepEqual(accounts.map((a) => a.label), ['octocat@users.noreply.github.com'], 'the account shows in the Accounts menu');
    // The daemon now acts as this user against the team project.
    const daemon = await ready(api);
    const status = await waitFor('the daemon to switch to the team project', async () => {
      const s = await daemon.request('auth/status', {});
      return s.store === 'supabase' ? s : null;
    });
    assert.equal(status.user?.email, 'octocat@users.noreply.github.com');
    // Replaying the same link later is refused: the attempt it names is gone.
    await api.auth.handleUri(callback);
    assert.ok(notes.messages.some((m) => /stale or was not started from this window/.test(m)), notes.messages.join(' | '));
    assert.equal(api.auth.current?.access_token, session.access_token, 'the replay did not change the session');
  });

  it('rejects a forged callback and a provider cancellation with clear messages', async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    await api.auth.handleUri(vscode.Uri.parse(`${vscode.env.uriScheme}://cairn-dev.cairn/auth-callback?attempt=forged&code=abc`));
    assert.ok(notes.messages.some((m) => /stale or was not started from this window/.test(m)));
    const started = new URL(await startOAuth(api));
    const redirectTo = new URL(started.searchParams.get('redirect_to')!);
    // The provider sends the user back with an error when they press "Cancel" on its consent page.
    const attemptQuery = redirectTo.searchParams.has('vscode-query') ? redirectTo.searchParams.get('vscode-query')! : redirectTo.search.slice(1);
    const attempt = new URLSearchParams(attemptQuery).get('attempt');
    assert.ok(attempt, `the redirect URL names its attempt (${redirectTo.href})`);
    await api.auth.handleUri(vscode.Uri.parse(`${vscode.env.uriScheme}://cairn-dev.cairn/auth-callback?attempt=${attempt}&error=access_denied&error_description=The+user+denied+access`));
    await waitFor('the cancellation message', () => notes.messages.some((m) => /cancelled or refused by the provider: The user denied access/.test(m)));
  });

  it('keeps overlapping sign-ins apart: the first to finish wins, the other is refused', async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    const first = await startOAuth(api);
    const second = await startOAuth(api);
    const secondCallback = await browserRedirects(second);
    const firstCallback = await browserRedirects(first);
    const callbackText = secondCallback.toString(true);
    await api.auth.handleUri(secondCallback);
    const session = await waitFor(`the session (notifications: ${notes.messages.join(' | ')}; callback ${callbackText})`, () => api.auth.current);
    await api.auth.handleUri(firstCallback);
    assert.ok(notes.messages.some((m) => /stale or was not started|another sign-in finished first/.test(m)), notes.messages.join(' | '));
    assert.equal(api.auth.current?.access_token, session.access_token);
  });

  it('signs up with email and password, enrols TOTP (a wrong code is refused), reaches aal2 and signs out everywhere', async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    const email = `ada${Date.now()}@example.test`;
    const session = await api.auth.signInInteractive({ method: 'signup', email, password: 'correct horse battery' });
    assert.ok(session && typeof session === 'object', 'sign-up returned a session');
    if (typeof session !== 'object') return;
    assert.equal(api.auth.current?.user.email, email);
    assert.equal(claims(api.auth.current!.access_token).aal, 'aal1');

    const enrolment = await api.auth.startMfaEnrolment();
    assert.ok(enrolment, 'TOTP enrolment started');
    assert.match(enrolment.uri, /^otpauth:\/\/totp\//);
    assert.equal(await api.auth.verifyMfa(enrolment.factorId, '000000'), false);
    assert.ok(notes.messages.some((m) => /code was not accepted/.test(m)), notes.messages.join(' | '));
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    assert.equal(await api.auth.verifyMfa(enrolment.factorId, totp.generate()), true);
    assert.equal(claims(api.auth.current!.access_token).aal, 'aal2');

    await api.auth.signOut();
    assert.equal(api.auth.current, null);
    await waitFor('the daemon to return to its local store', async () => (await api.ctx.client!.request('auth/status', {})).store === 'embedded');
    await waitFor('the account to leave the Accounts menu', async () => (await vscode.authentication.getAccounts('cairn')).length === 0);
    // Signed out everywhere: the old refresh token no longer works on the server.
    const refresh = await fetch(`${url()}/auth/v1/token?grant_type=refresh_token`, {
      method: 'POST',
      headers: { apikey: anonKey(), 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    });
    assert.equal(refresh.status, 400);
  });
});
