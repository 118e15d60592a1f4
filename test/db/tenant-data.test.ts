// Tenant isolation, the data rules: each case is an attack that worked on the old schema, run as PostgREST runs a
// client (role authenticated with the user's own JWT claims), and what must hold instead.
import assert from 'node:assert/strict';
import { expectStoreError, withAal2, type TestDb } from '../support/db.js';
import { useWorld, type World } from './world.js';

interface Project {
  id: string;
  team_id: string | null;
}

describe('tenant isolation: data rules', function () {
  this.timeout(180_000);
  let t: TestDb;
  let w: World;
  useWorld((db, world) => {
    t = db;
    w = world;
  });

  it("rule 2: a stranger's team project with the victim's remote is never picked; the victim is asked", async () => {
    // The outsider makes a team of their own with a project claiming B's repository, and backdates it.
    const stranger = w.users.outsider;
    const team = await t.rpc<{ id: string }>(stranger, 'create_team', { p_name: 'Trap' });
    const trap = await t.rpc<Project>(stranger, 'ensure_project', { p_root_uri: 'file:///trap', p_name: 'trap', p_git_remote: 'github.com/victim/repo', p_team_id: team.id });
    const backdate = await t.attempt(stranger, `update public.projects set created_at = '2000-01-01' where id = $1`, [trap.id]);
    assert.equal(backdate.error?.kind, 'permission_denied', 'created_at is not writable by clients');
    // The victim is brought into the team (as rule 1's auto-accept did) and opens their clone.
    const victim = w.users['B.member'];
    await t.admin(`insert into public.team_members (team_id, user_id, role) values ($1, $2, 'member')`, [team.id, victim.id]);
    const args = { p_root_uri: 'file:///home/victim/repo', p_name: 'repo', p_git_remote: 'github.com/victim/repo' };
    await expectStoreError(t.rpc(victim, 'ensure_project', args), 'conflict', /not used with this folder/);
    assert.equal(await t.count('project_folders', 'user_id = $1 and project_id = $2', [victim.id, trap.id]), 0, 'nothing mapped');
    const candidates = await t.rpc<Array<{ project_id: string; team_name: string }>>(victim, 'list_project_candidates', { p_git_remote: 'github.com/victim/repo' });
    assert.deepEqual(candidates.map((c) => [c.project_id, c.team_name]), [[trap.id, 'Trap']]);
    // "Keep it personal" is remembered; the trap is never offered again for this folder.
    const own = await t.rpc<Project>(victim, 'ensure_project', { ...args, p_personal: true });
    assert.equal(own.team_id, null);
    assert.equal((await t.rpc<Project>(victim, 'ensure_project', args)).id, own.id);
  });

  it("rule 2: a folder this user already used stays with that project, even when a team's project has the remote", async () => {
    const viewer = w.users['A.viewer'];
    const args = { p_root_uri: 'file:///home/a-viewer/b-clone', p_name: 'b', p_git_remote: 'github.com/org/b' };
    const own = await t.rpc<Project>(viewer, 'ensure_project', args);
    assert.equal(own.team_id, null);
    // A's owner now makes a team A project with the same remote: the viewer's folder does not move.
    await t.rpc(w.users['A.owner'], 'ensure_project', { p_root_uri: 'file:///x/b', p_name: 'b in A', p_git_remote: 'github.com/org/b', p_team_id: w.A.teamId });
    assert.equal((await t.rpc<Project>(viewer, 'ensure_project', args)).id, own.id);
  });

  it("rule 3: a member's private session in a team project is in their own log, not the team's", async () => {
    const entries = await t.admin<{ team_id: string | null; user_id: string | null }>(
      `select team_id, user_id from public.audit_log where table_name = 'sessions' and record_id = $1`,
      [w.A.privateSessionId],
    );
    assert.ok(entries.length > 0);
    for (const e of entries) assert.deepEqual([e.team_id, e.user_id], [null, w.users['A.member'].id]);
    const seenByOwner = await t.rpc<Array<{ record_id: string }>>(w.users['A.owner'], 'list_audit_log', { p_team_id: w.A.teamId, p_limit: 1000 });
    assert.ok(!seenByOwner.some((r) => r.record_id === w.A.privateSessionId), "the team's owner does not see it");
    assert.ok(!JSON.stringify(seenByOwner).includes('A private'), 'nor its title');
  });

  it("rule 3: deleting a team agent never files others' private session titles under the actor", async () => {
    const member = w.users['A.member'];
    const s = await t.rpc<{ id: string }>(member, 'create_session', { p_project_id: w.A.projectId, p_agent_id: w.A.agentId, p_title: 'my diary' });
    await t.rpc(w.users['A.admin'], 'delete_agent', { p_agent_id: w.A.agentId });
    const adminReads = await t.query<{ new_values: unknown; old_values: unknown }>(w.users['A.admin'], 'select old_values, new_values from public.audit_log');
    assert.ok(!JSON.stringify(adminReads).includes('my diary'), "the admin's readable log holds the member's private title");
    const mine = await t.query<{ record_id: string }>(member, 'select record_id from public.audit_log where record_id = $1', [s.id]);
    assert.ok(mine.length >= 2, 'the owner reads the entries of their own session');
  });

  it('rule 8: ids a client sees are random, keys are made by the server, slugs reveal no other team', async () => {
    const [usage] = await t.query<{ id: string }>(w.users['A.member'], 'select id::text from public.api_usage limit 1');
    assert.match(usage!.id, /^[0-9a-f-]{36}$/);
    const key = await t.rpc<{ id: string; key: string; prefix: string }>(w.users['A.member'], 'create_api_key', { p_name: 'ci' });
    assert.match(key.key, /^cairn_[0-9a-f]{64}$/);
    assert.equal(key.prefix, key.key.slice(0, 10));
    const [stored] = await t.admin<{ key_hash: string }>('select key_hash from public.api_keys where id = $1', [key.id]);
    assert.notEqual(stored!.key_hash, key.key, 'only the hash is stored');
    assert.ok(!JSON.stringify(await t.admin('select * from public.api_keys')).includes(key.key), 'the key is stored nowhere');
    const same = await t.rpc<{ slug: string }>(w.users['B.owner'], 'create_team', { p_name: 'Team A' });
    assert.match(same.slug, /^team-a-[0-9a-f]{10}$/, 'the same name as another tenant’s team: no conflict, no hint');
    const hidden = await t.attempt(w.users['B.member'], `insert into public.tasks (id, project_id, title) values ($1, $2, 't')`, [w.A.taskId, w.B.projectId]);
    assert.equal(hidden.error?.kind, 'permission_denied', 'inserting with a known id is refused before it can collide');
    assert.match(hidden.error!.message, /permission denied for table/);
  });

  it('rule 9: order and attribution are the server’s', async () => {
    const member = w.users['A.member'];
    const forged = await t.attempt(member, `insert into public.messages (session_id, seq, role, content) values ($1, 2147483647, 'user', 'x')`, [w.A.teamSessionId]);
    assert.equal(forged.error?.kind, 'permission_denied');
    const m = await t.rpc<{ seq: number; author_id: string }>(member, 'append_message', { p_session_id: w.A.teamSessionId, p_role: 'user', p_content: 'next' });
    assert.equal(m.author_id, member.id);
    for (const [sql, params] of [
      ['update public.tasks set created_by = $2 where id = $1', [w.A.taskId, w.users['A.owner'].id]],
      ['update public.agents set owner_id = $2 where id = $1', [w.A.agentId, w.users['A.owner'].id]],
      ['update public.projects set owner_id = $2 where id = $1', [w.A.projectId, w.users.outsider.id]],
      ['update public.teams set created_by = $2 where id = $1', [w.A.teamId, w.users.outsider.id]],
      ['update public.profiles set email = $2 where id = $1', [member.id, 'owner@example.test']],
    ] as const) {
      const actor = sql.includes('projects') || sql.includes('teams') ? withAal2(w.users['A.owner']) : member;
      const got = await t.attempt(actor, sql, [...params]);
      assert.equal(got.error?.kind, 'permission_denied', sql);
    }
    // Who indexed a source is whoever wrote it, whatever a client names.
    const [src] = await t.query<{ indexed_by: string }>(member, 'update public.kb_sources set indexed_by = $2 where id = $1 returning indexed_by', [w.A.sourceId, w.users['A.owner'].id]);
    assert.equal(src!.indexed_by, member.id);
    // The email teammates see is Auth's.
    await t.admin(`update auth.users set email = 'new-member@example.test' where id = $1`, [member.id]);
    const members = await t.rpc<Array<{ user_id: string; email: string }>>(w.users['A.viewer'], 'list_team_members', { p_team_id: w.A.teamId });
    assert.equal(members.find((x) => x.user_id === member.id)?.email, 'new-member@example.test');
    // A team project stays with the team when its creator's account goes (no cascade through owner_id).
    const [fk] = await t.admin<{ action: string }>(
      `select confdeltype as action from pg_constraint where conrelid = 'public.projects'::regclass and contype = 'f' and conkey = array[(select attnum from pg_attribute where attrelid = 'public.projects'::regclass and attname = 'owner_id')]`,
    );
    assert.equal(fk!.action, 'n', 'projects.owner_id is ON DELETE SET NULL');
  });
});
