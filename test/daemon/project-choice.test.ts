// No folder is mapped into a project its user did not choose, on the daemon's side: a folder whose git remote matches a team project the user has not
// chosen is not mapped; resolveProject answers ProjectChoiceNeeded with the candidates and their teams, and
// chooseProject (a candidate, or personal) is the answer, remembered.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcError } from '../../daemon/src/protocol/errors.js';
import { chooseProject, forgetProjects, resolveProject } from '../../daemon/src/workspace/project.js';
import { freshDb, storeAs, type TestDb } from '../support/db.js';


describe('workspace projects: asking before a team project', function () {
  this.timeout(120_000);
  let t: TestDb;
  let dir: string;
  before(async () => {
    t = await freshDb();
    dir = await mkdtemp(join(tmpdir(), 'cairn-choice-'));
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function clone(name: string): Promise<string> {
    const root = join(dir, name);
    await mkdir(join(root, '.git'), { recursive: true });
    await writeFile(join(root, '.git', 'config'), '[remote "origin"]\n\turl = git@github.com:victim/repo.git\n');
    return root;
  }

  it('answers ProjectChoiceNeeded naming the team, then maps the folder as the user answers', async () => {
    const [stranger, victim] = [await t.createUser('stranger'), await t.createUser('victim')];
    const team = await t.rpc<{ id: string }>(stranger, 'create_team', { p_name: 'Trap' });
    const trap = await t.rpc<{ id: string }>(stranger, 'ensure_project', { p_root_uri: 'file:///x', p_name: 'trap', p_git_remote: 'github.com/victim/repo', p_team_id: team.id });
    await t.admin(`insert into public.team_members (team_id, user_id, role) values ($1, $2, 'member')`, [team.id, victim.id]);
    const store = storeAs(t, victim);
    const root = await clone('repo');

    let err: unknown;
    await resolveProject(store, root).catch((e: unknown) => (err = e));
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.codeName, 'ProjectChoiceNeeded');
    assert.match(err.message, /project of team Trap, which you have not used with this folder/);
    assert.deepEqual(err.data, { root, gitRemote: 'github.com/victim/repo', candidates: [{ projectId: trap.id, projectName: 'trap', teamId: team.id, teamName: 'Trap' }] });

    const personal = await chooseProject(store, root, { projectId: null, personal: true });
    assert.equal(personal.teamId, null);
    forgetProjects(store);
    assert.equal((await resolveProject(store, root)).id, personal.id, 'the answer is remembered');

    const chosen = await chooseProject(store, root, { projectId: trap.id });
    assert.deepEqual([chosen.id, chosen.teamId], [trap.id, team.id]);
  });
});
