import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { TOTP, Secret } from 'otpauth';
import { cairn, confirmEmail, leaveTeamProject, ready, recordNotifications, supabaseAnonKey, supabaseUrl, TEST_PASSWORD, useProject, waitFor } from './helpers.js';
import type { CairnApi } from '../../../extension/src/extension.js';
import { explain, SECOND_FACTOR_ACTION } from '../../../extension/src/errors.js';

const url = supabaseUrl;
const anonKey = supabaseAnonKey;

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

/**
 * Answers the extension's input boxes in order, as a person typing (every other prompt shows as usual), and
 * records what they asked and which webview panels opened meanwhile. The suites share the extension's `vscode`
 * API object, so these replacements are what the extension calls. Restore with `restore()`.
 */
function answerInputBoxes(answers: ((o: vscode.InputBoxOptions) => string | undefined)[]) {
  const w = vscode.window as unknown as Record<'showInputBox' | 'createWebviewPanel', (...a: unknown[]) => unknown>;
  const saved = { showInputBox: w.showInputBox, createWebviewPanel: w.createWebviewPanel };
  const asked: vscode.InputBoxOptions[] = [];
  const panels: string[] = [];
  const unanswered: string[] = [];
  w.showInputBox = async (options: unknown) => {
    const o = (options ?? {}) as vscode.InputBoxOptions;
    asked.push(o);
    const next = answers.shift();
    if (!next) unanswered.push(String(o.title ?? o.prompt));
    return next?.(o);
  };
  w.createWebviewPanel = (...a: unknown[]) => {
    panels.push(String(a[1]));
    return saved.createWebviewPanel.apply(vscode.window, a);
  };
  return { asked, panels, unanswered, restore: () => Object.assign(w, saved) };
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
    await leaveTeamProject();
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
    // Email confirmations are on: sign-up says to follow the emailed link, and signs nobody in until then.
    assert.ok(!(await api.auth.signInInteractive({ method: 'signup', email, password: TEST_PASSWORD })), 'no session before the link is followed');
    assert.ok(notes.messages.includes(`Cairn: check ${email} for a confirmation link, then sign in.`), notes.messages.join(' | '));
    await confirmEmail(email);
    const session = await api.auth.signInInteractive({ method: 'email', email, password: TEST_PASSWORD });
    assert.ok(session && typeof session === 'object', 'sign-in after confirming returned a session');
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

  it('confirms a new aal1 sign-in with the code of the factor already set up (a wrong code changes nothing), and the daemon can then manage the team', async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    const stamp = Date.now();
    const email = `bea${stamp}@example.test`;
    const password = TEST_PASSWORD;
    const daemon = await ready(api);
    const actingAs = (store: string, who: string | null) =>
      waitFor(`the daemon to act as ${who ?? 'nobody'} in its ${store} store`, async () => {
        const s = await daemon.request('auth/status', {});
        return s.store === store && (who === null || s.user?.email === who);
      });

    // Bea set up two-factor authentication once and created a team.
    assert.ok(!(await api.auth.signInInteractive({ method: 'signup', email, password })));
    await confirmEmail(email);
    assert.ok(await api.auth.signInInteractive({ method: 'email', email, password }));
    const enrolment = await api.auth.startMfaEnrolment();
    assert.ok(enrolment, 'TOTP enrolment started');
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    assert.equal(await api.auth.verifyMfa(enrolment.factorId, totp.generate()), true);
    await actingAs('supabase', email);
    const team = await daemon.request('teams/create', { name: `Bea's team ${stamp}` });

    // Signed out and in again: this sign-in is aal1, and its daemon may not manage members.
    await api.auth.signOut();
    await actingAs('embedded', null);
    assert.ok(await api.auth.signInInteractive({ method: 'email', email, password }));
    const aal1Token = api.auth.current!.access_token;
    assert.equal(claims(aal1Token).aal, 'aal1');
    await actingAs('supabase', email);
    const invite = () => daemon.request('teams/invite', { teamId: team.id, email: `cal${stamp}@example.test`, role: 'member' });
    const refused = await invite().then(() => null, (err: unknown) => err);
    assert.ok(refused, 'inviting at aal1 is refused');
    // Every caller that explains a daemon error offers the command that fixes it.
    const explained = explain(refused);
    assert.match(explained.message, /^Not allowed until this sign-in is confirmed with a second factor: .*aal2/);
    assert.deepEqual(explained.actions, [SECOND_FACTOR_ACTION]);
    assert.equal(SECOND_FACTOR_ACTION.command, 'cairn.enrollMfa');
    // Setting up another factor is no way out: Supabase Auth refuses it to an aal1 session.
    assert.equal(await api.auth.startMfaEnrolment(), null);
    assert.ok(notes.messages.some((m) => /already have two-factor authentication.*confirmed with it/.test(m)), notes.messages.join(' | '));

    const factorsOnServer = async () => {
      const res = await fetch(`${url()}/auth/v1/user`, { headers: { apikey: anonKey(), authorization: `Bearer ${api.auth.current!.access_token}` } });
      return ((await res.json()) as { factors?: { id: string; status: string }[] }).factors?.map((f) => [f.id, f.status]);
    };
    assert.deepEqual(await factorsOnServer(), [[enrolment.factorId, 'verified']]);

    // A wrong code (none the server would take now) is refused with a retry; giving up there changes nothing.
    const valid = new Set([-30_000, 0, 30_000].map((d) => totp.generate({ timestamp: Date.now() + d })));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
    const first = answerInputBoxes([
      (o) => {
        assert.match(String(o.title), /confirm this sign-in with two-factor authentication/);
        assert.equal(o.password, undefined);
        assert.match(String(o.validateInput?.('12345')), /6 digits/);
        assert.match(String(o.validateInput?.('12a456')), /6 digits/);
        assert.equal(o.validateInput?.(' 123456 '), null);
        return wrong;
      },
      (o) => {
        assert.match(String(o.prompt), /^That code was not accepted\. Enter the current 6-digit code/);
        return undefined;
      },
    ]);
    try {
      assert.equal(await vscode.commands.executeCommand('cairn.enrollMfa'), false);
    } finally {
      first.restore();
    }
    assert.deepEqual([first.asked.length, first.unanswered, first.panels], [2, [], []], 'two code prompts, no enrolment panel');
    assert.ok(notes.messages.some((m) => /code was not accepted \(Invalid TOTP code entered\)/.test(m)), notes.messages.join(' | '));
    assert.equal(api.auth.current?.access_token, aal1Token, 'still the aal1 session');
    assert.deepEqual(await factorsOnServer(), [[enrolment.factorId, 'verified']], 'no factor was added');
    await assert.rejects(invite(), 'the daemon still acts at aal1');

    // The right code: aal2 here and in the daemon, which may now invite.
    const second = answerInputBoxes([() => totp.generate()]);
    try {
      assert.equal(await vscode.commands.executeCommand('cairn.enrollMfa'), true);
    } finally {
      second.restore();
    }
    assert.deepEqual([second.asked.length, second.unanswered, second.panels], [1, [], []]);
    assert.equal(claims(api.auth.current!.access_token).aal, 'aal2');
    assert.ok(notes.messages.some((m) => /this sign-in is confirmed with your second factor \(aal2\)/.test(m)), notes.messages.join(' | '));
    assert.deepEqual(await factorsOnServer(), [[enrolment.factorId, 'verified']], 'the same factor, none added');
    const invitation = await waitFor('the daemon to invite at aal2', () => invite().catch(() => null));
    assert.equal(invitation.role, 'member');
    assert.deepEqual((await daemon.request('teams/invitations', { teamId: team.id })).map((i) => i.email), [`cal${stamp}@example.test`]);

    // Run again at aal2, it has nothing to ask.
    const third = answerInputBoxes([]);
    try {
      assert.equal(await vscode.commands.executeCommand('cairn.enrollMfa'), true);
    } finally {
      third.restore();
    }
    assert.deepEqual([third.asked.length, third.panels], [0, []]);
    assert.ok(notes.messages.some((m) => /already confirmed with your second factor/.test(m)), notes.messages.join(' | '));
  });
});
