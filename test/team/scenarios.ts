/**
 * The team scenarios, written once and run twice: against the local test servers (scenarios.test.ts) and
 * against a real Supabase project (live.test.ts). Everything goes through the real `@supabase/supabase-js`:
 * people sign in with it as the extension does, and each acts through a SupabaseStore as their daemon does.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { configFromEnv } from '../../daemon/src/config.js';
import { addTeamDocument, openTeamDocument } from '../../daemon/src/kb/team-documents.js';
import { addSource, prepareFaq } from '../../daemon/src/kb/documents.js';
import { localHashEmbed, vectorText } from '../../daemon/src/kb/embed.js';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { forgetGateways, gatewayBaseUrl } from '../../daemon/src/workspace/gateway-config.js';
import { chooseProject } from '../../daemon/src/workspace/project.js';
import type { SupabaseStore } from '../../daemon/src/store/supabase.js';
import { StoreError } from '../../daemon/src/store/types.js';
import {
  connectWs,
  fails,
  migratedHome,
  ok,
  removeHome,
  startDaemon,
  stopDaemon,
  waitForNotification,
  type DaemonProcess,
  type Json,
  type RawConnection,
} from '../support/daemon.js';
import { ChangeLog, reachAal2, sleep, storeFor, type Person, type Project } from './harness.js';
import { rpcUntyped } from '../support/db.js';

export interface World {
  project: Project;
  person(name: string): Promise<Person>;
}

export interface Member {
  person: Person;
  store: SupabaseStore;
  log: ChangeLog;
  stop: () => Promise<void>;
}

export interface Team {
  teamId: string;
  projectId: string;
  owner: Member;
  member: Member;
  viewer: Member;
  outsider: Member;
}

interface Row {
  id: string;
  [k: string]: unknown;
}

export async function join(world: World, person: Person): Promise<Member> {
  const store = await storeFor(world.project, person);
  const log = new ChangeLog();
  const stop = await store.onChange(log.push);
  return { person, store, log, stop };
}

export async function leaveAll(members: Member[]): Promise<void> {
  for (const m of members) {
    await m.stop().catch(() => undefined);
    await m.store.close();
  }
}

/** How long each of `n` posts by `from` in a session takes to reach `to`'s change feed, in ms, in order. */
export async function postLatencies(from: Member, to: Member, sessionId: string, n: number, timeoutMs: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const mark = to.log.events.length;
    const t0 = performance.now();
    const msg = await from.store.rpc('append_message', { p_session_id: sessionId, p_role: 'user', p_content: `ping ${i}` });
    await to.log.waitFor((e) => e.record.id === msg.id, timeoutMs, `ping ${i}`, mark);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

/** Re-reads a person's session so the store acts with the token after MFA. */
async function refreshStore(m: Member): Promise<void> {
  m.store.setSession(m.person.session());
}

export async function expectFailure(work: Promise<unknown>, kinds: StoreError['kind'][], what: string): Promise<StoreError> {
  try {
    const value = await work;
    assert.fail(`${what} should have failed, got ${JSON.stringify(value)}`);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    assert.ok(kinds.includes(err.kind), `${what}: expected ${kinds.join('|')}, got ${err.kind} (${err.sqlstate}): ${err.message}`);
    return err;
  }
}

/** Owner at aal2 creates a team and a team project, invites a member and a viewer by email; both accept. */
export async function buildTeam(world: World, tag: string): Promise<Team> {
  const [a, b, v, o] = await Promise.all([world.person(`${tag}-ann`), world.person(`${tag}-bob`), world.person(`${tag}-vic`), world.person(`${tag}-olga`)]);
  await reachAal2(a);
  const owner = await join(world, a);
  await refreshStore(owner);
  assert.equal(owner.store.user()?.aal, 'aal2');
  const team = await owner.store.rpc('create_team', { p_name: `Team ${tag}` });
  await owner.store.rpc('invite_member', { p_team_id: team.id, p_email: b.email, p_role: 'member' });
  await owner.store.rpc('invite_member', { p_team_id: team.id, p_email: v.email, p_role: 'viewer' });
  const [member, viewer, outsider] = await Promise.all([join(world, b), join(world, v), join(world, o)]);
  // Each invitee joins by their own act: they see the invitation addressed to them and accept it.
  for (const invitee of [member, viewer]) {
    const [invitation, ...more] = await invitee.store.rpc('list_my_invitations');
    assert.ok(invitation && more.length === 0 && invitation.team_id === team.id, 'one invitation, to this team');
    await invitee.store.rpc('accept_invitation', { p_invitation_id: invitation.id });
  }
  assert.deepEqual(await outsider.store.rpc('list_my_invitations'), []);
  const project = await owner.store.rpc('ensure_project', {
    p_root_uri: `file:///work/${tag}`,
    p_name: tag,
    // Normalised, as the daemon sends it (daemon/src/workspace/project.ts).
    p_git_remote: `github.com/example/${tag}`,
    p_team_id: team.id,
  });
  return { teamId: team.id, projectId: project.id, owner, member, viewer, outsider };
}

export async function shareAndReplyLive(t: Team): Promise<void> {
  const session = await t.owner.store.rpc('create_session', { p_project_id: t.projectId, p_title: 'Design review' });
  await t.owner.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'What should we build first?' });
  // Private: the member does not see it.
  const before = await t.member.store.rpc('list_sessions', { p_project_id: t.projectId });
  assert.ok(!before.some((s) => s.id === session.id), 'a private session is not listed for a teammate');

  const shared = await t.owner.store.rpc('share_session', { p_session_id: session.id, p_visibility: 'team' });
  assert.equal(shared.visibility, 'team');
  const seen = await t.member.log.waitFor((e) => e.table === 'sessions' && e.record.id === session.id && e.record.visibility === 'team', 3000, 'B to see the shared session');
  assert.equal(seen.op, 'UPDATE');
  const listed = await t.member.store.rpc('list_sessions', { p_project_id: t.projectId });
  assert.ok(listed.some((s) => s.id === session.id), 'the shared session is in B\'s list');
  const history = await t.member.store.rpc('list_messages', { p_session_id: session.id });
  assert.deepEqual(history.map((m) => m.content), ['What should we build first?']);

  const reply = await t.member.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'The search first.' });
  assert.equal(reply.seq, 2);
  const live = await t.owner.log.waitFor((e) => e.table === 'messages' && e.record.id === reply.id, 3000, 'A to see B\'s reply');
  assert.equal(live.op, 'INSERT');
  assert.equal(live.record.session_id, session.id);
  assert.equal(live.record.author_id, t.member.person.id);
  const ownerView = await t.owner.store.rpc('list_messages', { p_session_id: session.id, p_after_seq: 1 });
  assert.deepEqual(ownerView.map((m) => m.content), ['The search first.']);

  // The outsider: nothing listed, nothing delivered, every read and write refused.
  const theirs = await t.outsider.store.rpc('list_sessions', {});
  assert.ok(!theirs.some((s) => s.id === session.id));
  await expectFailure(t.outsider.store.rpc('get_session', { p_session_id: session.id }), ['not_found', 'permission_denied'], 'outsider get_session');
  await expectFailure(t.outsider.store.rpc('list_messages', { p_session_id: session.id }), ['not_found', 'permission_denied'], 'outsider list_messages');
  await expectFailure(
    t.outsider.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'let me in' }),
    ['not_found', 'permission_denied'],
    'outsider append_message',
  );
  await expectFailure(t.outsider.store.rpc('rename_session', { p_session_id: session.id, p_title: 'mine now' }), ['not_found', 'permission_denied'], 'outsider rename');
  await expectFailure(t.outsider.store.rpc('share_session', { p_session_id: session.id, p_visibility: 'private' }), ['not_found', 'permission_denied'], 'outsider unshare');
  await expectFailure(t.outsider.store.rpc('delete_session', { p_session_id: session.id }), ['not_found', 'permission_denied'], 'outsider delete');
  await sleep(300);
  assert.deepEqual(
    t.outsider.log.events.filter((e) => e.record.id === session.id || e.record.session_id === session.id),
    [],
    'the outsider receives no realtime event for the team session',
  );
  const count = await t.owner.store.rpc('list_messages', { p_session_id: session.id });
  assert.equal(count.length, 2, 'the outsider wrote nothing');
}

export async function viewerReadsOnly(t: Team): Promise<void> {
  const session = await t.owner.store.rpc('create_session', { p_project_id: t.projectId, p_title: 'Read me', p_visibility: 'team' });
  await t.owner.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'For your eyes' });
  await t.viewer.log.waitFor((e) => e.table === 'messages' && e.record.session_id === session.id, 3000, 'the viewer to see the message live');
  const read = await t.viewer.store.rpc('list_messages', { p_session_id: session.id });
  assert.deepEqual(read.map((m) => m.content), ['For your eyes']);
  await expectFailure(
    t.viewer.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'may I?' }),
    ['permission_denied'],
    'viewer append_message',
  );
  await expectFailure(t.viewer.store.rpc('rename_session', { p_session_id: session.id, p_title: 'renamed' }), ['permission_denied', 'not_found'], 'viewer rename');
  const after = await t.owner.store.rpc('list_messages', { p_session_id: session.id });
  assert.equal(after.length, 1, 'the viewer posted nothing');
}

/** Removing a member cuts them off at once: list, reads, writes and the live feed. */
export async function removalCutsOff(t: Team): Promise<void> {
  const session = await t.owner.store.rpc('create_session', { p_project_id: t.projectId, p_title: 'Before removal', p_visibility: 'team' });
  const first = await t.owner.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'still here?' });
  await t.member.log.waitFor((e) => e.record.id === first.id, 3000, 'B to see the message before removal');

  const mark = t.member.log.events.length;
  await t.owner.store.rpc('remove_team_member', { p_team_id: t.teamId, p_user_id: t.member.person.id });
  // Realtime says nothing about rows B can no longer read; the removal itself reaches B (and only B) live.
  const removal = await t.member.log.waitFor(
    (e) => e.table === 'access_changes' && e.record.reason === 'member_removed' && e.record.user_id === t.member.person.id,
    3000,
    'B to hear of the removal',
    mark,
  );
  assert.equal(removal.record.team_id, t.teamId);

  const listed = await t.member.store.rpc('list_sessions', {});
  assert.ok(!listed.some((s) => s.id === session.id), 'the team session left B\'s list');
  await expectFailure(t.member.store.rpc('list_messages', { p_session_id: session.id }), ['not_found', 'permission_denied'], 'removed member reads');
  await expectFailure(
    t.member.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'one more' }),
    ['not_found', 'permission_denied'],
    'removed member writes',
  );
  const after = await t.owner.store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'after removal' });
  await t.owner.log.waitFor((e) => e.record.id === after.id, 3000, 'A to see her own message');
  await t.viewer.log.waitFor((e) => e.record.id === after.id, 3000, 'the viewer to see it');
  await sleep(300);
  assert.ok(!t.member.log.events.some((e) => e.record.id === after.id), 'B gets no realtime event after removal');
  for (const other of [t.owner, t.viewer, t.outsider]) {
    assert.ok(!other.log.events.some((e) => e.table === 'access_changes' && e.record.id === removal.record.id), "nobody else hears of B's removal");
  }
}

/**
 * The same sharing through two real daemons, as editors use them: each person hands their session to their
 * own daemon (`auth/setSession`); the teammate's tree hears of the share, the sharer hears of the
 * teammate's post, and unsharing takes the session off the teammate's tree and open chat.
 */
export async function daemonsFollowLive(t: Team, project: Project): Promise<void> {
  const homes: string[] = [];
  const daemons: DaemonProcess[] = [];
  const conns: RawConnection[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      homes.push(await migratedHome());
      daemons.push(await startDaemon(homes[i]!));
    }
    for (const d of daemons) conns.push(await connectWs(d.info));
    const [annRpc, bobRpc] = conns as [RawConnection, RawConnection];
    const bobChat = await connectWs(daemons[1]!.info);
    conns.push(bobChat);
    for (const [conn, m] of [[annRpc, t.owner], [bobRpc, t.member]] as const) {
      await ok(conn, 'daemon/subscribe', { topics: ['sessions'] });
      const s = m.person.session();
      const signedIn = await ok(conn, 'auth/setSession', { supabaseUrl: project.url, anonKey: project.anonKey, accessToken: s.accessToken, refreshToken: s.refreshToken });
      assert.equal(signedIn.user.id, m.person.id);
    }

    const session = await ok(annRpc, 'sessions/create', { projectId: t.projectId, title: 'Through the daemons' });
    await ok(annRpc, 'sessions/share', { sessionId: session.id, visibility: 'team' });
    await waitForNotification(bobRpc, 'sessions/changed', (p) => p.sessionId === session.id && p.session?.visibility === 'team', 3000);
    assert.ok((await ok(bobRpc, 'sessions/list', {})).sessions.some((s: Json) => s.id === session.id), "the shared session is in B's tree");

    await ok(bobChat, 'sessions/subscribe', { sessionId: session.id });
    const annFrom = annRpc.notifications('sessions/changed').length;
    const sent = await ok(bobRpc, 'chat/send', { sessionId: session.id, content: 'Seen from my daemon?' });
    await waitForNotification(annRpc, 'sessions/changed', (p) => p.sessionId === session.id, 3000, annFrom);
    await waitForNotification(bobRpc, 'chat/done', (p) => p.messageId === sent.replyId, 60_000);
    const annView = await ok(annRpc, 'sessions/get', { sessionId: session.id });
    assert.ok(annView.messages.some((m: Json) => m.id === sent.messageId && m.content === 'Seen from my daemon?'));

    const treeFrom = bobRpc.notifications('sessions/changed').length;
    const chatFrom = bobChat.notifications('sessions/changed').length;
    await ok(annRpc, 'sessions/share', { sessionId: session.id, visibility: 'private' });
    const gone = (p: Json) => p.sessionId === session.id && p.change === 'deleted';
    await waitForNotification(bobRpc, 'sessions/changed', gone, 3000, treeFrom);
    await waitForNotification(bobChat, 'sessions/changed', gone, 3000, chatFrom);
    await fails(bobRpc, 'sessions/get', { sessionId: session.id }, ['NotFound']);
    await ok(annRpc, 'sessions/delete', { sessionId: session.id });
  } finally {
    for (const c of conns) await c.close().catch(() => undefined);
    for (const d of daemons) await stopDaemon(d);
    for (const h of homes) await removeHome(h);
  }
}

/**
 * Team documents in Supabase Storage, as the daemon handles them (daemon/src/kb/team-documents.ts) through
 * each person's own store: B adds a runbook, A finds it by search and downloads the same bytes; the viewer
 * cannot upload; the outsider can neither list nor download it; B's delete takes it out of Storage and the
 * index.
 */
export async function documentsFollowTeam(t: Team): Promise<void> {
  const tmp = await mkdtemp(joinPath(tmpdir(), 'cairn-docs-scenario-'));
  try {
    const config = configFromEnv({});
    const ref = { id: t.projectId, name: 'documents', teamId: t.teamId };
    const text = `# Runbook ${Date.now().toString(36)}\n\nWhen the ledger export stalls, restart the reconciliation worker.\n`;
    const path = joinPath(tmp, 'ledger-runbook.md');
    await writeFile(path, text);
    const folder = `${t.teamId}/${t.projectId}`;
    const names = async (m: Member) => (await m.store.documents().list(folder)).map((o) => o.name);

    const added = await addTeamDocument(t.member.store, t.member.store.documents(), config, ref, { path });
    assert.equal(added.storagePath, `kb-documents/${folder}/ledger-runbook.md`);
    const hits = await rpcUntyped<{ uri: string }[]>(t.owner.store, 'kb_search', {
      p_project_id: t.projectId,
      p_query: 'ledger export reconciliation worker',
      p_query_embedding: null,
      p_embedding_model: added.model,
      p_limit: 5,
    });
    assert.ok(hits.some((h) => h.uri === added.uri), `A finds B's document: ${JSON.stringify(hits.map((h) => h.uri))}`);
    const opened = await openTeamDocument(t.owner.store.documents(), ref, added.uri);
    assert.equal(opened.bytes.toString('utf8'), text, 'A downloads the bytes B uploaded');

    await expectFailure(
      addTeamDocument(t.viewer.store, t.viewer.store.documents(), config, ref, { path }),
      ['permission_denied'],
      'a viewer uploading',
    );
    assert.deepEqual(await names(t.outsider), [], 'the outsider lists nothing');
    await expectFailure(t.outsider.store.documents().download(`${folder}/ledger-runbook.md`), ['not_found', 'permission_denied'], 'the outsider downloading');

    assert.deepEqual(await t.member.store.documents().remove([`${folder}/ledger-runbook.md`]), [`${folder}/ledger-runbook.md`]);
    await t.member.store.rpc('kb_delete_sources', { p_project_id: t.projectId, p_embedding_model: added.model, p_uris: [added.uri], p_kind: 'document' });
    assert.deepEqual(await names(t.owner), []);
    await expectFailure(openTeamDocument(t.owner.store.documents(), ref, added.uri), ['not_found'], 'opening a deleted document');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Personal API keys through the Edge Function cairn-api: A's key finds what A's search finds in the team's
 * knowledge base (words and the offline vectors, as the daemon stores them), lists the projects A reads; the
 * outsider's key does not find the team's project; a revoked key is refused at once.
 */
export async function apiKeySearchesAsOwner(t: Team, project: { url: string }): Promise<void> {
  const tmp = await mkdtemp(joinPath(tmpdir(), 'cairn-api-key-scenario-'));
  const api = (path: string, key: string, body?: unknown) =>
    fetch(`${project.url}/functions/v1/cairn-api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  try {
    const marker = `rota${Date.now().toString(36)}`;
    const faq = prepareFaq(`Who picks the ${marker} release captain?`, `The ${marker} rota picks the release captain every Monday.`);
    const added = await addSource(t.owner.store, configFromEnv({}), t.projectId, faq);
    const query = `${marker} release captain`;
    const inEditor = await rpcUntyped<{ uri: string }[]>(t.owner.store, 'kb_search', {
      p_project_id: t.projectId,
      p_query: query,
      p_query_embedding: vectorText(localHashEmbed(query)),
      p_embedding_model: added.model,
      p_limit: 5,
    });
    assert.ok(inEditor.some((h) => h.uri === added.uri), 'A finds the entry');

    const created = await rpcUntyped<{ id: string; key: string }>(t.owner.store, 'create_api_key', { p_name: `live scenario ${marker}` });
    const res = await api('/search', created.key, { query, project: t.projectId, limit: 5 });
    const body = (await res.json()) as { hits: { path: string }[]; model: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.model, added.model);
    assert.deepEqual(body.hits.map((h) => h.path), inEditor.map((h) => h.uri), "the key's hits are A's");
    const projects = (await (await api('/projects', created.key)).json()) as { projects: { id: string }[] };
    assert.ok(projects.projects.some((p) => p.id === t.projectId), 'the key lists the team project');

    const rival = await rpcUntyped<{ key: string }>(t.outsider.store, 'create_api_key', { p_name: `outsider ${marker}` });
    assert.equal((await api('/search', rival.key, { query, project: t.projectId })).status, 404, "the outsider's key does not find the team's project");

    await t.owner.store.rpc('revoke_api_key', { p_key_id: created.id });
    assert.equal((await api('/search', created.key, { query, project: t.projectId })).status, 401, 'a revoked key is refused at once');
    await t.outsider.store.rpc('revoke_api_key', { p_key_id: (await rpcUntyped<{ id: string; name: string }[]>(t.outsider.store, 'list_api_keys')).find((k) => k.name === `outsider ${marker}`)!.id });
    await t.owner.store.rpc('kb_delete_sources', { p_project_id: t.projectId, p_embedding_model: added.model, p_uris: [added.uri], p_kind: 'faq' });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The team model gateway (Edge Function model-gateway, the provider key its secret): B, with no model key,
 * chats and embeds through it with B's access token; the usage A reads (model_gateway_usage) is what the
 * provider reported in those answers; B indexes a folder with the team's embedding model through it; the
 * outsider is refused; over B's budget B gets 429 (CR005, retry-after) while A is unaffected.
 */
export async function gatewayCountsUsage(t: Team, project: { url: string }, models: { chat: string; embedding: string }): Promise<void> {
  const tmp = await mkdtemp(joinPath(tmpdir(), 'cairn-gateway-scenario-'));
  const base = gatewayBaseUrl(project.url, t.teamId);
  const call = (m: Member, path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${m.person.session().accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const chat = (m: Member, text: string) => call(m, '/chat/completions', { model: models.chat, max_tokens: 8, messages: [{ role: 'user', content: text }] });
  const configure = async (extra: Record<string, unknown>) => {
    await reachAal2(t.owner.person);
    await refreshStore(t.owner);
    await t.owner.store.rpc('set_model_gateway', { p_team_id: t.teamId, p_allowed_models: [models.chat, models.embedding], p_chat_model: models.chat, ...extra });
  };
  type Usage = { user_id: string; model: string; kind: string; requests: number | string; prompt_tokens: number | string; completion_tokens: number | string };
  const usageOf = async (m: Member) =>
    (await rpcUntyped<Usage[]>(t.owner.store, 'model_gateway_usage', { p_team_id: t.teamId }))
      .filter((r) => r.user_id === m.person.id)
      .map((r) => [r.model, r.kind, Number(r.requests), Number(r.prompt_tokens), Number(r.completion_tokens)])
      .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
  try {
    await configure({ p_member_requests_per_minute: 30 });
    const r1 = await chat(t.member, 'Say OK.');
    const b1 = (await r1.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    assert.equal(r1.status, 200, JSON.stringify(b1));
    const r2 = await call(t.member, '/embeddings', { model: models.embedding, input: ['ledger export', 'reconciliation worker'] });
    const b2 = (await r2.json()) as { data: unknown[]; usage: { prompt_tokens: number } };
    assert.equal(r2.status, 200, JSON.stringify(b2));
    assert.equal(b2.data.length, 2);
    assert.deepEqual(await usageOf(t.member), [
      [models.chat, 'chat', 1, b1.usage.prompt_tokens, b1.usage.completion_tokens],
      [models.embedding, 'embedding', 1, b2.usage.prompt_tokens, 0],
    ], "A's table is what the provider reported to B");

    const r3 = await chat(t.outsider, 'hi');
    assert.equal(r3.status, 403);
    assert.equal(((await r3.json()) as { error: { code: string } }).error.code, 'CR004');

    // B's daemon indexes the team project with the team's embedding model, through the gateway.
    await configure({ p_member_requests_per_minute: 30, p_embedding_model: models.embedding });
    forgetGateways();
    const dir = joinPath(tmp, 'clone');
    await mkdir(dir);
    await writeFile(joinPath(dir, 'ledger.md'), '# Ledger\n\nWhen the ledger export stalls, restart the reconciliation worker.\n');
    await chooseProject(t.member.store, dir, { projectId: t.projectId });
    const run = await indexWorkspace({ store: t.member.store, config: configFromEnv({}), home: joinPath(tmp, 'home') }, dir);
    assert.deepEqual([run.model, run.errors, run.complete], [models.embedding, [], true]);
    const embeds = (await usageOf(t.member)).find((r) => r[1] === 'embedding')!;
    assert.ok(Number(embeds[2]) >= 2 && Number(embeds[3]) > b2.usage.prompt_tokens, `the index run is counted: ${JSON.stringify(embeds)}`);
    await t.member.store.rpc('kb_delete_sources', { p_project_id: t.projectId, p_embedding_model: run.model, p_uris: ['ledger.md'], p_kind: 'file' });

    // Over B's monthly budget: 429 with CR005 and retry-after for B, A unaffected.
    const spent = (await usageOf(t.member)).reduce((n, r) => n + Number(r[3]) + Number(r[4]), 0);
    await configure({ p_member_monthly_tokens: spent });
    const r4 = await chat(t.member, 'one more?');
    assert.equal(r4.status, 429);
    assert.ok(Number(r4.headers.get('retry-after')) > 0);
    assert.equal(((await r4.json()) as { error: { code: string } }).error.code, 'CR005');
    assert.equal((await chat(t.owner, 'Say OK.')).status, 200, 'another member is unaffected');
    await configure({ p_enabled: false });
  } finally {
    forgetGateways();
    await rm(tmp, { recursive: true, force: true });
  }
}
