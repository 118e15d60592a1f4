/**
 * Team mode end to end on the local Supabase test servers: the shared-session scenarios through the real
 * supabase-js and SupabaseStore, plus what only a local project can stage: token expiry mid-session, a
 * revoked session, a dropped Realtime socket, a schema that is behind, and the network going down.
 */
import assert from 'node:assert/strict';
import { SupabaseStore } from '../../daemon/src/store/supabase.js';
import { StoreError } from '../../daemon/src/store/types.js';
import { rpcUntyped } from '../support/db.js';
import { ChangeLog, shippedMigrations, signIn, signUp, sleep, startProject, storeFor, type Project } from './harness.js';
import { buildTeam, expectFailure, join, leaveAll, postLatencies, removalCutsOff, shareAndReplyLive, viewerReadsOnly, type Team, type World } from './scenarios.js';

interface Row {
  id: string;
  [k: string]: unknown;
}

describe('team mode on the Supabase test servers', function () {
  this.timeout(120_000);
  let project: Project;
  let world: World;
  let team: Team;

  before(async () => {
    project = await startProject({ refreshTokenReuseIntervalSeconds: 0 });
    world = { project, person: (name) => signUp(project, name) };
    team = await buildTeam(world, 'acme');
  });

  after(async () => {
    if (team) await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project?.close();
  });

  it('A shares a session, B sees it live and replies, A sees the reply live; the outsider gets nothing', async () => {
    await shareAndReplyLive(team);
  });

  it('a viewer reads a team session live but cannot post or rename', async () => {
    await viewerReadsOnly(team);
  });

  it('delivers a teammate\'s message to the others within a second (p95 of 20)', async () => {
    const session = await team.owner.store.rpc('create_session', { p_project_id: team.projectId, p_title: 'Latency', p_visibility: 'team' });
    const latencies = await postLatencies(team.member, team.viewer, session.id, 20, 3000);
    latencies.sort((a, b) => a - b);
    const p50 = latencies[10]!;
    const p95 = latencies[18]!;
    console.log(`      post-to-teammate latency: p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms`);
    assert.ok(p95 < 1000, `p95 ${p95} ms`);
  });

  it('removing B from the team cuts B off at once (list, reads, writes, realtime)', async () => {
    await removalCutsOff(team);
  });

  it('an expired access token costs one refresh round, shared by concurrent calls and the Realtime channel', async () => {
    const servers = project.servers!;
    const person = await signUp(project, 'expiring');
    servers.auth.accessTokenTtlSeconds = 2;
    try {
      await person.auth.auth.refreshSession();
    } finally {
      servers.auth.accessTokenTtlSeconds = 3600;
    }
    const m = await join(world, person);
    try {
      const rounds = person.refreshRounds;
      await sleep(2500);
      const results = await Promise.all(Array.from({ length: 5 }, () => m.store.rpc('list_sessions', {})));
      assert.equal(results.length, 5);
      await sleep(500);
      assert.equal(person.refreshRounds - rounds, 1, 'five calls and a channel that saw the expiry asked the client once');
      assert.equal(m.store.user()?.id, person.id);
    } finally {
      await leaveAll([m]);
    }
  });

  it('a Realtime channel closed by token expiry comes back live after one refresh round', async () => {
    const servers = project.servers!;
    const person = await signUp(project, 'sleepy');
    servers.auth.accessTokenTtlSeconds = 2;
    try {
      await person.auth.auth.refreshSession();
    } finally {
      servers.auth.accessTokenTtlSeconds = 3600;
    }
    const m = await join(world, person);
    try {
      const rounds = person.refreshRounds;
      await sleep(2500);
      // Realtime closed the channel at expiry; the store rejoins, is refused, and asks for a fresh token once.
      const writer = await storeFor(project, person);
      try {
        const mark = m.log.events.length;
        for (let i = 0; i < 40 && person.refreshRounds === rounds; i++) await sleep(250);
        assert.equal(person.refreshRounds - rounds, 1);
        const live = await writer.rpc('create_session', { p_title: 'are you there?' });
        // realtime-js retries a refused join with growing pauses (1 s, 2 s, 5 s).
        let seen = false;
        for (let i = 0; i < 12 && !seen; i++) {
          const again = await writer.rpc('rename_session', { p_session_id: live.id, p_title: `ping ${i}` });
          seen = await m.log.waitFor((e) => e.record.id === again.id, 1000, 'the session event', mark).then(() => true, () => false);
        }
        assert.ok(seen, 'events flow again on the rejoined channel');
      } finally {
        await writer.close();
      }
    } finally {
      await leaveAll([m]);
    }
  });

  it('signing out stops the live feed at once', async () => {
    const person = await signUp(project, 'leaving');
    const m = await join(world, person);
    const writer = await storeFor(project, person);
    try {
      const before = await writer.rpc('create_session', { p_title: 'seen' });
      await m.log.waitFor((e) => e.record.id === before.id, 3000, 'the event while signed in');
      m.store.clearSession();
      await sleep(200);
      const after = await writer.rpc('create_session', { p_title: 'not seen' });
      const probe = await writer.rpc('rename_session', { p_session_id: after.id, p_title: 'still not seen' });
      await sleep(500);
      assert.ok(!m.log.events.some((e) => e.record.id === probe.id), 'no event reaches a signed-out store');
      await expectFailure(m.store.rpc('list_sessions', {}), ['not_signed_in'], 'a call after sign-out');
    } finally {
      await writer.close();
      await leaveAll([m]);
    }
  });

  it('a revoked session (signed out everywhere) ends in not_signed_in after one refresh attempt', async () => {
    const servers = project.servers!;
    const person = await signUp(project, 'revoked');
    const m = await join(world, person);
    try {
      // Signed out everywhere from another device: this device's refresh token dies with its session.
      const laptop = await signIn(project, person.email, person.password);
      const { error } = await laptop.auth.auth.signOut({ scope: 'global' });
      assert.equal(error, null);
      const expired = await servers.signToken(
        { sub: person.id, role: 'authenticated', aud: 'authenticated', email: person.email, aal: 'aal1', session_id: 'gone' },
        Math.floor(Date.now() / 1000) - 5,
      );
      m.store.setSession({ accessToken: expired });
      const rounds = person.refreshRounds;
      const err = await expectFailure(m.store.rpc('list_sessions', {}), ['not_signed_in'], 'call after revocation');
      assert.match(err.message, /sign in again/);
      assert.equal(person.refreshRounds - rounds, 1);
    } finally {
      await leaveAll([m]);
    }
  });

  it('after a dropped Realtime socket no message is lost or duplicated', async () => {
    const servers = project.servers!;
    const session = await team.owner.store.rpc('create_session', { p_project_id: team.projectId, p_title: 'Flaky wifi', p_visibility: 'team' });
    // B's chat view: applies message events once each, and re-reads by seq when told a session changed.
    const transcript: { seq: number; content: string }[] = [];
    let lastSeq = 0;
    const catchUp = async () => {
      const rows = await team.viewer.store.rpc('list_messages', { p_session_id: session.id, p_after_seq: lastSeq });
      for (const r of rows) {
        if ((r.seq as number) <= lastSeq) continue;
        transcript.push({ seq: r.seq as number, content: r.content as string });
        lastSeq = r.seq as number;
      }
    };
    const log = new ChangeLog();
    const stop = await team.viewer.store.onChange((e) => {
      log.push(e);
      if (e.record.session_id === session.id || e.record.id === session.id) void catchUp();
    });
    try {
      const m1 = await team.owner.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'one' });
      await log.waitFor((e) => e.record.id === m1.id, 3000, 'message one live');

      servers.setRealtimeDown(true);
      await sleep(200);
      assert.equal(servers.realtime.connectedClients, 0, 'every Realtime socket dropped');
      for (const text of ['two', 'three', 'four']) {
        await team.owner.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: text });
      }
      const mark = log.events.length;
      servers.setRealtimeDown(false);

      // The store rejoins by itself and announces the session that changed while it was away.
      await log.waitFor((e) => e.table === 'sessions' && e.record.id === session.id, 15_000, 'the resync after reconnect', mark);
      const m5 = await team.owner.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'five' });
      await log.waitFor((e) => e.record.id === m5.id, 5000, 'message five live after reconnect');
      await sleep(300);
      await catchUp();
      assert.deepEqual(transcript.map((t) => t.content), ['one', 'two', 'three', 'four', 'five']);
      const messageIds = log.events.filter((e) => e.table === 'messages').map((e) => e.record.id);
      assert.equal(new Set(messageIds).size, messageIds.length, 'no message event delivered twice');
    } finally {
      servers.setRealtimeDown(false);
      await stop();
    }
  });

  it('refuses a project whose schema is behind, naming `supabase db push`', async () => {
    const person = await signUp(project, 'behind');
    const future = [...shippedMigrations(), '29991231000000'];
    await assert.rejects(
      SupabaseStore.connect({ url: project.url, anonKey: project.anonKey, shippedMigrations: future }, person.session()),
      (err: unknown) => err instanceof StoreError && err.kind === 'schema_behind' && /supabase db push/.test(err.message) && /29991231000000/.test(err.message),
    );
    const store = await storeFor(project, person);
    try {
      const status = await store.schemaStatus();
      assert.equal(status.applied, status.expected);
      assert.deepEqual(status.pending, []);
    } finally {
      await store.close();
    }
  });

  it('maps PostgREST answers to typed store errors (missing function, bad input, network down)', async () => {
    const store = team.owner.store;
    await expectFailure(rpcUntyped(store, 'no_such_function', {}), ['schema_behind'], 'missing function');
    await expectFailure(store.rpc('create_session', { p_project_id: team.projectId, p_visibility: 'everyone' }), ['invalid_input'], 'bad visibility');
    await expectFailure(store.rpc('get_session', { p_session_id: '00000000-0000-4000-8000-000000000000' }), ['not_found'], 'unknown session');
    project.servers!.setOffline(true);
    try {
      const err = await expectFailure(store.rpc('list_sessions', {}), ['unavailable'], 'network down');
      assert.match(err.message, /unreachable/);
    } finally {
      project.servers!.setOffline(false);
    }
    const back = await store.rpc('list_sessions', {});
    assert.ok(Array.isArray(back));
  });
});
