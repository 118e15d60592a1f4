/**
 * Self-service account deletion through the real daemon (`auth/deleteAccount`), against the local Supabase
 * test servers: Dana signs in with supabase-js as the extension does and hands the session to her daemon; Eve,
 * her teammate, uses the SQL API directly. Refusals change nothing and say why (reason `secondFactor`,
 * `lastOwner`, a mistyped email); the deletion signs the daemon out, and Supabase Auth no longer knows Dana.
 */
import assert from 'node:assert/strict';
import { connectWs, fails, migratedHome, ok, readLog, removeHome, startDaemon, stopDaemon, waitForNotification, type DaemonProcess, type RawConnection } from '../support/daemon.js';
import { reachAal2, signIn, signInClient, signUp, startProject, type Person, type Project } from './harness.js';

describe('auth/deleteAccount: a user deletes their own account from the daemon', function () {
  this.timeout(240_000);
  let project: Project;
  let home: string;
  let daemon: DaemonProcess;
  let rpc: RawConnection;
  let dana: Person;
  let eve: Person;

  const handOver = (person: Person) =>
    ok(rpc, 'auth/setSession', { supabaseUrl: project.url, anonKey: project.anonKey, accessToken: person.session().accessToken, refreshToken: person.session().refreshToken });
  const reason = (err: { data?: { reason?: string; field?: string } }) => err.data?.reason ?? err.data?.field;

  before(async () => {
    project = await startProject();
    [dana, eve] = await Promise.all([signUp(project, 'dana'), signUp(project, 'eve')]);
    home = await migratedHome();
    daemon = await startDaemon(home);
    rpc = await connectWs(daemon.info);
    await ok(rpc, 'daemon/subscribe', { topics: ['auth'] });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`--- daemon log (tail)\n${(await readLog(home)).split('\n').slice(-40).join('\n')}`);
  });

  after(async () => {
    await rpc?.close().catch(() => undefined);
    if (daemon) await stopDaemon(daemon);
    if (home) await removeHome(home);
    await project?.close();
  });

  it('is not offered in the embedded store, whose one local user is not deleted', async () => {
    const err = await fails(rpc, 'auth/deleteAccount', { email: 'local@example.test' }, ['NotImplementedInStore']);
    assert.match(err.message, /local/);
    assert.equal((await ok(rpc, 'auth/status')).store, 'embedded');
  });

  it('refuses with nothing changed: a mistyped email, a second factor not proved, the last owner of a team with others; then deletes and signs out', async () => {
    await handOver(dana);
    const team = await ok(rpc, 'teams/create', { name: 'Dana & Eve' });
    const solo = await ok(rpc, 'teams/create', { name: 'Dana alone' });
    await reachAal2(dana);
    await handOver(dana);
    await ok(rpc, 'teams/invite', { teamId: team.id, email: eve.email, role: 'member' });
    const { data: invitations, error } = await eve.auth.rpc('list_my_invitations');
    if (error) throw error;
    const accepted = await eve.auth.rpc('accept_invitation', { p_invitation_id: (invitations as { id: string }[])[0]!.id });
    if (accepted.error) throw accepted.error;

    // A mistyped confirmation deletes nothing.
    const typo = await fails(rpc, 'auth/deleteAccount', { email: `x${dana.email}` }, ['InvalidInput']);
    assert.equal(reason(typo), 'email');

    // A new sign-in is aal1: with a verified factor, the account cannot be deleted from it.
    const fresh = await signIn(project, dana.email, dana.password);
    fresh.totpSecret = dana.totpSecret;
    await handOver(fresh);
    const aal1 = await fails(rpc, 'auth/deleteAccount', { email: dana.email.toUpperCase() }, ['PermissionDenied']);
    assert.equal(reason(aal1), 'secondFactor');

    // At aal2, the last owner of a team with another member is refused until someone else owns it.
    await reachAal2(fresh);
    await handOver(fresh);
    const lastOwner = await fails(rpc, 'auth/deleteAccount', { email: dana.email }, ['InvalidInput']);
    assert.equal(reason(lastOwner), 'lastOwner');
    assert.equal((await ok(rpc, 'auth/status')).user.id, dana.id, 'still signed in, nothing deleted');
    assert.equal((await ok(rpc, 'teams/list')).length, 2);

    await ok(rpc, 'teams/setRole', { teamId: team.id, userId: eve.id, role: 'owner' });
    const changedFrom = rpc.notifications('auth/changed').length;
    const out = await ok(rpc, 'auth/deleteAccount', { email: ` ${dana.email} ` });
    assert.equal(out.deleted, true);
    assert.equal(out.store, 'embedded');
    assert.notEqual(out.user?.id, dana.id);
    const told = await waitForNotification(rpc, 'auth/changed', () => true, 2000, changedFrom);
    assert.equal(told.store, 'embedded', 'every window hears that the daemon signed out');

    // Supabase Auth no longer knows her: no refresh, no sign-in; her session token is refused.
    const refreshed = await fresh.auth.auth.refreshSession();
    assert.ok(refreshed.error, 'the refresh token went with the account');
    const again = await signInClient(project).auth.signInWithPassword({ email: dana.email, password: dana.password });
    assert.equal(again.error?.code, 'invalid_credentials');

    // Eve's team stays, with Eve as its owner; the team only Dana was in is gone; the log records the departure.
    const { data: teams } = await eve.auth.rpc('list_teams');
    assert.deepEqual((teams as { id: string; role: string }[]).map((t) => [t.id, t.role]), [[team.id, 'owner']]);
    const { data: members } = await eve.auth.rpc('list_team_members', { p_team_id: team.id });
    assert.deepEqual((members as { user_id: string }[]).map((m) => m.user_id), [eve.id]);
    assert.equal(await project.tdb!.count('teams', 'id = $1', [solo.id]), 0, 'the team only Dana was in went with her');
    assert.equal(await project.tdb!.count('teams', 'id = $1', [team.id]), 1);
    const { data: log, error: logError } = await eve.auth.rpc('list_audit_log', { p_team_id: team.id });
    if (logError) throw logError;
    assert.ok((log as { table_name: string; record_id: string }[]).some((e) => e.table_name === 'accounts' && e.record_id === dana.id));
  });
});
