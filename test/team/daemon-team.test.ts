/**
 * Team mode through the real daemon: three daemon processes (Ann, Bob and the outsider Olga, each with its
 * own CAIRN_HOME) against the local Supabase test servers. People sign in with the real supabase-js as the
 * extension does and hand the session to their daemon (`auth/setSession`); everything after that is
 * JSON-RPC over the daemon's WebSocket, as an editor would do it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectWs,
  fails,
  migratedHome,
  ok,
  readLog,
  removeHome,
  runCli,
  startDaemon,
  testEnv,
  stopDaemon,
  type DaemonProcess,
  type Json,
  type RawConnection,
  waitForNotification,
} from '../support/daemon.js';
import { lastUserMessage, startOpenAIServer, type FakeOpenAIServer } from '../support/openai-server.js';
import { reachAal2, signUp, sleep, startProject, type Person, type Project } from './harness.js';

const DEADLINE_MS = 1500;

interface Seat {
  person: Person;
  daemon: DaemonProcess;
  /** The editor's connection: subscribed to `sessions` and `auth`. */
  rpc: RawConnection;
  /** A second connection that subscribes only to one session's topic (an open chat). */
  chat: RawConnection;
}

const changesOf = (conn: RawConnection, sessionId: string) => conn.notifications('sessions/changed').filter((n) => n.params.sessionId === sessionId);

describe('the daemon in team mode (auth/setSession, store switch, live updates)', function () {
  this.timeout(240_000);
  let project: Project;
  const seats: Seat[] = [];
  const homes: string[] = [];
  let workspace: string;
  let ann: Seat;
  let bob: Seat;
  let olga: Seat;
  let teamId: string;
  let sessionId: string;
  let model: FakeOpenAIServer;

  const handOver = (seat: Seat, extra: Record<string, unknown> = {}) =>
    ok(seat.rpc, 'auth/setSession', {
      supabaseUrl: project.url,
      anonKey: project.anonKey,
      accessToken: seat.person.session().accessToken,
      refreshToken: seat.person.session().refreshToken,
      ...extra,
    });

  /** Plays the extension: on `auth/tokenExpired`, refreshes through supabase-js and hands the new token over. */
  async function answerTokenExpiry(seat: Seat, from: number): Promise<void> {
    await waitForNotification(seat.rpc, 'auth/tokenExpired', () => true, 15_000, from);
    const { data, error } = await seat.person.auth.auth.refreshSession();
    if (error || !data.session) throw error ?? new Error('no session after refresh');
    await handOver(seat, { accessToken: data.session.access_token, refreshToken: data.session.refresh_token });
  }

  before(async () => {
    project = await startProject();
    // The teammates' model: a quick answer, or a slow one streamed over three seconds.
    model = await startOpenAIServer({
      apiKey: 'sk-team',
      responder: (body) =>
        /slowly/.test(lastUserMessage(body))
          ? { content: Array.from({ length: 30 }, (_, i) => `part${i} `), chunkDelayMs: 100 }
          : { content: ['Noted.'] },
    });
    workspace = await mkdtemp(join(tmpdir(), 'cairn-team-ws-'));
    await mkdir(join(workspace, '.git'));
    const people = await Promise.all(['ann', 'bob', 'olga'].map((n) => signUp(project, n)));
    // One migrated template, cloned per daemon (a fresh home takes ten seconds to migrate).
    for (let i = 0; i < people.length; i++) homes.push(await migratedHome());
    const daemons = await Promise.all(
      homes.map((home) => startDaemon(home, {
          env: {
            CAIRN_TOKEN_REFRESH_DEADLINE_MS: String(DEADLINE_MS),
            CAIRN_REALTIME_HEARTBEAT_MS: '1000',
            CAIRN_MODEL_BASE_URL: model.baseURL,
            CAIRN_MODEL: 'gpt-4o-mini',
            OPENAI_API_KEY: 'sk-team',
          },
        })),
    );
    for (let i = 0; i < people.length; i++) {
      const rpc = await connectWs(daemons[i]!.info);
      const chat = await connectWs(daemons[i]!.info);
      await ok(rpc, 'daemon/subscribe', { topics: ['sessions', 'auth'] });
      seats.push({ person: people[i]!, daemon: daemons[i]!, rpc, chat });
    }
    [ann, bob, olga] = seats as [Seat, Seat, Seat];
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const s of seats) console.log(`--- daemon log of ${s.person.email} (tail)\n${(await readLog(s.daemon.home)).split('\n').slice(-40).join('\n')}`);
  });

  after(async () => {
    for (const s of seats) {
      await s.rpc.close().catch(() => undefined);
      await s.chat.close().catch(() => undefined);
      await stopDaemon(s.daemon);
    }
    for (const h of homes) await removeHome(h);
    if (workspace) await rm(workspace, { recursive: true, force: true });
    await project?.close();
    await model?.close();
  });

  it('refuses a project whose schema is behind, naming `supabase db push`, and stays on the embedded store', async () => {
    const db = project.tdb!.db;
    const newest = (await db.query<{ v: string }>('select max(version) as v from supabase_migrations.schema_migrations')).rows[0]!.v;
    await db.query(`update supabase_migrations.schema_migrations set version = '19990101000000' where version = $1`, [newest]);
    try {
      const err = await fails(
        olga.rpc,
        'auth/setSession',
        { supabaseUrl: project.url, anonKey: project.anonKey, accessToken: olga.person.session().accessToken },
        ['SchemaBehind'],
      );
      assert.match(err.message, /supabase db push/);
      assert.equal(err.data.command, 'supabase db push');
    } finally {
      await db.query(`update supabase_migrations.schema_migrations set version = $1 where version = '19990101000000'`, [newest]);
    }
    const status = await ok(olga.rpc, 'auth/status');
    assert.equal(status.store, 'embedded');
  });

  it('auth/setSession switches each daemon to the team project as its signed-in user', async () => {
    for (const seat of [ann, olga]) {
      const before = await ok(seat.rpc, 'auth/status');
      assert.equal(before.store, 'embedded');
      const r = await handOver(seat);
      assert.deepEqual(r, { store: 'supabase', user: { id: seat.person.id, email: seat.person.email }, aal: 'aal1' });
      const after = await ok(seat.rpc, 'auth/status');
      assert.deepEqual(after, { store: 'supabase', signedIn: true, user: { id: seat.person.id, email: seat.person.email } });
      assert.equal((await ok(seat.rpc, 'daemon/status')).store, 'supabase');
    }
    // Backup is a capability of the embedded store only.
    await fails(ann.rpc, 'daemon/backup', { file: join(homes[0]!, 'backup.tgz') }, ['NotImplementedInStore']);
  });

  it('teams/* through the daemon: managing members needs aal2, an invitee joins only by accepting, the audit log is for admins', async () => {
    const team = await ok(ann.rpc, 'teams/create', { name: 'Acme' });
    teamId = team.id;
    assert.equal(team.role, 'owner');
    const atAal1 = await fails(ann.rpc, 'teams/invite', { teamId, email: bob.person.email, role: 'member' }, ['PermissionDenied']);
    assert.match(atAal1.message, /aal2/);
    await fails(ann.rpc, 'teams/setRole', { teamId, userId: ann.person.id, role: 'owner' }, ['PermissionDenied']);

    // TOTP in the extension's supabase-js, then the refreshed (aal2) token handed over: same store, new token.
    await reachAal2(ann.person);
    const upgraded = await handOver(ann);
    assert.equal(upgraded.aal, 'aal2');
    await ok(ann.rpc, 'teams/invite', { teamId, email: bob.person.email, role: 'member' });

    // Signing in joins nothing: Bob sees the invitation, who sends it, to which team and role, and answers it.
    await handOver(bob);
    assert.deepEqual(await ok(bob.rpc, 'teams/list'), [], 'signing in accepts nothing');
    const [invitation, ...others] = await ok(bob.rpc, 'teams/myInvitations', {});
    assert.equal(others.length, 0);
    assert.deepEqual(
      [invitation.teamId, invitation.teamName, invitation.role, invitation.invitedBy?.id, invitation.invitedBy?.email],
      [teamId, 'Acme', 'member', ann.person.id, ann.person.email],
    );
    assert.ok(Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt) === 7 * 24 * 3600 * 1000, 'it expires after 7 days');
    assert.deepEqual(await ok(olga.rpc, 'teams/myInvitations', {}), [], "nobody else sees Bob's invitation");
    const stolen = await fails(olga.rpc, 'teams/acceptInvitation', { invitationId: invitation.id }, ['NotFound']);
    assert.match(stolen.message, /invitation not found/);
    await fails(olga.rpc, 'teams/declineInvitation', { invitationId: invitation.id }, ['NotFound']);
    const joined = await ok(bob.rpc, 'teams/acceptInvitation', { invitationId: invitation.id });
    assert.deepEqual([joined.id, joined.name, joined.role], [teamId, 'Acme', 'member']);
    await fails(bob.rpc, 'teams/acceptInvitation', { invitationId: invitation.id }, ['NotFound']);
    assert.deepEqual(await ok(bob.rpc, 'teams/myInvitations', {}), [], 'an invitation is used once');

    // Declining, from the CLI on Olga's daemon: she is invited, says no, and stays outside; the team may ask again.
    await ok(ann.rpc, 'teams/invite', { teamId, email: olga.person.email, role: 'viewer' });
    const olgaCli = (args: string[]) => runCli(['invitations', ...args], testEnv(homes[2]!));
    const listed = await olgaCli(['list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout.trim(), new RegExp(`^[0-9a-f-]{36}  Acme as viewer, from ${ann.person.email.replace(/[.]/g, '\\.')}, until \\d{4}-\\d\\d-\\d\\d$`));
    const [toOlga] = JSON.parse((await olgaCli(['--json'])).stdout) as Json[];
    const declined = await olgaCli(['decline', toOlga!.id]);
    assert.deepEqual([declined.code, declined.stdout.trim()], [0, `declined ${toOlga!.id}`]);
    assert.deepEqual(await ok(olga.rpc, 'teams/list'), []);
    const again = await olgaCli(['accept', toOlga!.id]);
    assert.equal(again.code, 1, 'a declined invitation cannot be accepted');
    assert.match(again.stderr, /invitation not found/);
    assert.deepEqual(await ok(ann.rpc, 'teams/invitations', { teamId }), [], 'a declined invitation is no longer pending');
    assert.deepEqual(
      (await ok(bob.rpc, 'teams/list')).map((t: Json) => [t.id, t.role]),
      [[teamId, 'member']],
    );

    await ok(ann.rpc, 'teams/setRole', { teamId, userId: bob.person.id, role: 'viewer' });
    await ok(ann.rpc, 'teams/setRole', { teamId, userId: bob.person.id, role: 'member' });
    const members = await ok(ann.rpc, 'teams/members', { teamId });
    assert.deepEqual(
      members.map((m: Json) => [m.userId, m.role]).sort(),
      [[ann.person.id, 'owner'], [bob.person.id, 'member']].sort(),
    );

    await fails(bob.rpc, 'teams/auditLog', { teamId }, ['PermissionDenied']);
    await fails(olga.rpc, 'teams/auditLog', { teamId }, ['PermissionDenied', 'NotFound']);
    const log = await ok(ann.rpc, 'teams/auditLog', { teamId, limit: 50 });
    const roleChanges = log.filter((e: Json) => e.table === 'team_members' && e.action === 'update');
    assert.equal(roleChanges.length, 2, 'both role changes are in the audit log');
    assert.ok(roleChanges.every((e: Json) => e.actorId === ann.person.id));
  });

  it("a shared session appears live in a teammate's daemon; the teammate's post reaches the sharer live; the outsider sees nothing", async () => {
    const shared = await ok(ann.rpc, 'teams/shareProject', { root: workspace, teamId });
    assert.equal(shared.teamId, teamId);
    const session = await ok(ann.rpc, 'sessions/create', { projectId: shared.projectId, title: 'Release plan' });
    sessionId = session.id;
    await sleep(300);
    assert.equal(changesOf(bob.rpc, sessionId).length, 0, 'a private session is not announced to teammates');

    const bobBefore = changesOf(bob.rpc, sessionId).length;
    const sharedAt = Date.now();
    const r = await ok(ann.rpc, 'sessions/share', { sessionId, visibility: 'team' });
    assert.equal(r.visibility, 'team');
    const seen = await waitForNotification(bob.rpc, 'sessions/changed', (p) => p.sessionId === sessionId && p.session?.visibility === 'team', 1000);
    const latencyMs = Date.now() - sharedAt;
    assert.equal(seen.session.title, 'Release plan');
    assert.equal(seen.session.ownerId, ann.person.id);
    assert.ok(changesOf(bob.rpc, sessionId).length > bobBefore);
    console.log(`      share → teammate's sessions/changed: ${latencyMs} ms`);
    const bobList = await ok(bob.rpc, 'sessions/list', {});
    assert.ok(bobList.sessions.some((s: Json) => s.id === sessionId), "the shared session is in Bob's list");

    // Each side opens the chat on a connection of its own that hears only this session's topic.
    await ok(ann.chat, 'sessions/subscribe', { sessionId: sessionId });
    await ok(bob.chat, 'sessions/subscribe', { sessionId: sessionId });

    const annFrom = ann.rpc.notifications('sessions/changed').length;
    const sent = await ok(bob.rpc, 'chat/send', { sessionId, content: 'Can we ship on Friday?' });
    // chat/send returns once the message is committed: the teammate hears of it within a second of that.
    const postedAt = Date.now();
    const annHeard = await waitForNotification(ann.rpc, 'sessions/changed', (p) => p.sessionId === sessionId, 1000, annFrom);
    console.log(`      teammate's chat/send → sharer's sessions/changed: ${Date.now() - postedAt} ms`);
    assert.equal(annHeard.change, 'updated');
    await waitForNotification(ann.chat, 'sessions/changed', (p) => p.sessionId === sessionId, 1000);
    await waitForNotification(bob.rpc, 'chat/done', (p) => p.messageId === sent.replyId, 30_000);
    await sleep(400);
    assert.equal(changesOf(bob.chat, sessionId).length, 0, "Bob's daemon does not echo Bob's own post back as a remote change");

    const annView = await ok(ann.rpc, 'sessions/get', { sessionId });
    const question = annView.messages.find((m: Json) => m.id === sent.messageId);
    assert.equal(question?.content, 'Can we ship on Friday?');
    assert.ok(annView.messages.some((m: Json) => m.id === sent.replyId), "Bob's daemon's reply is in Ann's view too");

    // The outsider: no notification, no row, no write.
    assert.equal(changesOf(olga.rpc, sessionId).length, 0);
    const olgaList = await ok(olga.rpc, 'sessions/list', {});
    assert.ok(!olgaList.sessions.some((s: Json) => s.id === sessionId));
    await fails(olga.rpc, 'sessions/get', { sessionId }, ['NotFound']);
    await fails(olga.rpc, 'chat/send', { sessionId, content: 'let me in' }, ['NotFound', 'PermissionDenied']);
    await fails(olga.rpc, 'sessions/rename', { sessionId, title: 'mine now' }, ['NotFound', 'PermissionDenied']);
    await fails(olga.rpc, 'sessions/subscribe', { sessionId }, ['NotFound', 'PermissionDenied']);
    const after = await ok(ann.rpc, 'sessions/get', { sessionId });
    assert.equal(after.session.title, 'Release plan');
    assert.equal(after.messages.length, annView.messages.length);
  });

  it("a teammate's rename reaches the owner live; each daemon announces its own rename exactly once", async () => {
    const marks = new Map(seats.map((seat) => [seat, changesOf(seat.rpc, sessionId).length]));
    const titled = (seat: Seat, title: string) => changesOf(seat.rpc, sessionId).slice(marks.get(seat)).filter((n) => n.params.session?.title === title);

    const renamedAt = Date.now();
    await ok(bob.rpc, 'sessions/rename', { sessionId, title: 'Release plan (Friday)' });
    await waitForNotification(ann.rpc, 'sessions/changed', (p) => p.sessionId === sessionId && p.session?.title === 'Release plan (Friday)', 1000);
    console.log(`      teammate's rename → owner's sessions/changed: ${Date.now() - renamedAt} ms`);

    await ok(ann.rpc, 'sessions/rename', { sessionId, title: 'Release plan' });
    await waitForNotification(bob.rpc, 'sessions/changed', (p) => p.sessionId === sessionId && p.session?.title === 'Release plan', 1000);
    await sleep(500);
    assert.equal(titled(bob, 'Release plan (Friday)').length, 1, "Bob's own rename: his daemon's announcement, and no echo from the change feed");
    assert.equal(titled(ann, 'Release plan (Friday)').length, 1, "Bob's rename reaches Ann once");
    assert.equal(titled(ann, 'Release plan').length, 1, "Ann's own rename is announced once");
    assert.equal(titled(bob, 'Release plan').length, 1, "Ann's rename reaches Bob once");
    assert.equal(changesOf(olga.rpc, sessionId).length, 0);
  });

  it("a teammate's open chat follows a reply streaming on another daemon within a second", async () => {
    // Bob's chat re-reads the session each time his daemon says it changed, as the extension does.
    const seen: { at: number; length: number }[] = [];
    let stop = false;
    let reads = changesOf(bob.chat, sessionId).length;
    let replyId = '';
    const follower = (async () => {
      while (!stop) {
        if (changesOf(bob.chat, sessionId).length === reads || !replyId) {
          await sleep(5);
          continue;
        }
        reads = changesOf(bob.chat, sessionId).length;
        const view = await ok(bob.rpc, 'sessions/get', { sessionId, afterSeq: 0, limit: 500 });
        const reply = view.messages.find((m: Json) => m.id === replyId);
        if (reply) seen.push({ at: Date.now(), length: reply.content.length });
      }
    })();
    // What Ann's daemon streamed, and when.
    const streamed: { at: number; length: number }[] = [];
    const from = ann.rpc.notifications('chat/delta').length;
    const sent = await ok(ann.rpc, 'chat/send', { sessionId, content: 'Explain it slowly, please.' });
    replyId = sent.replyId;
    let length = 0;
    let counted = from;
    while (!ann.rpc.notifications('chat/done').some((n) => n.params.messageId === sent.replyId)) {
      const deltas = ann.rpc.notifications('chat/delta');
      for (; counted < deltas.length; counted++) {
        if (deltas[counted]!.params.messageId !== sent.replyId) continue;
        length += deltas[counted]!.params.delta.length;
        streamed.push({ at: Date.now(), length });
      }
      await sleep(5);
    }
    await sleep(1500);
    stop = true;
    await follower;
    assert.ok(streamed.length >= 20, `the reply streamed in parts (${streamed.length})`);
    const lags = streamed.map((s) => (seen.find((b) => b.length >= s.length)?.at ?? Infinity) - s.at).sort((a, b) => a - b);
    const p50 = lags[Math.floor(lags.length / 2)]!;
    const p95 = lags[Math.floor(lags.length * 0.95)]!;
    console.log(`      reply text on Ann's daemon → in Bob's open chat: p50 ${p50} ms, p95 ${p95} ms, ${seen.length} re-reads`);
    assert.ok(p95 < 1000, `p95 ${p95} ms`);
    assert.equal(seen.at(-1)?.length, length, 'Bob ends with the whole reply');
  });

  it('sessions/get says what each person may do: the owner, a member writes, a viewer only reads', async () => {
    const annView = await ok(ann.rpc, 'sessions/get', { sessionId, limit: 50 });
    assert.equal(annView.access, 'owner');
    assert.ok(annView.messages.some((m: Json) => m.authorId === bob.person.id), "each message names its author: Bob's posts are his");
    assert.ok(annView.messages.every((m: Json) => m.authorId === ann.person.id || m.authorId === bob.person.id));
    assert.equal((await ok(bob.rpc, 'sessions/get', { sessionId, limit: 1 })).access, 'write');
    const chatFrom = bob.chat.notifications('sessions/changed').length;
    await ok(ann.rpc, 'teams/setRole', { teamId, userId: bob.person.id, role: 'viewer' });
    try {
      // Bob's open chat is told to re-read (his role changed), so it can turn read-only at once.
      await waitForNotification(bob.chat, 'sessions/changed', (p) => p.sessionId === sessionId && p.change === 'updated', 1000, chatFrom);
      const view = await ok(bob.rpc, 'sessions/get', { sessionId, limit: 1 });
      assert.equal(view.access, 'read');
      await fails(bob.rpc, 'chat/send', { sessionId, content: 'Viewers cannot post' }, ['PermissionDenied']);
    } finally {
      await ok(ann.rpc, 'teams/setRole', { teamId, userId: bob.person.id, role: 'member' });
    }
    assert.equal((await ok(bob.rpc, 'sessions/get', { sessionId, limit: 1 })).access, 'write');
    await fails(olga.rpc, 'sessions/get', { sessionId }, ['NotFound']);
  });

  it("a folder without the team's git remote joins the team project by the teammate's choice, and only theirs", async () => {
    const teamProject = await ok(ann.rpc, 'workspace/resolveProject', { root: workspace });
    assert.equal(teamProject.teamId, teamId);
    const folder = await mkdtemp(join(tmpdir(), 'cairn-team-fork-'));
    try {
      const personal = await ok(bob.rpc, 'workspace/resolveProject', { root: folder });
      assert.equal(personal.teamId, null, 'a plain folder is a personal project');
      const listed = (await ok(bob.rpc, 'workspace/listProjects')).projects;
      assert.ok(listed.some((p: Json) => p.id === teamProject.id && p.teamId === teamId), 'the team project is offered');
      assert.ok(!(await ok(olga.rpc, 'workspace/listProjects')).projects.some((p: Json) => p.id === teamProject.id), 'not to the outsider');
      await fails(olga.rpc, 'workspace/chooseProject', { root: folder, projectId: teamProject.id }, ['NotFound']);
      await fails(bob.rpc, 'workspace/chooseProject', { root: 'relative/path', projectId: teamProject.id }, ['InvalidInput']);

      const chosen = await ok(bob.rpc, 'workspace/chooseProject', { root: folder, projectId: teamProject.id });
      assert.deepEqual(chosen, { id: teamProject.id, name: teamProject.name, teamId });
      const session = await ok(bob.rpc, 'sessions/create', { root: folder, title: 'From my fork' });
      assert.equal(session.projectId, teamProject.id, 'work in the folder lands in the team project');
      await ok(bob.rpc, 'sessions/delete', { sessionId: session.id });
      assert.equal((await ok(olga.rpc, 'workspace/resolveProject', { root: folder })).teamId, null, "another user's same path is untouched");

      const back = await ok(bob.rpc, 'workspace/chooseProject', { root: folder, projectId: null });
      assert.equal(back.id, personal.id, 'forgetting the choice returns to the personal project');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("after a dropped Realtime socket, a teammate's post made meanwhile reaches the open chat once the socket is back", async () => {
    const servers = project.servers!;
    const heard = changesOf(bob.chat, sessionId).length;
    servers.setRealtimeDown(true);
    try {
      await sleep(200);
      const sent = await ok(ann.rpc, 'chat/send', { sessionId, content: 'Posted while Bob was offline.' });
      await waitForNotification(ann.rpc, 'chat/done', (p) => p.messageId === sent.replyId, 30_000);
      await sleep(300);
      assert.equal(changesOf(bob.chat, sessionId).length, heard, 'nothing arrives while the socket is down');
      servers.setRealtimeDown(false);
      // Realtime does not replay the gap: the daemon's resync after the rejoin tells the open chat to re-read.
      await waitForNotification(bob.chat, 'sessions/changed', (p) => p.sessionId === sessionId, 15_000, heard);
      const view = await ok(bob.rpc, 'sessions/get', { sessionId });
      assert.ok(view.messages.some((m: Json) => m.id === sent.messageId), "Ann's post is in Bob's view");
      assert.ok(view.messages.some((m: Json) => m.id === sent.replyId), "and so is its reply");
    } finally {
      servers.setRealtimeDown(false);
    }
  });

  it('an expired token costs one auth/tokenExpired round; the new hand-over resumes with nothing lost or duplicated', async () => {
    project.servers!.auth.accessTokenTtlSeconds = 3;
    const { data, error } = await bob.person.auth.auth.refreshSession();
    if (error || !data.session) throw error ?? new Error('no session');
    project.servers!.auth.accessTokenTtlSeconds = 3600;
    await handOver(bob, { accessToken: data.session.access_token, refreshToken: data.session.refresh_token, expiresAt: data.session.expires_at });
    const expiredFrom = bob.rpc.notifications('auth/tokenExpired').length;
    const answered = answerTokenExpiry(bob, expiredFrom);
    await sleep(3500);

    // Ann posts while Bob's token is expired.
    const heardBefore = changesOf(bob.chat, sessionId).length;
    const sent = await ok(ann.rpc, 'chat/send', { sessionId, content: 'Friday works if the migration is in.' });
    // Three calls at once on three connections, all noticing the expiry together.
    const extra = await connectWs(bob.daemon.info);
    const reads = await Promise.all([bob.rpc, bob.chat, extra].map((conn) => ok(conn, 'sessions/get', { sessionId })));
    await extra.close();
    await answered;
    assert.equal(bob.rpc.notifications('auth/tokenExpired').length - expiredFrom, 1, 'one refresh round, however many calls and channels noticed');
    const note = bob.rpc.notifications('auth/tokenExpired').at(-1)!.params;
    assert.equal(note.respondWithinMs, DEADLINE_MS);
    assert.match(note.reason, /expired/);

    await waitForNotification(ann.rpc, 'chat/done', (p) => p.messageId === sent.replyId, 30_000);
    // Bob's open chat hears about Ann's post, live or from the resync after the channel came back.
    await waitForNotification(bob.chat, 'sessions/changed', (p) => p.sessionId === sessionId, 5000, heardBefore);
    const view = await ok(bob.rpc, 'sessions/get', { sessionId });
    const seqs = view.messages.map((m: Json) => m.seq);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'no gap and no duplicate in the session');
    assert.equal(new Set(view.messages.map((m: Json) => m.id)).size, view.messages.length);
    assert.ok(view.messages.some((m: Json) => m.id === sent.messageId), "Ann's post made during the expiry is there");
    for (const r of reads) assert.ok(r.messages.length >= 2);
    assert.equal((await ok(bob.rpc, 'auth/status')).store, 'supabase');
  });

  it('when the client does not answer auth/tokenExpired in time, the waiting call fails with NotSignedIn; a new hand-over recovers', async () => {
    const from = olga.rpc.notifications('auth/tokenExpired').length;
    project.servers!.auth.accessTokenTtlSeconds = 2;
    const { data, error } = await olga.person.auth.auth.refreshSession();
    if (error || !data.session) throw error ?? new Error('no session');
    project.servers!.auth.accessTokenTtlSeconds = 3600;
    await handOver(olga, { accessToken: data.session.access_token, refreshToken: data.session.refresh_token });
    await sleep(2500);
    const started = Date.now();
    const err = await fails(olga.rpc, 'sessions/list', {}, ['NotSignedIn']);
    const waited = Date.now() - started;
    assert.match(err.message, /sign in again/);
    assert.ok(waited < DEADLINE_MS + 5000, `failed after ${waited} ms, not at the deadline`);
    assert.ok(olga.rpc.notifications('auth/tokenExpired').length > from, 'the client was asked for a fresh token before the call failed');
    assert.match(await readLog(olga.daemon.home), /no fresh Supabase session arrived in time/);

    const fresh = await olga.person.auth.auth.refreshSession();
    if (fresh.error || !fresh.data.session) throw fresh.error ?? new Error('no session');
    await handOver(olga, { accessToken: fresh.data.session.access_token, refreshToken: fresh.data.session.refresh_token });
    const list = await ok(olga.rpc, 'sessions/list', {});
    assert.ok(Array.isArray(list.sessions));
  });

  it('auth/signOut returns to the embedded store and its local user; team changes stop arriving', async () => {
    const changedFrom = ann.chat.notifications('auth/changed').length;
    await ok(ann.chat, 'daemon/subscribe', { topics: ['auth'] }); // a second window of Ann's
    const out = await ok(ann.rpc, 'auth/signOut');
    // Every window sharing the daemon hears who it acts as now.
    const told = await waitForNotification(ann.chat, 'auth/changed', () => true, 1000, changedFrom);
    assert.deepEqual(told, { store: 'embedded', signedIn: true, user: out.user });
    assert.equal(out.store, 'embedded');
    assert.notEqual(out.user?.id, ann.person.id);
    const status = await ok(ann.rpc, 'auth/status');
    assert.deepEqual(status, { store: 'embedded', signedIn: true, user: out.user });
    const local = await ok(ann.rpc, 'sessions/list', {});
    assert.ok(!local.sessions.some((s: Json) => s.id === sessionId), 'the team session is not in the local store');
    await fails(ann.rpc, 'sessions/get', { sessionId }, ['NotFound']);

    const heard = changesOf(ann.rpc, sessionId).length + changesOf(ann.chat, sessionId).length;
    const sent = await ok(bob.rpc, 'chat/send', { sessionId, content: 'Ann signed out; does she still hear this?' });
    await waitForNotification(bob.rpc, 'chat/done', (p) => p.messageId === sent.replyId, 30_000);
    await sleep(1000);
    assert.equal(changesOf(ann.rpc, sessionId).length + changesOf(ann.chat, sessionId).length, heard);

    // Signing in again picks the team project back up.
    const back = await handOver(ann);
    assert.equal(back.user.id, ann.person.id);
    const again = await waitForNotification(ann.chat, 'auth/changed', (p) => p.store === 'supabase', 1000, changedFrom);
    assert.deepEqual(again, { store: 'supabase', signedIn: true, user: { id: ann.person.id, email: ann.person.email } });
    // A refreshed token for the same user is no change.
    await handOver(ann);
    await sleep(200);
    assert.equal(ann.chat.notifications('auth/changed').length - changedFrom, 2);
    const view = await ok(ann.rpc, 'sessions/get', { sessionId });
    assert.ok(view.messages.some((m: Json) => m.id === sent.messageId));
  });

  it("unsharing a session and removing a teammate take it off the teammate's tree and open chat live", async () => {
    // Bob's editor has listed the session (the tree) and has its chat open.
    assert.ok((await ok(bob.rpc, 'sessions/list', {})).sessions.some((s: Json) => s.id === sessionId));
    const gone = (conn: RawConnection, from: number) =>
      waitForNotification(conn, 'sessions/changed', (p) => p.sessionId === sessionId && p.change === 'deleted', 1000, from);

    let treeFrom = bob.rpc.notifications('sessions/changed').length;
    let chatFrom = bob.chat.notifications('sessions/changed').length;
    const olgaHeard = changesOf(olga.rpc, sessionId).length;
    let at = Date.now();
    await ok(ann.rpc, 'sessions/share', { sessionId, visibility: 'private' });
    await gone(bob.rpc, treeFrom);
    console.log(`      unshare → teammate's tree: ${Date.now() - at} ms`);
    await gone(bob.chat, chatFrom);
    await fails(bob.rpc, 'sessions/get', { sessionId }, ['NotFound']);

    // Shared again: back in Bob's tree.
    treeFrom = bob.rpc.notifications('sessions/changed').length;
    await ok(ann.rpc, 'sessions/share', { sessionId, visibility: 'team' });
    await waitForNotification(bob.rpc, 'sessions/changed', (p) => p.sessionId === sessionId && p.session?.visibility === 'team', 1000, treeFrom);
    assert.ok((await ok(bob.rpc, 'sessions/list', {})).sessions.some((s: Json) => s.id === sessionId));

    // Removed from the team: the session leaves Bob's tree and chat at once, and every read fails.
    treeFrom = bob.rpc.notifications('sessions/changed').length;
    chatFrom = bob.chat.notifications('sessions/changed').length;
    at = Date.now();
    await ok(ann.rpc, 'teams/removeMember', { teamId, userId: bob.person.id });
    await gone(bob.rpc, treeFrom);
    console.log(`      removal → removed teammate's tree: ${Date.now() - at} ms`);
    await gone(bob.chat, chatFrom);
    assert.ok(!(await ok(bob.rpc, 'sessions/list', {})).sessions.some((s: Json) => s.id === sessionId));
    await fails(bob.rpc, 'sessions/get', { sessionId }, ['NotFound']);
    await fails(bob.rpc, 'chat/send', { sessionId, content: 'still here?' }, ['NotFound', 'PermissionDenied']);
    assert.deepEqual(await ok(bob.rpc, 'teams/list'), []);

    // Ann keeps it, and nobody who never saw it is told anything.
    assert.equal((await ok(ann.rpc, 'sessions/get', { sessionId })).session.visibility, 'team');
    assert.equal(changesOf(ann.rpc, sessionId).filter((n) => n.params.change === 'deleted').length, 0);
    assert.equal(changesOf(olga.rpc, sessionId).length, olgaHeard);
  });

  it("the same person's second machine hears their posts live; the machine that posted does not hear its own echo", async () => {
    // A reply a crashed machine of Ann's left streaming five minutes ago, and one her laptop is streaming now.
    const streaming = async (content: string) => {
      const { data, error } = await ann.person.auth.rpc('append_message', { p_session_id: sessionId, p_role: 'assistant', p_content: content, p_status: 'streaming' });
      if (error) throw new Error(error.message);
      return (data as { id: string }).id;
    };
    const abandoned = await streaming('half an answ');
    const live = await streaming('still typ');
    const db = project.tdb!.db;
    await db.exec(`set session_replication_role = replica`);
    await db.query(`update public.messages set updated_at = now() - interval '5 minutes' where id = $1`, [abandoned]);
    await db.exec(`set session_replication_role = origin`);

    // Olga's daemon becomes Ann's second machine; signing in fails only the abandoned reply.
    const second = await ok(olga.rpc, 'auth/setSession', {
      supabaseUrl: project.url,
      anonKey: project.anonKey,
      accessToken: ann.person.session().accessToken,
      refreshToken: ann.person.session().refreshToken,
    });
    assert.equal(second.user.id, ann.person.id);
    try {
      const statuses = new Map((await ok(olga.rpc, 'sessions/get', { sessionId })).messages.map((m: Json) => [m.id, m.status]));
      assert.equal(statuses.get(abandoned), 'failed', 'the reply a crash left behind is failed at sign-in');
      assert.equal(statuses.get(live), 'streaming', "the reply Ann's other machine is streaming is left alone");
      await db.query(`update public.messages set status = 'cancelled' where id = $1`, [live]);
      await sleep(300); // that change reaches both machines as a change someone else made

      await ok(olga.chat, 'sessions/subscribe', { sessionId: sessionId });
      const heardThere = olga.chat.notifications('sessions/changed').length;
      const heardHere = changesOf(ann.chat, sessionId).length;
      const sent = await ok(ann.rpc, 'chat/send', { sessionId, content: 'Sent from my laptop.' });
      await waitForNotification(olga.chat, 'sessions/changed', (p) => p.sessionId === sessionId, 1000, heardThere);
      const view = await ok(olga.rpc, 'sessions/get', { sessionId });
      assert.ok(view.messages.some((m: Json) => m.id === sent.messageId));
      await waitForNotification(ann.rpc, 'chat/done', (p) => p.messageId === sent.replyId, 30_000);
      await sleep(500);
      assert.equal(changesOf(ann.chat, sessionId).length, heardHere, "Ann's laptop streams its own reply: no echo of its post or of the reply's saves");
    } finally {
      await ok(olga.rpc, 'auth/signOut');
    }
  });
});
