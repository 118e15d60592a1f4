/**
 * The pure parts of team-mode sign-in (extension/src/auth): OAuth attempts kept apart so a stale or foreign
 * callback never installs a session, settings and server refusals said as what to fix, and the client's
 * storage key per project. No editor.
 */
import assert from 'node:assert/strict';
import { ATTEMPT_TTL_MS, SignInAttempts } from '../../extension/src/auth/attempts.js';
import { SignInError, friendlyAuthError, usableSettings, validateTotpCode } from '../../extension/src/auth/sign-in-checks.js';
import { storageKey } from '../../extension/src/auth/client.js';

const settings = { url: 'https://abc.supabase.co', anonKey: 'anon' };

/** Starts an attempt as the sign-in does: an id, then the attempt. */
function start(attempts: SignInAttempts<string, typeof settings, string>, client = 'c'): { id: string; done: Promise<string> } {
  const id = SignInAttempts.newId();
  return { id, done: attempts.start(id, client, settings) };
}

/** What an attempt's promise came to, once it settles. */
function outcome(done: Promise<string>): { value?: string; error?: string } {
  const o: { value?: string; error?: string } = {};
  done.then(
    (v) => (o.value = v),
    (e: Error) => (o.error = e.message),
  );
  return o;
}
const tick = () => new Promise((r) => setImmediate(r));

describe('OAuth sign-in attempts', () => {
  it('a callback must name a live attempt; the one that finishes makes every other stale', async () => {
    const attempts = new SignInAttempts<string, typeof settings, string>();
    const a = start(attempts, 'client-a');
    const b = start(attempts, 'client-b');
    assert.notEqual(a.id, b.id);
    assert.match(a.id, /^[A-Za-z0-9_-]{22}$/);
    const bOutcome = outcome(b.done);

    assert.deepEqual(attempts.claim('attempt=forged&code=x'), { kind: 'unknown' });
    const claim = attempts.claim(`attempt=${a.id}&code=the-code`);
    assert.equal(claim.kind, 'code');
    if (claim.kind !== 'code') return;
    assert.equal(claim.attempt.client, 'client-a');
    assert.equal(claim.code, 'the-code');
    attempts.supersede();
    claim.attempt.resolve('session-a');
    assert.equal(await a.done, 'session-a');
    await tick();
    assert.match(bOutcome.error!, /another sign-in finished first/);
    assert.deepEqual(attempts.claim(`attempt=${b.id}&code=late`), { kind: 'unknown' }, 'a late callback is stale');
    assert.deepEqual(attempts.claim(`attempt=${a.id}&code=again`), { kind: 'unknown' }, 'a link works once');
  });

  it('rejects an expired link, a refusal by the provider, and a link without a code', async () => {
    let now = 1_000_000;
    const attempts = new SignInAttempts<string, typeof settings, string>(() => now);
    const expired = start(attempts);
    const refused = start(attempts);
    const empty = start(attempts);
    const [e1, e2, e3] = [expired, refused, empty].map((x) => outcome(x.done));
    assert.deepEqual(attempts.claim(`attempt=${refused.id}&error=access_denied&error_description=The+user+said+no`), { kind: 'failed' });
    assert.deepEqual(attempts.claim(`attempt=${empty.id}`), { kind: 'failed' });
    now += ATTEMPT_TTL_MS + 1;
    assert.deepEqual(attempts.claim(`attempt=${expired.id}&code=x`), { kind: 'failed' });
    await tick();
    assert.match(e1!.error!, /expired/);
    assert.match(e2!.error!, /refused by the provider: The user said no/);
    assert.match(e3!.error!, /no authorization code/);
  });

  it('an attempt left alone past its time is rejected when the next one starts; a cancelled one is stale', async () => {
    let now = 0;
    const attempts = new SignInAttempts<string, typeof settings, string>(() => now);
    const old = start(attempts);
    const o = outcome(old.done);
    now = ATTEMPT_TTL_MS + 1;
    const next = start(attempts);
    await tick();
    assert.equal(o.error, 'sign-in timed out.');
    attempts.cancel(next.id);
    assert.deepEqual(attempts.claim(`attempt=${next.id}&code=x`), { kind: 'unknown' });
  });
});

describe('sign-in checks', () => {
  it('says which setting to fix, and that embedded mode needs no sign-in', () => {
    assert.throws(() => usableSettings(null), (e: unknown) => e instanceof SignInError && e.information && /embedded mode/.test(e.message));
    assert.throws(() => usableSettings({ url: 'abc.supabase.co', anonKey: 'k' }), /cairn\.supabase\.url is not a URL/);
    assert.throws(() => usableSettings({ url: 'https://abc.supabase.co', anonKey: '' }), /cairn\.supabase\.anonKey is empty/);
    assert.deepEqual(usableSettings(settings), settings);
  });

  it('turns an unreachable server or a refused key into the setting to check', () => {
    assert.match(friendlyAuthError(settings, { message: 'fetch failed', name: 'AuthRetryableFetchError' }), /could not reach Supabase at https:\/\/abc\.supabase\.co/);
    assert.match(friendlyAuthError(settings, { message: 'Invalid API key', status: 401 }), /Check cairn\.supabase\.anonKey/);
    assert.equal(friendlyAuthError(settings, { message: 'Invalid login credentials', status: 400 }), 'Invalid login credentials');
  });

  it('a TOTP code is 6 digits', () => {
    assert.equal(validateTotpCode(' 123456 '), null);
    assert.equal(validateTotpCode('12345'), 'The code is 6 digits.');
    assert.equal(validateTotpCode('abcdef'), 'The code is 6 digits.');
  });

  it('keeps one session per project URL', () => {
    assert.equal(storageKey(settings.url), storageKey(settings.url));
    assert.notEqual(storageKey(settings.url), storageKey('https://other.supabase.co'));
    assert.match(storageKey(settings.url), /^cairn\.supabase\.[0-9a-f]{16}$/);
  });
});
