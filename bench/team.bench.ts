/**
 * Team mode's live path on the local Supabase test servers (Auth, PostgREST and Realtime over one PGlite),
 * through the real supabase-js and the daemon's SupabaseStore: how long until a teammate's store hears of a
 * post, and of a session taken out of their view (an unshare, through `access_changes`); and a kb/search
 * in team mode, one PostgREST round trip, against the two round trips of before (the project's `kb_status`
 * read first to learn the active model), alternated in the same run over the same index. The servers run
 * in this process, so figures include their work; a real project adds its network round trips, which is
 * where the second call costs most.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigHolder, configFromEnv } from '../daemon/src/config.js';
import { indexWorkspace } from '../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../daemon/src/kb/search.js';
import { chooseProject } from '../daemon/src/workspace/project.js';
import { signUp, startProject } from '../test/team/harness.js';
import { buildTeam, leaveAll, postLatencies } from '../test/team/scenarios.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? 0;

const QUERIES = ['how does the daemon discover a running instance', 'row level security policy', 'kb_search', 'reconnect after reload', 'secret redaction'];

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
    const search = await searchRoundTrips(team);
    return {
      name: 'team',
      kbSearchMs: search,
      postToTeammateMs: { p50: pct(post, 50), p95: pct(post, 95), n: post.length, target: '< 1000 (within a second)' },
      unshareToTeammateMs: { p50: pct(unshare, 50), p95: pct(unshare, 95), n: unshare.length, target: '< 1000' },
    };
  } finally {
    await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project.close();
  }
}

/** kb/search latency in team mode: one round trip (today) and two (kb_status first, as before), alternated. */
async function searchRoundTrips(team: Awaited<ReturnType<typeof buildTeam>>): Promise<object> {
  const tmp = await mkdtemp(join(tmpdir(), 'cairn-team-bench-'));
  try {
    const root = join(tmp, 'docs');
    await mkdir(join(root, '.git'), { recursive: true });
    await writeFile(join(root, '.git', 'config'), '[remote "origin"]\n\turl = https://example.com/bench/docs.git\n');
    await cp(join(import.meta.dirname, '..', 'docs'), join(root, 'docs'), { recursive: true });
    await cp(join(import.meta.dirname, '..', 'ARCHITECTURE.md'), join(root, 'ARCHITECTURE.md'));
    await chooseProject(team.owner.store, root, { projectId: team.projectId });
    const config = configFromEnv({});
    const indexed = await indexWorkspace({ store: team.owner.store, config, home: join(tmp, 'home') }, root);
    const holder = new ConfigHolder(config);
    const one: number[] = [];
    const two: number[] = [];
    for (let round = 0; round < 8; round++) {
      for (const query of QUERIES) {
        let t0 = performance.now();
        await searchKnowledgeBase(team.owner.store, holder, { root, query });
        one.push(performance.now() - t0);
        t0 = performance.now();
        await team.owner.store.rpc('kb_status', { p_project_id: team.projectId });
        await searchKnowledgeBase(team.owner.store, holder, { root, query });
        two.push(performance.now() - t0);
      }
    }
    return {
      chunks: indexed.chunks,
      oneCall: { p50: Math.round(pct(one, 50)), p95: Math.round(pct(one, 95)), n: one.length },
      twoCalls: { p50: Math.round(pct(two, 50)), p95: Math.round(pct(two, 95)), n: two.length },
      oneOverTwoP50: Math.round((pct(one, 50) / pct(two, 50)) * 100) / 100,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
