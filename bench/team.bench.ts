/**
 * Team mode's live path on the local Supabase test servers (Auth, PostgREST and Realtime over one PGlite),
 * through the real supabase-js and the daemon's SupabaseStore: how long until a teammate's store hears of a
 * post, and of a session taken out of their view (an unshare, through `access_changes`). The servers
 * run in this process, so figures include their work; a real project adds its network round trips.
 */
import { performance } from 'node:perf_hooks';
import { signUp, startProject } from '../test/team/harness.js';
import { buildTeam, leaveAll, postLatencies } from '../test/team/scenarios.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? 0;

interface Row {
  id: string;
}

export async function run(): Promise<object> {
  const project = await startProject();
  const team = await buildTeam({ project, person: (name) => signUp(project, name) }, 'bench');
  try {
    const session = await team.owner.store.rpc('create_session', { p_project_id: team.projectId, p_title: 'Bench', p_visibility: 'team' });
    const post = await postLatencies(team.owner, team.member, session.id, 50, 5000);
    const unshare: number[] = [];
    for (let i = 0; i < 20; i++) {
      const mark = team.member.log.events.length;
      const t0 = performance.now();
      await team.owner.store.rpc('share_session', { p_session_id: session.id, p_visibility: 'private' });
      await team.member.log.waitFor((e) => e.table === 'access_changes' && e.record.session_id === session.id, 5000, `unshare ${i}`, mark);
      unshare.push(performance.now() - t0);
      await team.owner.store.rpc('share_session', { p_session_id: session.id, p_visibility: 'team' });
    }
    return {
      name: 'team',
      postToTeammateMs: { p50: pct(post, 50), p95: pct(post, 95), n: post.length, target: '< 1000 (within a second)' },
      unshareToTeammateMs: { p50: pct(unshare, 50), p95: pct(unshare, 95), n: unshare.length, target: '< 1000' },
    };
  } finally {
    await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project.close();
  }
}
