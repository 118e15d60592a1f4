/**
 * The open chat in team mode, as the editor's user notices it: a teammate's posts and rename arrive in the open
 * chat, an unshared session closes with a message and leaves the tree, and a viewer reads a team session without
 * being able to post. The teammate (Tess, the team's owner) acts through the real supabase-js against the
 * Supabase test servers that run.ts starts, as her own editor would; the editor's user signs up through the
 * extension. Its own users and team, so the other suites are unaffected; the cases build on each other in order.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { TOTP, Secret } from 'otpauth';
import { cairn, confirmEmail, joinInvitedTeam, leaveTeamProject, ready, recordNotifications, signUpInEditor, supabaseAnonKey, supabaseUrl, TEST_PASSWORD, useProject, waitFor } from './helpers.js';
import { MODEL_KEY_SECRET } from '../../../extension/src/settings.js';
import type { CairnApi } from '../../../extension/src/extension.js';

const url = supabaseUrl;
const anonKey = supabaseAnonKey;
const password = TEST_PASSWORD;

type Client = NonNullable<CairnApi['ctx']['client']>;
type TreeNode = Parameters<CairnApi['sessions']['getTreeItem']>[0];
interface Row {
  id: string;
  [k: string]: unknown;
}

/** A teammate in another editor: her own supabase-js client, calling the SQL API as herself. */
class Teammate {
  private constructor(
    readonly db: SupabaseClient,
    readonly id: string,
  ) {}

  static async signUp(email: string): Promise<Teammate> {
    const db = createClient(url(), anonKey(), { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } });
    const { data, error } = await db.auth.signUp({ email, password });
    if (error) throw error;
    // Email confirmations are on: the address is confirmed, then she signs in.
    await confirmEmail(email);
    const signedIn = await db.auth.signInWithPassword({ email, password });
    if (signedIn.error) throw signedIn.error;
    return new Teammate(db, data.user!.id);
  }

  /** Team administration (inviting, changing roles) takes a second factor. */
  async reachAal2(): Promise<void> {
    const enrolled = await this.db.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'laptop' });
    if (enrolled.error) throw enrolled.error;
    const totp = new TOTP({ secret: Secret.fromBase32(enrolled.data.totp.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    const verified = await this.db.auth.mfa.challengeAndVerify({ factorId: enrolled.data.id, code: totp.generate() });
    if (verified.error) throw verified.error;
  }

  async rpc<T = Row>(fn: string, args: Record<string, unknown>): Promise<T> {
    const { data, error } = await this.db.rpc(fn, args);
    if (error) throw new Error(`${fn} as the teammate: ${error.message}`);
    return data as T;
  }

  post(sessionId: string, content: string): Promise<Row> {
    return this.rpc('append_message', { p_session_id: sessionId, p_role: 'user', p_content: content });
  }
}


/** The session rows as the tree shows them, with the group ("My sessions", "Team sessions") each sits in. */
async function shownSessions(api: CairnApi): Promise<{ group: string; id: string; label: string }[]> {
  const out: { group: string; id: string; label: string }[] = [];
  const walk = async (nodes: TreeNode[], group: string) => {
    for (const n of nodes) {
      const item = api.sessions.getTreeItem(n);
      if (n.kind === 'session') out.push({ group, id: n.session.id, label: String(item.label) });
      else if (n.kind !== 'message') await walk(await api.sessions.getChildren(n), n.kind === 'group' ? String(item.label) : group);
    }
  };
  await walk(await api.sessions.getChildren(), '');
  return out;
}

/** Records which methods the extension asks the daemon for (the real calls still go out). */
function recordRequests(client: Client): { methods: string[]; dispose(): void } {
  const methods: string[] = [];
  const original = client.request;
  client.request = ((method, params, opts) => {
    methods.push(method);
    return original.call(client, method, params, opts);
  }) as Client['request'];
  return { methods, dispose: () => void Reflect.deleteProperty(client, 'request') };
}

const contents = (api: CairnApi) => api.chat.snapshot().entries.map((e) => e.content);

function assertNoDuplicates(api: CairnApi): void {
  const ids = api.chat.snapshot().entries.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, `every entry shown once: ${JSON.stringify(contents(api))}`);
}

describe('team chat: the open chat follows teammates, and viewers read only', function () {
  this.timeout(180_000);
  const stamp = Date.now();
  const myEmail = `chatter${stamp}@example.test`;
  let tess: Teammate;
  let teamId = '';
  let projectId = '';
  let myId = '';
  let standupId = '';
  let hadModelKey = false;
  let notes: ReturnType<typeof recordNotifications>;

  before(async () => {
    const api = await cairn();
    const client = await ready(api);
    // The editor's user asks the model too: a reply that streams while Tess posts, and one that uses a tool.
    hadModelKey = (await api.ctx.extension.secrets.get(MODEL_KEY_SECRET)) !== undefined;
    await api.ctx.extension.secrets.store(MODEL_KEY_SECRET, process.env.CAIRN_TEST_MODEL_KEY!);
    await waitFor('the daemon to hold the model key', async () => (await client.request('daemon/configure', {})).chat.hasApiKey);

    // Tess owns the team and its project, shares a session with it, and invites the editor's user as a member.
    tess = await Teammate.signUp(`tess${stamp}@example.test`);
    await tess.reachAal2();
    teamId = (await tess.rpc('create_team', { p_name: `Chat team ${stamp}` })).id;
    projectId = (await tess.rpc('ensure_project', { p_root_uri: `file:///srv/team-chat-${stamp}`, p_name: 'release-train', p_team_id: teamId })).id;
    standupId = (await tess.rpc('create_session', { p_project_id: projectId, p_title: 'Standup', p_visibility: 'team' })).id;
    await tess.post(standupId, 'Morning, team: the release is on Thursday.');
    await tess.rpc('invite_member', { p_team_id: teamId, p_email: myEmail, p_role: 'member' });
  });

  beforeEach(() => {
    notes = recordNotifications();
  });
  afterEach(() => notes.dispose());

  after(async () => {
    const api = await cairn();
    api.chat.newChat();
    await leaveTeamProject();
    if (!hadModelKey) await api.ctx.extension.secrets.delete(MODEL_KEY_SECRET);
    await tess?.db.auth.signOut();
  });

  it("shows a teammate's posts in the open chat, in order and once, beside one's own replies (streaming, or with a tool call), and follows her rename", async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    myId = await signUpInEditor(api, myEmail, notes);
    await joinInvitedTeam(api, teamId);
    await waitFor('the shared session under Team sessions', async () => (await shownSessions(api)).some((s) => s.id === standupId && s.group === 'Team sessions'));

    await vscode.commands.executeCommand('cairn.openSession', standupId);
    let snap = api.chat.snapshot();
    assert.equal(snap.sessionId, standupId, `the chat opened the session (notifications: ${notes.messages.join(' | ')})`);
    assert.equal(snap.title, 'Standup');
    assert.equal(snap.access, 'write', 'a member may post in a team session');
    assert.deepEqual(contents(api), ['Morning, team: the release is on Thursday.']);

    // Two quick posts: both arrive, in the order she wrote them.
    await tess.post(standupId, 'Can someone review PR 12 before then?');
    await tess.post(standupId, 'It touches the rebate rounding.');
    await waitFor('her two posts in the open chat', () => contents(api).length >= 3, 10_000);
    assert.deepEqual(contents(api), ['Morning, team: the release is on Thursday.', 'Can someone review PR 12 before then?', 'It touches the rebate rounding.']);
    assertNoDuplicates(api);
    // Her messages are hers, not "You": labelled with her name as the team knows it.
    assert.deepEqual(
      [...new Set(api.chat.snapshot().entries.filter((e) => e.role === 'user').map((e) => e.author))],
      [`tess${stamp}`], // her profile's display name (the part of her email before the @ when she gave none)
    );

    // She posts while the editor's user watches their own reply stream: the reply keeps streaming from its
    // deltas, her post lands after it, and nothing already shown appears twice.
    await api.chat.send('I will take it, slowly');
    await waitFor('some streamed words', () => (api.chat.snapshot().entries.at(-1)?.content.includes('word3') ? true : null), 20_000);
    await tess.post(standupId, 'Thank you!');
    await waitFor('her post during the reply', () => contents(api).includes('Thank you!'), 10_000);
    snap = api.chat.snapshot();
    assert.equal(snap.entries.find((e) => e.content === 'I will take it, slowly')?.author, undefined, "one's own message is \"You\"");
    const reply = snap.entries.find((e) => e.role === 'assistant');
    assert.ok(reply, 'the reply is shown');
    assert.equal(reply.status, 'streaming', 'the reply still streams');
    const shownSoFar = reply.content.length;
    await waitFor('the reply to keep growing from its deltas', () => (api.chat.snapshot().entries.find((e) => e.id === reply.id)?.content.length ?? 0) > shownSoFar + 10, 10_000);
    await api.chat.stop();
    await waitFor('the reply to stop', () => api.chat.snapshot().entries.find((e) => e.id === reply.id)?.status === 'cancelled', 10_000);
    assertNoDuplicates(api);

    // A reply that used a tool stays one entry with its tool call when her next post makes the chat re-read the
    // store (where the call and its result are rows of their own, after the reply).
    await api.chat.send('Who picks the release captain? Look it up.');
    const looked = await waitFor('the looked-up reply', () => {
      const e = api.chat.snapshot().entries.at(-1);
      return e?.role === 'assistant' && e.status !== 'streaming' ? e : null;
    }, 30_000);
    assert.equal(looked.status, 'complete', looked.error?.message);
    assert.deepEqual(looked.tools.map((t) => [t.name, t.status]), [['search_knowledge_base', 'done']]);
    const shownIds = api.chat.snapshot().entries.map((e) => e.id);
    const nice = await tess.post(standupId, 'Nice find.');
    await waitFor('her post after the looked-up reply', () => contents(api).includes('Nice find.'), 10_000);
    assert.deepEqual(api.chat.snapshot().entries.map((e) => e.id), [...shownIds, nice.id], 'her post is added after what was shown, nothing else changes place');
    const reread = api.chat.snapshot().entries.find((e) => e.id === looked.id)!;
    assert.deepEqual(reread.tools.map((t) => [t.name, t.status]), [['search_knowledge_base', 'done']], 'the tool call stays with its reply');
    assert.match(reread.content, /zebra rota/);

    const client = await ready(api);
    const stored = await client.request('sessions/get', { sessionId: standupId });
    // The daemon returns each reply with its tool steps folded in, as the chat shows them.
    const conversation = stored.messages;
    assert.deepEqual(conversation.find((m) => m.id === looked.id)?.tools, reread.tools, 'stored, the reply carries the same tool step');
    assert.deepEqual(
      api.chat.snapshot().entries.map((e) => [e.id, e.role]),
      conversation.map((m) => [m.id, m.role]),
      'the open chat shows what is stored, in order',
    );
    assert.deepEqual(
      conversation.filter((m) => m.role === 'user').map((m) => m.content),
      [
        'Morning, team: the release is on Thursday.',
        'Can someone review PR 12 before then?',
        'It touches the rebate rounding.',
        'I will take it, slowly',
        'Thank you!',
        'Who picks the release captain? Look it up.',
        'Nice find.',
      ],
    );

    await tess.rpc('rename_session', { p_session_id: standupId, p_title: 'Standup: Thursday release' });
    await waitFor('the open chat to take the new title', () => api.chat.snapshot().title === 'Standup: Thursday release', 10_000);
    await waitFor('the tree to take the new title', async () => (await shownSessions(api)).some((s) => s.id === standupId && s.label === 'Standup: Thursday release'));
  });

  it('closes the open chat with a clear message when its owner unshares it, and the tree drops it', async function () {
    if (!myId) this.skip();
    const api = await cairn();
    assert.equal(api.chat.snapshot().sessionId, standupId);
    await tess.rpc('share_session', { p_session_id: standupId, p_visibility: 'private' });
    const snap = await waitFor('the open chat to close', () => {
      const s = api.chat.snapshot();
      return s.sessionId === null ? s : null;
    }, 15_000);
    assert.deepEqual(snap.entries, [], 'nothing of the session stays on screen');
    assert.match(snap.error?.message ?? '', /no longer available to you/);
    assert.equal(snap.title, null);
    assert.equal(snap.access, 'owner', 'what is left is a new chat of ones own');
    await waitFor('the tree to drop the session', async () => !(await shownSessions(api)).some((s) => s.id === standupId));
  });

  it('shows a team session read-only to a viewer, refuses to send without asking the daemon, and follows role changes', async function () {
    if (!myId) this.skip();
    const api = await cairn();
    const checklistId = (await tess.rpc('create_session', { p_project_id: projectId, p_title: 'Release checklist', p_visibility: 'team' })).id;
    await tess.post(checklistId, 'Step 1: tag the release.');
    await waitFor('the checklist under Team sessions', async () => (await shownSessions(api)).some((s) => s.id === checklistId && s.group === 'Team sessions'));
    await vscode.commands.executeCommand('cairn.openSession', checklistId);
    assert.equal(api.chat.snapshot().access, 'write');

    // Tess makes the editor's user a viewer; the open chat learns it at its next re-read (her next post).
    await tess.rpc('set_member_role', { p_team_id: teamId, p_user_id: myId, p_role: 'viewer' });
    await tess.post(checklistId, 'Step 2: publish the notes.');
    await waitFor('the open chat to turn read-only', () => api.chat.snapshot().access === 'read' && contents(api).includes('Step 2: publish the notes.'), 10_000);

    const client = await ready(api);
    const calls = recordRequests(client);
    try {
      await api.chat.send('May I add step 3?');
    } finally {
      calls.dispose();
    }
    assert.deepEqual(calls.methods, [], 'the refusal did not reach the daemon');
    const snap = api.chat.snapshot();
    assert.match(snap.error?.message ?? '', /you can read this team session, but posting needs the member role/);
    assert.deepEqual(contents(api), ['Step 1: tag the release.', 'Step 2: publish the notes.'], 'nothing was added to the chat');
    const stored = await tess.rpc<Row[]>('list_messages', { p_session_id: checklistId });
    assert.equal(stored.length, 2, 'nothing was posted');

    // Opened afresh, it is read-only from the start.
    api.chat.newChat();
    assert.equal(api.chat.snapshot().access, 'owner', 'a new chat is ones own');
    await vscode.commands.executeCommand('cairn.openSession', checklistId);
    assert.equal(api.chat.snapshot().access, 'read');
    assert.equal(api.chat.snapshot().error, null, 'the old refusal went with the old chat');

    // Back to member: the next re-read lets them post again.
    await tess.rpc('set_member_role', { p_team_id: teamId, p_user_id: myId, p_role: 'member' });
    await tess.post(checklistId, 'Step 3: you can add steps again.');
    await waitFor('the open chat to accept posts again', () => api.chat.snapshot().access === 'write' && contents(api).includes('Step 3: you can add steps again.'), 10_000);
  });
});
