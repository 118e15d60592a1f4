// Access changes: the rows that tell people live that something left their view (Realtime sends nothing
// about a row its subscriber can no longer read). Each change that takes rows away from someone records one
// row that exactly the people who lost access can read; changes that take nothing away record nothing.
import assert from 'node:assert/strict';
import { withAal2, type TestDb } from '../support/db.js';
import { useWorld, type World } from './world.js';

interface AccessChange {
  id: string;
  team_id: string;
  reason: string;
  user_id: string | null;
  project_id: string | null;
  session_id: string | null;
}

describe('access changes (what left a teammate\'s view)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let w: World;
  useWorld((db, world) => {
    t = db;
    w = world;
  }, { each: true });

  // Ids are random (a counter would count other teams' changes): "newest" is what was not there at the mark.
  const newest = async (mark: string[]) =>
    t.admin<AccessChange>(
      'select id::text, team_id, reason, user_id, project_id, session_id from public.access_changes where id::text <> all($1::text[]) order by created_at',
      [mark],
    );
  const lastId = async () => (await t.admin<{ id: string }>('select id::text from public.access_changes')).map((r) => r.id);
  const visibleTo = async (actor: keyof World['users'], id: string) =>
    (await t.query(w.users[actor], 'select id from public.access_changes where id = $1', [id])).length === 1;

  it('unsharing a team session records it for the team: every member reads it, nobody else', async () => {
    const from = await lastId();
    await t.rpc(w.users['A.member'], 'rename_session', { p_session_id: w.A.teamSessionId, p_title: 'Still shared' });
    assert.deepEqual(await newest(from), [], 'a rename takes nothing away');

    const owner = (await t.admin<{ owner_id: string }>('select owner_id from public.sessions where id = $1', [w.A.teamSessionId]))[0]!.owner_id;
    const actor = Object.values(w.users).find((u) => u.id === owner)!;
    await t.rpc(actor, 'share_session', { p_session_id: w.A.teamSessionId, p_visibility: 'private' });
    const rows = await newest(from);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      { ...rows[0], id: '' },
      { id: '', team_id: w.A.teamId, reason: 'session_unshared', user_id: null, project_id: null, session_id: w.A.teamSessionId },
    );
    for (const who of ['A.owner', 'A.admin', 'A.member', 'A.viewer'] as const) assert.ok(await visibleTo(who, rows[0]!.id), who);
    for (const who of ['B.owner', 'B.member', 'outsider'] as const) assert.ok(!(await visibleTo(who, rows[0]!.id)), who);

    const mark = await lastId();
    await t.rpc(actor, 'share_session', { p_session_id: w.A.teamSessionId, p_visibility: 'team' });
    await t.rpc(w.users['A.member'], 'share_session', { p_session_id: w.A.privateSessionId, p_visibility: 'private' });
    assert.deepEqual(await newest(mark), [], 'sharing again (or a private session staying private) takes nothing away');
  });

  it('removing a member records it for that member alone; so does leaving', async () => {
    const from = await lastId();
    await t.rpc(withAal2(w.users['A.owner']), 'remove_team_member', { p_team_id: w.A.teamId, p_user_id: w.users['A.viewer'].id });
    await t.rpc(w.users['A.member'], 'leave_team', { p_team_id: w.A.teamId });
    const rows = await newest(from);
    assert.deepEqual(
      rows.map((r) => [r.reason, r.team_id, r.user_id]),
      [
        ['member_removed', w.A.teamId, w.users['A.viewer'].id],
        ['member_removed', w.A.teamId, w.users['A.member'].id],
      ],
    );
    assert.ok(await visibleTo('A.viewer', rows[0]!.id), 'the removed viewer reads their removal');
    assert.ok(!(await visibleTo('A.owner', rows[0]!.id)), 'nobody else does');
    assert.ok(!(await visibleTo('A.viewer', rows[1]!.id)));
    assert.ok(await visibleTo('A.member', rows[1]!.id));
  });

  it('a role change is recorded for that member alone; the same role again records nothing', async () => {
    const from = await lastId();
    const owner = withAal2(w.users['A.owner']);
    await t.rpc(owner, 'set_member_role', { p_team_id: w.A.teamId, p_user_id: w.users['A.member'].id, p_role: 'viewer' });
    await t.rpc(owner, 'set_member_role', { p_team_id: w.A.teamId, p_user_id: w.users['A.member'].id, p_role: 'viewer' });
    const rows = await newest(from);
    assert.deepEqual(rows.map((r) => [r.reason, r.team_id, r.user_id]), [['role_changed', w.A.teamId, w.users['A.member'].id]]);
    assert.ok(await visibleTo('A.member', rows[0]!.id));
    assert.ok(!(await visibleTo('A.owner', rows[0]!.id)), 'not even the owner who made the change');
  });

  it('moving a project out of its team records it for the team', async () => {
    // A project its creator (an owner of A) made in the team, and takes back as a personal one.
    const project = await t.rpc<{ id: string }>(w.users['A.owner'], 'ensure_project', { p_root_uri: 'file:///work/side', p_name: 'side', p_team_id: w.A.teamId });
    const from = await lastId();
    await t.rpc(withAal2(w.users['A.owner']), 'set_project_team', { p_project_id: project.id, p_team_id: null });
    const rows = await newest(from);
    assert.deepEqual(rows.map((r) => [r.reason, r.team_id, r.project_id]), [['project_unshared', w.A.teamId, project.id]]);
    assert.ok(await visibleTo('A.viewer', rows[0]!.id));
    assert.ok(!(await visibleTo('B.owner', rows[0]!.id)));
  });

  it('keeps access changes for a day: older ones go when the next is recorded', async () => {
    await t.admin(`update public.access_changes set created_at = now() - interval '25 hours'`);
    const stale = await t.admin<{ id: string }>('select id::text from public.access_changes');
    assert.ok(stale.length > 0);
    await t.rpc(withAal2(w.users['A.owner']), 'remove_team_member', { p_team_id: w.A.teamId, p_user_id: w.users['A.viewer'].id });
    const left = await t.admin<{ reason: string }>('select reason from public.access_changes');
    assert.deepEqual(left.map((r) => r.reason), ['member_removed']);
  });
});
