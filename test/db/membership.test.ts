// Membership and access (tenant-isolation rules 1, 4 and 7 of test/db/adversarial): joining a team is the invitee's own act; what a
// session's creator may do in a team project follows their role now; a project moves between teams only with
// the rights of both sides and is audited in both; an account that posted can be deleted while the team keeps
// the history. Each case on a fresh copy of the two-tenant world, as the stores call the SQL API.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { expectStoreError, withAal2, type TestDb, type TestUser } from '../support/db.js';
import { useWorld, type World } from './world.js';

interface Row {
  id: string;
}
interface MyInvitation {
  id: string;
  team_id: string;
  team_name: string;
  role: string;
  invited_by: string;
  inviter_email: string;
  created_at: string;
  expires_at: string;
}

describe('membership and access follow consent and the current role', function () {
  this.timeout(180_000);
  let t: TestDb;
  let w: World;
  useWorld((db, world) => {
    t = db;
    w = world;
  }, { each: true });

  const teamsOf = async (u: TestUser) => (await t.rpc<{ name: string; role: string }[]>(u, 'list_teams')).map((r) => [r.name, r.role]);
  const invite = (email: string, role = 'member') => t.rpc<Row>(withAal2(w.users['A.owner']), 'invite_member', { p_team_id: w.A.teamId, p_email: email, p_role: role });

  describe('rule 1: joining is the invitee\'s explicit act', () => {
    it('has no way to add a user without their acceptance: no add_team_member, no accept-everything, no insert policy', async () => {
      const fns = await t.admin<{ proname: string }>(
        `select proname from pg_proc where pronamespace = 'public'::regnamespace and proname in ('add_team_member', 'accept_pending_invitations')`,
      );
      assert.deepEqual(fns, []);
      const policies = await t.admin(`select policyname from pg_policies where tablename = 'team_members' and cmd in ('INSERT', 'ALL')`);
      assert.deepEqual(policies, []);
      const direct = await t.attempt(withAal2(w.users['A.owner']), `insert into public.team_members (team_id, user_id, role) values ($1, $2, 'member') returning 1`, [w.A.teamId, w.users.outsider.id]);
      assert.equal(direct.error?.kind, 'permission_denied');
      // An invitation alone makes nobody a member.
      assert.deepEqual(await teamsOf(w.users.outsider), []);
    });

    it('shows the invitee who invites, to which team and role, until when; and nobody else', async () => {
      const [mine] = await t.rpc<MyInvitation[]>(w.users.outsider, 'list_my_invitations');
      assert.ok(mine);
      assert.deepEqual([mine.id, mine.team_name, mine.role, mine.invited_by, mine.inviter_email], [w.invitationId, 'Team A', 'member', w.users['A.owner'].id, w.users['A.owner'].email]);
      const days = (Date.parse(mine.expires_at) - Date.parse(mine.created_at)) / 86_400_000;
      assert.equal(days, 7, 'expires after 7 days');
      for (const who of ['A.owner', 'A.member', 'B.owner'] as const) assert.deepEqual(await t.rpc(w.users[who], 'list_my_invitations'), [], who);
      // The JWT's email claim is not a confirmed address: someone claiming the invitee's email sees nothing.
      const claimer = { ...(await t.createUser('claimer')), email: w.users.outsider.email };
      assert.deepEqual(await t.rpc(claimer, 'list_my_invitations'), []);
      assert.deepEqual(await t.query(claimer, 'select id from public.team_invitations'), []);
      await expectStoreError(t.rpc(claimer, 'accept_invitation', { p_invitation_id: w.invitationId }), 'not_found', /invitation not found/);
    });

    it('makes the invitee a member with the invited role when they accept, once', async () => {
      const joined = await t.rpc<{ team_id: string; user_id: string; role: string; invited_by: string }>(w.users.outsider, 'accept_invitation', { p_invitation_id: w.invitationId });
      assert.deepEqual([joined.team_id, joined.user_id, joined.role, joined.invited_by], [w.A.teamId, w.users.outsider.id, 'member', w.users['A.owner'].id]);
      assert.deepEqual(await teamsOf(w.users.outsider), [['Team A', 'member']]);
      assert.deepEqual(await t.rpc(w.users.outsider, 'list_my_invitations'), [], 'answered: no longer pending');
      await expectStoreError(t.rpc(w.users.outsider, 'accept_invitation', { p_invitation_id: w.invitationId }), 'not_found', /invitation not found/);
      const [audit] = await t.admin<{ actor_id: string }>(`select actor_id::text from public.audit_log where table_name = 'team_members' and action = 'insert' and record_id = $1`, [`${w.A.teamId}:${w.users.outsider.id}`]);
      assert.equal(audit?.actor_id, w.users.outsider.id, 'the log says the invitee joined, by their own act');
    });

    it('lets the invitee decline: no membership, the team sees no pending invitation and may invite again', async () => {
      await t.rpc(w.users.outsider, 'decline_invitation', { p_invitation_id: w.invitationId });
      assert.deepEqual(await teamsOf(w.users.outsider), []);
      await expectStoreError(t.rpc(w.users.outsider, 'accept_invitation', { p_invitation_id: w.invitationId }), 'not_found', /invitation not found/);
      assert.deepEqual(await t.rpc(withAal2(w.users['A.owner']), 'list_invitations', { p_team_id: w.A.teamId }), []);
      const again = await invite(w.users.outsider.email);
      assert.notEqual(again.id, w.invitationId);
    });

    it('refuses an expired invitation, and a new one replaces it', async () => {
      await t.admin(`update public.team_invitations set expires_at = now() - interval '1 minute' where id = $1`, [w.invitationId]);
      assert.deepEqual(await t.rpc(w.users.outsider, 'list_my_invitations'), []);
      await expectStoreError(t.rpc(w.users.outsider, 'accept_invitation', { p_invitation_id: w.invitationId }), 'invalid_input', /expired; ask the team for a new one/);
      assert.deepEqual(await teamsOf(w.users.outsider), []);
      const fresh = await invite(w.users.outsider.email, 'viewer');
      assert.equal(await t.count('team_invitations', 'id = $1', [w.invitationId]), 0, 'the expired one gave way');
      await t.rpc(w.users.outsider, 'accept_invitation', { p_invitation_id: fresh.id });
      assert.deepEqual(await teamsOf(w.users.outsider), [['Team A', 'viewer']]);
    });

    it('requires a confirmed email to see or answer an invitation', async () => {
      const id = randomUUID();
      const email = 'unconfirmed@example.test';
      await t.admin(`insert into auth.users (id, aud, role, email) values ($1, 'authenticated', 'authenticated', $2)`, [id, email]);
      const unconfirmed: TestUser = { id, email, aal: 'aal1' };
      const inv = await invite(email);
      assert.deepEqual(await t.rpc(unconfirmed, 'list_my_invitations'), []);
      await expectStoreError(t.rpc(unconfirmed, 'accept_invitation', { p_invitation_id: inv.id }), 'permission_denied', /confirm your email address/);
      await expectStoreError(t.rpc(unconfirmed, 'decline_invitation', { p_invitation_id: inv.id }), 'permission_denied', /confirm your email address/);
      await t.admin(`update auth.users set email_confirmed_at = now() where id = $1`, [id]);
      await t.rpc(unconfirmed, 'accept_invitation', { p_invitation_id: inv.id });
      assert.deepEqual(await teamsOf(unconfirmed), [['Team A', 'member']]);
    });

    it('does not reveal whether an account exists: inviting a user and a stranger look alike, and so do unknown and foreign invitation ids', async () => {
      const known = await invite(w.users['B.member'].email);
      const unknown = await invite('nobody-has-this@example.test');
      const shape = (r: Record<string, unknown>) => Object.keys(r).sort().join(',') + (r.accepted_at === null && r.accepted_by === null ? ' pending' : ' ?');
      assert.equal(shape(known as unknown as Record<string, unknown>), shape(unknown as unknown as Record<string, unknown>));
      const foreign = await expectStoreError(t.rpc(w.users['B.owner'], 'accept_invitation', { p_invitation_id: known.id }), 'not_found');
      const missing = await expectStoreError(t.rpc(w.users['B.owner'], 'accept_invitation', { p_invitation_id: randomUUID() }), 'not_found');
      assert.equal(foreign.message, missing.message);
      assert.equal(foreign.sqlstate, missing.sqlstate);
    });
  });

  describe('rule 4: access to team sessions follows current membership and role', () => {
    /** A.member's own team session and private session, and what they can still do in each. */
    const sessions = () => ({ shared: w.A.teamSessionId, mine: w.A.privateSessionId });
    const member = () => w.users['A.member'];
    const remove = () => t.rpc(withAal2(w.users['A.owner']), 'remove_team_member', { p_team_id: w.A.teamId, p_user_id: member().id });

    it('gives a removed member nothing of the team: not their shared session, nor their own private one there', async () => {
      await remove();
      for (const id of Object.values(sessions())) {
        await expectStoreError(t.rpc(member(), 'get_session', { p_session_id: id }), 'not_found', /session not found/);
        await expectStoreError(t.rpc(member(), 'session_access', { p_session_id: id }), 'not_found');
        await expectStoreError(t.rpc(member(), 'append_message', { p_session_id: id, p_role: 'user', p_content: 'still here?' }), 'not_found');
        await expectStoreError(t.rpc(member(), 'delete_session', { p_session_id: id }), 'not_found');
        await expectStoreError(t.rpc(member(), 'list_messages', { p_session_id: id }), 'not_found');
      }
      assert.deepEqual(await t.rpc(member(), 'list_sessions', { p_project_id: w.A.projectId }), []);
      const direct = await t.attempt(member(), 'select id from public.messages where session_id = any($1::uuid[])', [Object.values(sessions())]);
      assert.deepEqual(direct.rows, []);
      // What the team writes afterwards stays the team's.
      await t.rpc(w.users['A.admin'], 'append_message', { p_session_id: w.A.teamSessionId, p_role: 'user', p_content: 'after you left' });
      assert.equal((await t.attempt(member(), `select 1 from public.messages where content = 'after you left'`)).rows?.length, 0);
      const gone = await t.attempt(member(), 'delete from public.sessions where id = $1 returning 1', [w.A.teamSessionId]);
      assert.deepEqual(gone.rows, []);
    });

    it('keeps the shared session for the team when its creator leaves, readable and writable by members', async () => {
      await t.rpc(member(), 'leave_team', { p_team_id: w.A.teamId });
      for (const who of ['A.viewer', 'A.admin', 'A.owner'] as const) {
        const s = await t.rpc<{ id: string; owner_id: string }>(w.users[who], 'get_session', { p_session_id: w.A.teamSessionId });
        assert.equal(s.owner_id, member().id, `${who} still reads it`);
      }
      await t.rpc(w.users['A.admin'], 'append_message', { p_session_id: w.A.teamSessionId, p_role: 'user', p_content: 'we carry on' });
      assert.equal(await t.rpc(w.users['A.admin'], 'session_access', { p_session_id: w.A.teamSessionId }), 'write');
      // Nobody else reads the leaver's private session in the team project, not even the team's owner.
      await expectStoreError(t.rpc(w.users['A.owner'], 'get_session', { p_session_id: w.A.privateSessionId }), 'not_found');
      assert.equal(await t.count('sessions', 'id = $1', [w.A.privateSessionId]), 1, 'kept, not deleted');
    });

    it('gives back the private sessions to a member who rejoins', async () => {
      await remove();
      const inv = await invite(member().email);
      await t.rpc(member(), 'accept_invitation', { p_invitation_id: inv.id });
      const s = await t.rpc<{ title: string }>(member(), 'get_session', { p_session_id: w.A.privateSessionId });
      assert.equal(s.title, 'A private');
      assert.equal(await t.rpc(member(), 'session_access', { p_session_id: w.A.privateSessionId }), 'owner');
    });

    it('bounds a creator demoted to viewer to reading their own sessions', async () => {
      await t.rpc(withAal2(w.users['A.owner']), 'set_member_role', { p_team_id: w.A.teamId, p_user_id: member().id, p_role: 'viewer' });
      for (const id of Object.values(sessions())) {
        assert.equal(await t.rpc(member(), 'session_access', { p_session_id: id }), 'read', 'no longer owner');
        await expectStoreError(t.rpc(member(), 'append_message', { p_session_id: id, p_role: 'user', p_content: 'x' }), 'permission_denied', /read this session but not post/);
        await expectStoreError(t.rpc(member(), 'rename_session', { p_session_id: id, p_title: 'mine' }), 'permission_denied');
        await expectStoreError(t.rpc(member(), 'delete_session', { p_session_id: id }), 'permission_denied');
      }
      await expectStoreError(t.rpc(member(), 'share_session', { p_session_id: w.A.privateSessionId, p_visibility: 'team' }), 'permission_denied');
      await expectStoreError(t.rpc(member(), 'share_session', { p_session_id: w.A.teamSessionId, p_visibility: 'private' }), 'permission_denied');
      const direct = await t.attempt(member(), `update public.sessions set title = 'mine' where id = $1 returning 1`, [w.A.teamSessionId]);
      assert.deepEqual(direct.rows, []);
      assert.equal(await t.count('messages', 'session_id = $1', [w.A.teamSessionId]), 2, 'nothing posted');
    });

    it("lets the team's owners and admins clear up a shared session its creator left behind", async () => {
      await t.rpc(member(), 'leave_team', { p_team_id: w.A.teamId });
      await expectStoreError(t.rpc(w.users['A.viewer'], 'delete_session', { p_session_id: w.A.teamSessionId }), 'permission_denied');
      await t.rpc(w.users['A.admin'], 'delete_session', { p_session_id: w.A.teamSessionId });
      assert.equal(await t.count('sessions', 'id = $1', [w.A.teamSessionId]), 0);
    });
  });

  describe('rule 7: moving a project between teams takes both sides', () => {
    // B.owner is also an admin of A: enough on one side only, until the move takes both.
    const joinA = async (u: TestUser, role: string) => {
      const inv = await t.rpc<Row>(withAal2(w.users['A.owner']), 'invite_member', { p_team_id: w.A.teamId, p_email: u.email, p_role: role });
      await t.rpc(u, 'accept_invitation', { p_invitation_id: inv.id });
    };
    const teamOf = async (projectId: string) => (await t.admin<{ team_id: string }>('select team_id::text from public.projects where id = $1', [projectId]))[0]!.team_id;

    it("refuses an admin of the target only, and an admin of the source only, and anyone at aal1", async () => {
      await joinA(w.users['B.owner'], 'member');
      await expectStoreError(t.rpc(withAal2(w.users['B.owner']), 'set_project_team', { p_project_id: w.A.projectId, p_team_id: w.B.teamId }), 'permission_denied', /only owners and admins of the team a project belongs to/);
      await expectStoreError(t.rpc(withAal2(w.users['A.owner']), 'set_project_team', { p_project_id: w.A.projectId, p_team_id: w.B.teamId }), 'permission_denied', /only team owners and admins can move a project into the team/);
      await t.rpc(withAal2(w.users['A.owner']), 'set_member_role', { p_team_id: w.A.teamId, p_user_id: w.users['B.owner'].id, p_role: 'admin' });
      await expectStoreError(t.rpc(w.users['B.owner'], 'set_project_team', { p_project_id: w.A.projectId, p_team_id: w.B.teamId }), 'permission_denied', /requires a second factor \(aal2\)/);
      assert.equal(await teamOf(w.A.projectId), w.A.teamId, 'nothing moved');
    });

    it('moves with admin rights on both sides and aal2, and both teams read it in their audit log', async () => {
      await joinA(w.users['B.owner'], 'admin');
      const moved = await t.rpc<{ team_id: string }>(withAal2(w.users['B.owner']), 'set_project_team', { p_project_id: w.A.projectId, p_team_id: w.B.teamId });
      assert.equal(moved.team_id, w.B.teamId);
      for (const [reader, team] of [['A.owner', w.A.teamId], ['B.owner', w.B.teamId]] as const) {
        const log = await t.rpc<{ actor_id: string; table_name: string; record_id: string; old_values: { team_id: string }; new_values: { team_id: string } }[]>(withAal2(w.users[reader]), 'list_audit_log', { p_team_id: team });
        const entry = log.find((e) => e.table_name === 'projects' && e.record_id === w.A.projectId && e.old_values?.team_id !== e.new_values?.team_id);
        assert.ok(entry, `${reader}'s team log records the move`);
        assert.deepEqual([entry.actor_id, entry.old_values.team_id, entry.new_values.team_id], [w.users['B.owner'].id, w.A.teamId, w.B.teamId]);
      }
    });

    it('moves a personal project into a team only for its creator, at aal2', async () => {
      await expectStoreError(t.rpc(w.users.outsider, 'set_project_team', { p_project_id: w.personal.projectId, p_team_id: w.A.teamId }), 'permission_denied');
      const p = await t.rpc<Row>(w.users['A.admin'], 'ensure_project', { p_root_uri: 'file:///home/a-admin/own', p_name: 'own' });
      await expectStoreError(t.rpc(w.users['A.admin'], 'set_project_team', { p_project_id: p.id, p_team_id: w.A.teamId }), 'permission_denied', /aal2/);
      await t.rpc(withAal2(w.users['A.admin']), 'set_project_team', { p_project_id: p.id, p_team_id: w.A.teamId });
      assert.equal(await teamOf(p.id), w.A.teamId);
    });
  });

  describe('rule 10b: an account that posted can be deleted; the team keeps the history', () => {
    it("deletes A.admin's account: their private sessions go, their shared session and their messages stay the team's, with no author", async () => {
      // (A.admin did not create the team's project: what happens to a project when its creator's account goes
      // is the attribution rule's, not this one's.)
      const admin = w.users['A.admin'];
      const shared = await t.rpc<Row>(admin, 'create_session', { p_project_id: w.A.projectId, p_title: 'admin shared', p_visibility: 'team' });
      const own = await t.rpc<Row>(admin, 'create_session', { p_project_id: w.A.projectId, p_title: 'admin private' });
      await t.rpc(admin, 'append_message', { p_session_id: shared.id, p_role: 'user', p_content: 'a word in my session' });
      await t.rpc(admin, 'append_message', { p_session_id: w.A.teamSessionId, p_role: 'user', p_content: "a word in A.member's session" });
      await t.admin('delete from auth.users where id = $1', [admin.id]);
      assert.equal(await t.count('sessions', 'id = $1', [own.id]), 0, 'the private session went with the account');
      const kept = await t.rpc<{ owner_id: string | null }>(w.users['A.viewer'], 'get_session', { p_session_id: shared.id });
      assert.equal(kept.owner_id, null, "the shared session stays the team's");
      const authors = async (sessionId: string) =>
        (await t.rpc<{ content: string; author_id: string | null }[]>(w.users['A.viewer'], 'list_messages', { p_session_id: sessionId })).map((m) => [m.content, m.author_id]);
      assert.deepEqual(await authors(shared.id), [['a word in my session', null]]);
      assert.deepEqual((await authors(w.A.teamSessionId)).at(-1), ["a word in A.member's session", null]);
      // The team writes on in the session whose creator is gone; its owners can still clear it up.
      await t.rpc(w.users['A.member'], 'append_message', { p_session_id: shared.id, p_role: 'user', p_content: 'still ours' });
      assert.equal(await t.rpc(w.users['A.member'], 'session_access', { p_session_id: shared.id }), 'write');
      await t.rpc(w.users['A.owner'], 'delete_session', { p_session_id: shared.id });
    });

    it('never lets a client clear an author or an owner itself', async () => {
      const m = w.users['A.member'];
      const author = await t.attempt(m, 'update public.messages set author_id = null where id = $1 returning 1', [w.A.streamingMessageId]);
      assert.equal(author.error?.kind, 'permission_denied', JSON.stringify(author));
      const owner = await t.attempt(m, 'update public.sessions set owner_id = null where id = $1 returning 1', [w.A.privateSessionId]);
      assert.equal(owner.error?.kind, 'permission_denied', JSON.stringify(owner));
    });

    it('deletes a team the account was the only member of, and refuses while it is the last owner of a team with others', async () => {
      const solo = await t.createUser('solo');
      const team = await t.rpc<Row>(solo, 'create_team', { p_name: 'Solo' });
      await t.admin('delete from auth.users where id = $1', [solo.id]);
      assert.equal(await t.count('teams', 'id = $1', [team.id]), 0);
      await assert.rejects(t.admin('delete from auth.users where id = $1', [w.users['A.owner'].id]), /a team must keep at least one owner/);
      await t.rpc(withAal2(w.users['A.owner']), 'set_member_role', { p_team_id: w.A.teamId, p_user_id: w.users['A.admin'].id, p_role: 'owner' });
      await t.admin('delete from auth.users where id = $1', [w.users['A.owner'].id]);
      assert.deepEqual(await teamsOf(w.users['A.admin']), [['Team A', 'owner']]);
    });
  });
});
