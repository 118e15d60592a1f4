/**
 * The Supabase Auth test server, exercised through the real `@supabase/auth-js` (inside supabase-js) the way
 * the extension signs in: email/password, refresh-token rotation and reuse detection, TOTP MFA to aal2 (and
 * no new factor from an aal1 sign-in once one is verified), OAuth with PKCE through the authorize redirect, sign-out scopes, and the error bodies auth-js parses.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthApiError, AuthWeakPasswordError, createClient, isAuthApiError } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { adminClient, confirmEmail, realtimeTransport, signInClient, signUp, startProject, totpCode, type Project } from './harness.js';

const CALLBACK = 'vscode://cairn-dev.cairn/auth-callback';

/** Follows the browser part of an OAuth sign-in (authorize → provider consent → callback) to the app's URI. */
async function followToApp(url: string): Promise<URL> {
  let next = url;
  for (let hops = 0; hops < 5; hops++) {
    if (next.startsWith(CALLBACK)) return new URL(next);
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    assert.equal(res.status, 302, `hop ${hops} to ${next} should redirect`);
    assert.ok(location);
    next = location;
  }
  throw new Error('too many redirects');
}

describe('Supabase Auth test server (through @supabase/supabase-js)', function () {
  this.timeout(60_000);
  let project: Project;

  before(async () => {
    project = await startProject({
      refreshTokenReuseIntervalSeconds: 0,
      siteUrl: 'https://cairn.example/welcome',
      redirectAllowList: ['vscode://cairn-dev.cairn/', 'vscode-insiders://cairn-dev.cairn/'],
    });
  });
  after(async () => project?.close());

  it('signs up without a session until the emailed link is followed, then with a JWT carrying the claims RLS reads', async () => {
    const client = signInClient(project);
    const { data, error } = await client.auth.signUp({ email: 'Dana@Example.test', password: 'correct horse' });
    assert.equal(error, null);
    assert.equal(data.session, null, 'email confirmations are on: no session before the link is followed');
    assert.equal(data.user?.email_confirmed_at, undefined);
    const early = await signInClient(project).auth.signInWithPassword({ email: 'dana@example.test', password: 'correct horse' });
    assert.ok(early.error instanceof AuthApiError);
    assert.equal(early.error.code, 'email_not_confirmed');
    const unconfirmed = await project.tdb!.admin<{ email_confirmed_at: string | null }>('select email_confirmed_at from auth.users where id = $1', [data.user!.id]);
    assert.equal(unconfirmed[0]?.email_confirmed_at, null, 'the database knows the address is not confirmed');
    // The email's link carries a token hash; following it confirms the address and signs in.
    const mail = project.servers!.auth.mail.find((m) => m.to === 'dana@example.test');
    assert.ok(mail, 'a confirmation email was sent');
    const verified = await client.auth.verifyOtp({ token_hash: mail.tokenHash, type: 'signup' });
    assert.equal(verified.error, null);
    const claims = decodeJwt(verified.data.session!.access_token);
    assert.equal(claims.sub, data.user!.id);
    assert.equal(claims.role, 'authenticated');
    assert.equal(claims.aud, 'authenticated');
    assert.equal(claims.email, 'dana@example.test');
    assert.equal(claims.aal, 'aal1');
    assert.equal(typeof claims.session_id, 'string');
    assert.ok((claims.exp as number) > Date.now() / 1000);
    const rows = await project.tdb!.admin<{ id: string; email_confirmed_at: string | null }>(
      'select p.id, u.email_confirmed_at from public.profiles p join auth.users u on u.id = p.id where p.id = $1',
      [data.user!.id],
    );
    assert.equal(rows.length, 1, 'the profile trigger ran on the auth.users insert');
    assert.ok(rows[0]!.email_confirmed_at, 'and the address is confirmed now');
    const me = await client.auth.getUser();
    assert.equal(me.data.user?.email, 'dana@example.test');
    const again = await signInClient(project).auth.verifyOtp({ token_hash: mail.tokenHash, type: 'signup' });
    assert.equal(again.error?.code, 'otp_expired', 'a link works once');
  });

  it('answers a sign-up with a taken address like a new one (no account oracle), and refuses a weak or wrong password', async () => {
    const client = signInClient(project);
    const first = await client.auth.signUp({ email: 'erin@example.test', password: 'long enough' });
    await confirmEmail(project, first.data.user!.id);
    const dup = await signInClient(project).auth.signUp({ email: 'erin@example.test', password: 'other password' });
    const fresh = await signInClient(project).auth.signUp({ email: 'erin2@example.test', password: 'other password' });
    assert.equal(dup.error, null, 'no "already registered" for a taken address');
    assert.equal(dup.data.session, null);
    assert.notEqual(dup.data.user?.id, first.data.user!.id, 'a made-up user, not the real one');
    assert.equal(fresh.data.session, null);
    assert.equal(dup.data.user?.email, 'erin@example.test');
    const stillMine = await signInClient(project).auth.signInWithPassword({ email: 'erin@example.test', password: 'long enough' });
    assert.equal(stillMine.error, null, 'the taken account is untouched');
    const weak = await signInClient(project).auth.signUp({ email: 'fred@example.test', password: '123' });
    assert.ok(weak.error instanceof AuthWeakPasswordError);
    assert.deepEqual(weak.error.reasons, ['length']);
    const wrong = await signInClient(project).auth.signInWithPassword({ email: 'erin@example.test', password: 'not it' });
    assert.ok(wrong.error instanceof AuthApiError);
    assert.equal(wrong.error.code, 'invalid_credentials');
    assert.equal(wrong.error.message, 'Invalid login credentials');
  });

  it('keeps the admin API to the service-role key: confirm and delete users there, never with the anon key or a user token', async () => {
    const person = await signUp(project, 'adminee');
    const asUser = createClient(project.url, project.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false },
      global: { headers: { Authorization: `Bearer ${person.session().accessToken}` } },
      realtime: { transport: realtimeTransport },
    });
    const refused = await asUser.auth.admin.deleteUser(person.id);
    assert.equal(refused.error?.status, 403);
    const admin = adminClient(project);
    const created = await admin.auth.admin.createUser({ email: 'made@example.test', password: 'made by admin', email_confirm: true });
    assert.ok(created.data.user?.email_confirmed_at, 'created confirmed');
    const signedIn = await signInClient(project).auth.signInWithPassword({ email: 'made@example.test', password: 'made by admin' });
    assert.equal(signedIn.error, null);
    const gone = await admin.auth.admin.deleteUser(created.data.user!.id);
    assert.equal(gone.error, null);
    assert.equal(await project.tdb!.count('profiles', 'id = $1', [created.data.user!.id]), 0, 'the auth.users row and its profile are gone');
    const after = await signInClient(project).auth.signInWithPassword({ email: 'made@example.test', password: 'made by admin' });
    assert.equal(after.error?.code, 'invalid_credentials');
  });

  it('rotates refresh tokens and revokes the session when a rotated token is reused', async () => {
    const person = await signUp(project, 'gina');
    const first = person.session().refreshToken!;
    const { data, error } = await person.auth.auth.refreshSession();
    assert.equal(error, null);
    const second = data.session!.refresh_token;
    assert.notEqual(second, first);
    assert.notEqual(data.session!.access_token, undefined);

    const thief = signInClient(project);
    const reuse = await thief.auth.refreshSession({ refresh_token: first });
    assert.ok(isAuthApiError(reuse.error));
    assert.equal(reuse.error.code, 'refresh_token_already_used');
    // Reuse is treated as theft: the legitimate, newest token died with the session too.
    const after = await signInClient(project).auth.refreshSession({ refresh_token: second });
    assert.ok(isAuthApiError(after.error));
    assert.equal(after.error.code, 'refresh_token_not_found');
  });

  it('enrols TOTP, refuses a wrong code and verifies a right one to an aal2 session', async () => {
    const person = await signUp(project, 'hana');
    const enrolled = await person.auth.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'phone' });
    assert.equal(enrolled.error, null);
    const totp = enrolled.data!.totp;
    assert.match(totp.qr_code, /^data:image\/svg\+xml;utf-8,<svg/);
    assert.match(totp.uri, /^otpauth:\/\/totp\//);
    assert.match(totp.secret, /^[A-Z2-7]+=*$/);

    const challenge = await person.auth.auth.mfa.challenge({ factorId: enrolled.data!.id });
    assert.equal(challenge.error, null);
    const bad = await person.auth.auth.mfa.verify({ factorId: enrolled.data!.id, challengeId: challenge.data!.id, code: '000000' });
    assert.ok(isAuthApiError(bad.error));
    assert.equal(bad.error.code, 'mfa_verification_failed');

    const good = await person.auth.auth.mfa.challengeAndVerify({ factorId: enrolled.data!.id, code: totpCode(totp.secret) });
    assert.equal(good.error, null);
    const claims = decodeJwt(good.data!.access_token);
    assert.equal(claims.aal, 'aal2');
    assert.equal((claims.amr as { method: string }[])[0]!.method, 'totp');
    const level = await person.auth.auth.mfa.getAuthenticatorAssuranceLevel();
    assert.equal(level.data?.currentLevel, 'aal2');
    const factors = await person.auth.auth.mfa.listFactors();
    assert.equal(factors.data?.totp[0]?.status, 'verified');
  });

  it('refuses a new factor from an aal1 sign-in once one is verified (403 insufficient_aal), and enrols it after a step-up to aal2', async () => {
    const person = await signUp(project, 'kira');
    const { data: phone } = await person.auth.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'phone' });
    await person.auth.auth.mfa.challengeAndVerify({ factorId: phone!.id, code: totpCode(phone!.totp.secret) });

    // A new sign-in (another device, or the same one after signing out) is aal1.
    const laptop = signInClient(project);
    await laptop.auth.signInWithPassword({ email: person.email, password: person.password });
    assert.equal((await laptop.auth.mfa.getAuthenticatorAssuranceLevel()).data?.currentLevel, 'aal1');
    const refused = await laptop.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'laptop' });
    assert.ok(isAuthApiError(refused.error));
    assert.deepEqual([refused.error.status, refused.error.code, refused.error.message], [403, 'insufficient_aal', 'AAL2 required to enroll a new factor']);
    assert.equal(refused.data, null);
    // As in GoTrue, a clashing friendly name is reported first.
    const clash = await laptop.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'phone' });
    assert.equal((clash.error as AuthApiError | null)?.code, 'mfa_factor_name_conflict');
    const listed = await laptop.auth.mfa.listFactors();
    assert.deepEqual(listed.data?.all.map((f) => [f.friendly_name, f.status]), [['phone', 'verified']], 'nothing was enrolled');

    // The way back to aal2 is the factor the user already has; then a new one may be added.
    const stepUp = await laptop.auth.mfa.challengeAndVerify({ factorId: phone!.id, code: totpCode(phone!.totp.secret) });
    assert.equal(stepUp.error, null);
    assert.equal(decodeJwt(stepUp.data!.access_token).aal, 'aal2');
    const added = await laptop.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'laptop' });
    assert.equal(added.error, null);
    assert.match(added.data!.totp.secret, /^[A-Z2-7]+=*$/);
    assert.deepEqual((await laptop.auth.mfa.listFactors()).data?.all.map((f) => [f.friendly_name, f.status]), [['phone', 'verified'], ['laptop', 'unverified']]);
  });

  it('updates the user, and unenrols a verified factor only at aal2', async () => {
    const person = await signUp(project, 'jade');
    const updated = await person.auth.auth.updateUser({ data: { full_name: 'Jade J' } });
    assert.equal(updated.error, null);
    assert.equal(updated.data.user?.user_metadata.full_name, 'Jade J');
    const { data: factor } = await person.auth.auth.mfa.enroll({ factorType: 'totp' });
    await person.auth.auth.mfa.challengeAndVerify({ factorId: factor!.id, code: totpCode(factor!.totp.secret) });
    // A fresh aal1 sign-in on another device may not remove the factor.
    const phone = signInClient(project);
    await phone.auth.signInWithPassword({ email: person.email, password: person.password });
    const refused = await phone.auth.mfa.unenroll({ factorId: factor!.id });
    assert.equal((refused.error as AuthApiError | null)?.code, 'insufficient_aal');
    const removed = await person.auth.auth.mfa.unenroll({ factorId: factor!.id });
    assert.equal(removed.error, null);
    assert.equal((await person.auth.auth.mfa.listFactors()).data?.totp.length, 0);
  });

  it('signs in with GitHub through the PKCE authorize redirect and code exchange', async () => {
    const client = signInClient(project);
    const { data, error } = await client.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: CALLBACK, skipBrowserRedirect: true } });
    assert.equal(error, null);
    const authorize = new URL(data.url!);
    assert.equal(authorize.pathname, '/auth/v1/authorize');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 's256');
    const back = await followToApp(data.url!);
    const code = back.searchParams.get('code')!;
    assert.ok(code);

    // A forged code and a code exchanged by a client that did not start the flow are refused.
    const forged = await client.auth.exchangeCodeForSession('00000000-0000-4000-8000-000000000000');
    assert.equal((forged.error as AuthApiError | null)?.code, 'flow_state_not_found');
    const other = signInClient(project);
    await other.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: CALLBACK, skipBrowserRedirect: true } });
    const stolen = await other.auth.exchangeCodeForSession(code);
    assert.equal((stolen.error as AuthApiError | null)?.code, 'bad_code_verifier');

    const { data: again } = await client.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: CALLBACK, skipBrowserRedirect: true } });
    const code2 = (await followToApp(again.url!)).searchParams.get('code')!;
    const exchanged = await client.auth.exchangeCodeForSession(code2);
    assert.equal(exchanged.error, null);
    assert.equal(exchanged.data.user?.email, 'octocat@users.noreply.github.com');
    assert.equal(exchanged.data.user?.app_metadata.provider, 'github');
    const replay = await signInClient(project).auth.exchangeCodeForSession(code2);
    assert.ok(replay.error, 'a code is good for one exchange');

    // A redirect_to outside the allow list sends the browser to the site URL instead, as GoTrue does.
    const { data: foreign } = await client.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: 'https://evil.example/steal', skipBrowserRedirect: true } });
    let hop = foreign.url!;
    for (let i = 0; i < 3; i++) hop = (await fetch(hop, { redirect: 'manual' })).headers.get('location')!;
    assert.ok(hop.startsWith('https://cairn.example/welcome?code='), hop);
  });

  it('signs out with scope others and local as GoTrue does (global: scenarios.test.ts)', async () => {
    const person = await signUp(project, 'ivan');
    const laptop = signInClient(project);
    await laptop.auth.signInWithPassword({ email: person.email, password: person.password });
    const laptopRefresh = (await laptop.auth.getSession()).data.session!.refresh_token;

    assert.equal((await person.auth.auth.signOut({ scope: 'others' })).error, null);
    const dead = await signInClient(project).auth.refreshSession({ refresh_token: laptopRefresh });
    assert.equal((dead.error as AuthApiError | null)?.code, 'refresh_token_not_found');
    assert.equal((await person.auth.auth.getUser()).error, null, 'the session that signed the others out lives on');

    const token = person.session().accessToken;
    assert.equal((await person.auth.auth.signOut({ scope: 'local' })).error, null);
    const res = await fetch(`${project.url}/auth/v1/user`, { headers: { apikey: project.anonKey, authorization: `Bearer ${token}`, 'x-supabase-api-version': '2024-01-01' } });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { code: 'session_not_found', message: 'Session from session_id claim in JWT does not exist' });
  });

  it('answers errors in both body shapes auth-js reads, with the API version header', async () => {
    const url = `${project.url}/auth/v1/token?grant_type=password`;
    const body = JSON.stringify({ email: 'nobody@example.test', password: 'whatever' });
    const legacy = await fetch(url, { method: 'POST', headers: { apikey: project.anonKey, 'content-type': 'application/json' }, body });
    assert.equal(legacy.status, 400);
    assert.deepEqual(await legacy.json(), { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
    const current = await fetch(url, { method: 'POST', headers: { apikey: project.anonKey, 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' }, body });
    assert.equal(current.headers.get('x-supabase-api-version'), '2024-01-01');
    assert.deepEqual(await current.json(), { code: 'invalid_credentials', message: 'Invalid login credentials' });
    const noKey = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(noKey.status, 401);
    const settings = await (await fetch(`${project.url}/auth/v1/settings`, { headers: { apikey: project.anonKey } })).json();
    assert.equal(settings.external.github, true);
    assert.equal(settings.external.email, true);
    assert.equal(settings.mailer_autoconfirm, false, 'email confirmations are on');
  });

  it('is configured as the project is: supabase/config.toml turns email confirmations on', () => {
    const config = readFileSync(join(import.meta.dirname, '..', '..', 'supabase', 'config.toml'), 'utf8');
    const email = /^\[auth\.email\]\n([\s\S]*?)(?=^\[)/m.exec(config)?.[1] ?? '';
    assert.match(email, /^enable_confirmations = true$/m, 'an invitation is taken only by a confirmed address (docs/team-mode.md)');
    assert.equal(project.servers!.auth.enableConfirmations, true);
  });
});
