// A folder mapped to a project by the user's choice: ensure_project follows it while the user can read the
// project, and falls back to the usual mapping (git remote, then a personal project by path) otherwise.
import assert from 'node:assert/strict';
import { expectStoreError, withAal2, type TestDb } from '../support/db.js';
import { useWorld, type World } from './world.js';

interface Project {
  id: string;
  team_id: string | null;
}

describe('choose_project: a folder mapped to a project by choice', function () {
  this.timeout(120_000);
  let t: TestDb;
  let w: World;
  useWorld((db, world) => {
    t = db;
    w = world;
  });

  const ensure = (who: keyof World['users'], root: string, remote: string | null = null) =>
    t.rpc<Project>(w.users[who], 'ensure_project', { p_root_uri: root, p_name: 'fork', p_git_remote: remote });

  it('maps a folder without the team remote to the team project, until the choice is forgotten', async () => {
    const root = 'file:///home/a-viewer/fork';
    const before = await ensure('A.viewer', root, 'github.com/someone/fork');
    assert.equal(before.team_id, null, 'a fork with its own remote is a personal project');

    const chosen = await t.rpc<Project>(w.users['A.viewer'], 'choose_project', { p_root_uri: root, p_project_id: w.A.projectId });
    assert.equal(chosen.id, w.A.projectId);
    assert.equal((await ensure('A.viewer', root, 'github.com/someone/fork')).id, w.A.projectId);
    assert.notEqual((await ensure('A.member', root, 'github.com/someone/fork')).id, w.A.projectId, "the choice is the chooser's alone");

    assert.equal(await t.rpc(w.users['A.viewer'], 'choose_project', { p_root_uri: root, p_project_id: null }), null);
    assert.equal((await ensure('A.viewer', root, 'github.com/someone/fork')).id, before.id, 'forgotten: back to the personal project');
  });

  it('refuses a project the user cannot read and changes nothing', async () => {
    const root = 'file:///home/outsider/peek';
    await expectStoreError(t.rpc(w.users.outsider, 'choose_project', { p_root_uri: root, p_project_id: w.A.projectId }), 'not_found', /project not found/);
    assert.equal(await t.count('project_folders', 'user_id = $1', [w.users.outsider.id]), 0);
    await expectStoreError(t.rpc(w.users.outsider, 'choose_project', { p_root_uri: '', p_project_id: w.personal.projectId }), 'invalid_input', /URI/);
  });

  it('falls back to the usual mapping once the user loses access to the chosen project', async () => {
    const root = w.folderChoice.rootUri;
    assert.equal((await ensure('A.member', root)).id, w.A.projectId);
    await t.rpc(withAal2(w.users['A.owner']), 'remove_team_member', { p_team_id: w.A.teamId, p_user_id: w.users['A.member'].id });
    const after = await ensure('A.member', root);
    assert.notEqual(after.id, w.A.projectId);
    assert.equal(after.team_id, null);
  });
});

describe('ensure_project after the folder\'s project moved into a team', function () {
  this.timeout(120_000);
  let t: TestDb;
  let w: World;
  useWorld((db, world) => {
    t = db;
    w = world;
  });

  it('keeps mapping the folder to the project its creator shared, not a new personal one', async () => {
    const owner = w.users['A.owner'];
    const root = 'file:///home/a-owner/plain-folder';
    const first = await t.rpc<Project>(owner, 'ensure_project', { p_root_uri: root, p_name: 'plain' });
    assert.equal(first.team_id, null);
    await t.rpc(withAal2(owner), 'set_project_team', { p_project_id: first.id, p_team_id: w.A.teamId });
    const again = await t.rpc<Project>(owner, 'ensure_project', { p_root_uri: root, p_name: 'plain' });
    assert.deepEqual([again.id, again.team_id], [first.id, w.A.teamId]);
    assert.equal(await t.count('projects', 'root_uri = $1', [root]), 1, 'no second project for the folder');
  });
});
