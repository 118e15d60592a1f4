/**
 * SwitchableStore, the store the daemon hands its subsystems: the embedded store it opened, swapped for a
 * SupabaseStore on sign-in and back on sign-out. Real stores on both sides: a migrated PGlite home and the
 * local Supabase test servers reached through supabase-js.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSwitchableStore, type SwitchableStore } from '../../daemon/src/store/switchable.js';
import type { SupabaseStore } from '../../daemon/src/store/supabase.js';
import { StoreError } from '../../daemon/src/store/types.js';
import { resolveProject } from '../../daemon/src/workspace/project.js';
import { migratedHome, removeHome } from '../support/daemon.js';
import { ChangeLog, signUp, sleep, startProject, storeFor, type Person, type Project } from './harness.js';

interface Row {
  id: string;
  [k: string]: unknown;
}

describe('SwitchableStore (the daemon store that follows sign-in and sign-out)', function () {
  this.timeout(180_000);
  let project: Project;
  let person: Person;
  let home: string;
  let workspace: string;
  let sw: SwitchableStore;
  /** The same person acting from elsewhere (another editor), to cause team-side changes. */
  let elsewhere: SupabaseStore;

  before(async () => {
    project = await startProject();
    person = await signUp(project, 'sam');
    elsewhere = await storeFor(project, person);
    home = await migratedHome();
    workspace = await mkdtemp(join(tmpdir(), 'cairn-switch-ws-'));
    sw = await openSwitchableStore(home, { CAIRN_HOME: home });
  });

  after(async () => {
    await sw?.close();
    await elsewhere?.close();
    await project?.close();
    if (home) await removeHome(home);
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it('delegates to the current store, moves change listeners on every swap, and forgets cached projects', async () => {
    const local = sw.local;
    assert.equal(sw.mode, 'embedded');
    const localUser = sw.user();
    assert.ok(localUser);
    assert.equal(typeof sw.backup, 'function', 'backup is offered while the embedded store is current');
    const localProject = await resolveProject(sw, workspace);

    const log = new ChangeLog();
    await sw.onChange(log.push);
    const s1 = await sw.rpc('create_session', { p_project_id: localProject.id, p_title: 'local one' });
    await log.waitFor((e) => e.table === 'sessions' && e.record.id === s1.id, 3000, 'the local session');

    const team = await storeFor(project, person);
    await sw.useTeam(team);
    assert.equal(sw.mode, 'supabase');
    assert.equal(sw.user()?.id, person.id);
    assert.equal(sw.backup, undefined, 'no backup of a Supabase project from the daemon');
    const teamProject = await resolveProject(sw, workspace);
    assert.notEqual(teamProject.id, localProject.id, 'the project cache of the local store is not reused for the team project');

    const s2 = await elsewhere.rpc('create_session', { p_project_id: teamProject.id, p_title: 'made elsewhere' });
    await log.waitFor((e) => e.table === 'sessions' && e.record.id === s2.id, 3000, 'the team session, through Realtime');
    const seen = log.events.length;
    const s3 = await local.rpc('create_session', { p_project_id: localProject.id, p_title: 'local while signed in' });
    await sleep(500);
    assert.ok(!log.events.slice(seen).some((e) => e.record.id === s3.id), 'the local store no longer feeds the listener');

    await sw.useLocal();
    assert.equal(sw.mode, 'embedded');
    assert.deepEqual(sw.user(), localUser);
    await assert.rejects(team.rpc('list_sessions', {}), (err: unknown) => err instanceof StoreError && err.kind === 'unavailable', 'the team store is closed on sign-out');
    const s4 = await elsewhere.rpc('create_session', { p_project_id: teamProject.id, p_title: 'after sign-out' });
    const s5 = await sw.rpc('create_session', { p_project_id: localProject.id, p_title: 'local again' });
    await log.waitFor((e) => e.table === 'sessions' && e.record.id === s5.id, 3000, 'the local session after sign-out');
    await sleep(300);
    assert.ok(!log.events.some((e) => e.record.id === s4.id), 'team changes stop at sign-out');
    assert.equal((await resolveProject(sw, workspace)).id, localProject.id);
  });

  it('an unsubscribed listener stays unsubscribed across swaps; a second sign-in replaces the first team store', async () => {
    const log = new ChangeLog();
    const off = await sw.onChange(log.push);
    const first = await storeFor(project, person);
    await sw.useTeam(first);
    await off();
    const second = await storeFor(project, person);
    await sw.useTeam(second);
    await assert.rejects(first.rpc('list_sessions', {}), (err: unknown) => err instanceof StoreError && err.kind === 'unavailable');
    const teamProject = await resolveProject(sw, workspace);
    await elsewhere.rpc('create_session', { p_project_id: teamProject.id, p_title: 'nobody listens' });
    await sleep(500);
    assert.equal(log.events.length, 0);
    assert.equal(sw.detachedListeners, 0);
    await sw.useLocal();
  });
});
