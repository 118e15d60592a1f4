// Self-service account deletion: `delete_my_account()` deletes the caller's own auth.users row, as
// the extension's "Cairn: Delete My Account" asks. Their own rows go, teams keep what they shared, a team only
// they were in goes with them; refused (nothing changed) for the last owner of a team with other members
// (CR003) and, once a second factor is verified, without it on this sign-in (CR002). Audited in each team
// that keeps members. On a fresh copy of the two-tenant world per case, called as the stores call it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { expectStoreError, freshDb, withAal2, type TestDb, type TestUser } from '../support/db.js';
import { buildWorld, type World } from './world.js';

interface Row {
  id: string;
}

describe('delete_my_account: a user deletes their own account', function () {
  this.timeout(180_000);
  let t: TestDb;
  let w: World;
  beforeEach(async () => {
    t = await freshDb();
    w = await buildWorld(t);
  });
  afterEach(() => t.close());

  const exists = async (u: TestUser) => (await t.admin('select 1 from auth.users where id = $1', [u.id])).length === 1;
  const addFactor = (u: TestUser, status: 'verified' | 'unverified') =>
    t.admin(`insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at) values ($1, $2, 'phone', 'totp', $3, now(), now())`, [randomUUID(), u.id, status]);
  /** Every row of the world, as the owner sees it: what a refused call must leave exactly as it was. */
  const snapshot = async () =>
    JSON.stringify(
      await t.admin(`select (select count(*) from auth.users) as users, (select count(*) from public.team_members) as members,
                            (select count(*) from public.sessions) as sessions, (select count(*) from public.teams) as teams,
                            (select count(*) from public.audit_log) as audit`),
    );

  it('deletes the caller and what was theirs alone; the team keeps their shared session and messages, and logs the departure', async () => {
    const member = w.users['A.member'];
    await t.rpc(member, 'delete_my_account');
    assert.equal(await exists(member), false, 'the account is gone');
    assert.equal(await t.count('sessions', 'id = $1', [w.A.privateSessionId]), 0, 'their private session went with it');
    assert.equal(await t.count('team_members', 'user_id = $1', [member.id]), 0);
    const shared = await t.rpc<{ owner_id: string | null }>(w.users['A.viewer'], 'get_session', { p_session_id: w.A.teamSessionId });
    assert.equal(shared.owner_id, null, "the shared session stays the team's, with no owner");
    const messages = await t.rpc<{ content: string; author_id: string | null }[]>(w.users['A.viewer'], 'list_messages', { p_session_id: w.A.teamSessionId });
    assert.ok(messages.some((m) => m.content === 'hello from A' && m.author_id === null), 'their message stays, by a deleted user');
    // The team's owner reads the departure in its log, with the account's id and role and nothing personal.
    const log = await t.rpc<{ table_name: string; record_id: string; old_values: Record<string, unknown> }[]>(withAal2(w.users['A.owner']), 'list_audit_log', { p_team_id: w.A.teamId });
    const entry = log.find((e) => e.table_name === 'accounts' && e.record_id === member.id);
    assert.ok(entry, 'the team log records the deletion');
    assert.deepEqual(entry.old_values, { user_id: member.id, role: 'member' });
    const written = log.filter((e) => e.record_id === member.id || e.record_id === `${w.A.teamId}:${member.id}`);
    assert.ok(written.length >= 1 && !JSON.stringify(written).includes(member.email), 'the entries the deletion wrote hold no email');
    // Nobody else lost anything: B is untouched, A's other members keep their membership.
    assert.equal(await t.count('team_members', 'team_id = $1', [w.B.teamId]), 4);
    assert.equal(await t.count('sessions', 'id = $1', [w.B.privateSessionId]), 1);
    assert.equal(await exists(w.users['A.owner']), true);
  });

  it('deletes a team whose only member the caller is, with its projects', async () => {
    const solo = await t.createUser('solo');
    const team = await t.rpc<Row>(solo, 'create_team', { p_name: 'Solo' });
    const project = await t.rpc<Row>(solo, 'ensure_project', { p_root_uri: 'file:///solo', p_name: 'solo', p_team_id: team.id });
    await t.rpc(solo, 'delete_my_account');
    assert.equal(await t.count('teams', 'id = $1', [team.id]), 0);
    assert.equal(await t.count('projects', 'id = $1', [project.id]), 0);
  });

  it('refuses the last owner of a team with other members (CR003), changing nothing, until another member is owner', async () => {
    const owner = w.users['A.owner'];
    const before = await snapshot();
    const err = await expectStoreError(t.rpc(withAal2(owner), 'delete_my_account'), 'invalid_input');
    assert.equal(err.sqlstate, 'CR003');
    assert.equal(await snapshot(), before, 'nothing changed');
    await t.rpc(withAal2(owner), 'set_member_role', { p_team_id: w.A.teamId, p_user_id: w.users['A.admin'].id, p_role: 'owner' });
    await t.rpc(owner, 'delete_my_account');
    assert.equal(await exists(owner), false);
    assert.deepEqual(
      (await t.rpc<{ user_id: string; role: string }[]>(w.users['A.admin'], 'list_team_members', { p_team_id: w.A.teamId })).filter((m) => m.role === 'owner').map((m) => m.user_id),
      [w.users['A.admin'].id],
    );
  });

  it('needs aal2 once the account has a verified second factor (CR002), not before', async () => {
    const member = w.users['A.member'];
    await addFactor(member, 'unverified');
    await addFactor(w.users['A.viewer'], 'verified');
    const before = await snapshot();
    const err = await expectStoreError(t.rpc(w.users['A.viewer'], 'delete_my_account'), 'permission_denied');
    assert.equal(err.sqlstate, 'CR002');
    assert.equal(await snapshot(), before, 'nothing changed');
    await t.rpc(withAal2(w.users['A.viewer']), 'delete_my_account');
    assert.equal(await exists(w.users['A.viewer']), false);
    // An unverified factor protects nothing yet: aal1 is enough.
    await t.rpc(member, 'delete_my_account');
    assert.equal(await exists(member), false);
  });

  it('is refused to anon and to a token that names no user, and deletes only the caller whoever they name', async () => {
    await expectStoreError(t.rpc('anon', 'delete_my_account'), 'permission_denied');
    const nobody = { id: '', email: 'x@example.test', aal: 'aal2' } as TestUser;
    await assert.rejects(t.query(nobody, 'select public.delete_my_account()'));
    // The function takes no argument: a caller cannot name someone else.
    await assert.rejects(t.query(w.users.outsider, 'select public.delete_my_account($1::uuid)', [w.users['A.member'].id]));
    await t.rpc(w.users.outsider, 'delete_my_account');
    assert.equal(await exists(w.users.outsider), false);
    assert.equal(await exists(w.users['A.member']), true);
  });
});
