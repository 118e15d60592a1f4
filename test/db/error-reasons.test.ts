// Refusals a client acts on carry their reason as a SQLSTATE of their own (docs/sql-api.md): CR002 a second
// factor is needed, CR003 the team must keep an owner, CR004 not a member of that team or not allowed there
// by one's role. Where RLS itself refuses, the answer stays 42501 (or the row is not there).
import assert from 'node:assert/strict';
import { withAal2, type TestDb, type TestUser } from '../support/db.js';
import { useWorld, type World } from './world.js';

describe('SQL API: refusals carry their reason as a SQLSTATE', function () {
  this.timeout(120_000);
  let t: TestDb;
  let w: World;
  let ownersOwn: string;
  useWorld(async (db, world) => {
    t = db;
    w = world;
    ownersOwn = (await t.rpc<{ id: string }>(w.users['A.owner'], 'ensure_project', { p_root_uri: 'file:///own', p_name: 'own', p_personal: true })).id;
  });

  type Case = [what: string, actor: () => TestUser, fn: string, args: () => Record<string, unknown>, sqlstate: string];
  const u = (name: keyof World['users'], aal2 = false) => () => (aal2 ? withAal2(w.users[name]) : w.users[name]);
  const cases: Case[] = [
    ['an admin without a second factor invites', u('A.admin'), 'invite_member', () => ({ p_team_id: w.A.teamId, p_email: 'x@example.test' }), 'CR002'],
    ['an owner without a second factor changes a role', u('A.owner'), 'set_member_role', () => ({ p_team_id: w.A.teamId, p_user_id: w.users['A.member'].id, p_role: 'viewer' }), 'CR002'],
    ['an owner without a second factor removes a member', u('A.owner'), 'remove_team_member', () => ({ p_team_id: w.A.teamId, p_user_id: w.users['A.viewer'].id }), 'CR002'],
    ['an owner without a second factor moves their project into the team', u('A.owner'), 'set_project_team', () => ({ p_project_id: ownersOwn, p_team_id: w.A.teamId }), 'CR002'],
    ['the last owner leaves', u('A.owner'), 'leave_team', () => ({ p_team_id: w.A.teamId }), 'CR003'],
    ['the last owner demotes themself', u('A.owner', true), 'set_member_role', () => ({ p_team_id: w.A.teamId, p_user_id: w.users['A.owner'].id, p_role: 'admin' }), 'CR003'],
    ['a member manages members', u('A.member', true), 'invite_member', () => ({ p_team_id: w.A.teamId, p_email: 'x@example.test' }), 'CR004'],
    ['an admin invites an owner', u('A.admin', true), 'invite_member', () => ({ p_team_id: w.A.teamId, p_email: 'x@example.test', p_role: 'owner' }), 'CR004'],
    ['an admin makes an owner', u('A.admin', true), 'set_member_role', () => ({ p_team_id: w.A.teamId, p_user_id: w.users['A.member'].id, p_role: 'owner' }), 'CR004'],
    ['an admin removes the owner', u('A.admin', true), 'remove_team_member', () => ({ p_team_id: w.A.teamId, p_user_id: w.users['A.owner'].id }), 'CR004'],
    ['a member renames the team', u('A.member'), 'rename_team', () => ({ p_team_id: w.A.teamId, p_name: 'Renamed' }), 'CR004'],
    ['a member reads the audit log', u('A.member'), 'list_audit_log', () => ({ p_team_id: w.A.teamId }), 'CR004'],
    ['an outsider reads a team\'s audit log', u('outsider'), 'list_audit_log', () => ({ p_team_id: w.A.teamId }), 'CR004'],
    ['an outsider leaves a team they are not in', u('outsider'), 'leave_team', () => ({ p_team_id: w.A.teamId }), 'CR004'],
    ['a viewer creates a team agent', u('A.viewer'), 'create_agent', () => ({ p_name: 'x', p_system_prompt: 'x', p_team_id: w.A.teamId }), 'CR004'],
    ['a viewer maps a folder to a team project', u('A.viewer'), 'ensure_project', () => ({ p_root_uri: 'file:///x', p_name: 'x', p_team_id: w.A.teamId }), 'CR004'],
    ['an outsider moves their project into a team', u('outsider', true), 'set_project_team', () => ({ p_project_id: w.personal.projectId, p_team_id: w.A.teamId }), 'CR004'],
    ['a viewer posts in a team session (a session rule, not a team one)', u('A.viewer'), 'append_message', () => ({ p_session_id: w.A.teamSessionId, p_role: 'user', p_content: 'x' }), '42501'],
  ];
  for (const [what, actor, fn, args, sqlstate] of cases) {
    it(`${sqlstate}: ${what}`, async () => {
      const r = await t.attemptRpc(actor(), fn, args());
      assert.ok(r.error, `${fn} succeeded`);
      assert.equal(r.error.sqlstate, sqlstate, r.error.message);
    });
  }

  it('42501 where RLS itself refuses: an admin without a second factor writes an invitation directly', async () => {
    const r = await t.attempt(w.users['A.admin'], `insert into public.team_invitations (team_id, email) values ($1, 'y@example.test')`, [w.A.teamId]);
    assert.equal(r.error?.sqlstate, '42501');
  });
});
