/**
 * Team mode in the editor: the team audit log as the owner reads it (and as a plain member is refused it),
 * and a team sign-in that survives the daemon being killed. Runs against the Supabase test servers (Auth,
 * PostgREST, Realtime over PGlite) that run.ts starts. The cases build on each other in order: an owner with a
 * team and a shared session, then a member invited to it.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TOTP, Secret } from 'otpauth';
import { cairn, ready, recordNotifications, waitFor } from './helpers.js';
import type { CairnApi } from '../../../extension/src/extension.js';

const url = () => process.env.CAIRN_TEST_SUPABASE_URL!;
const anonKey = () => process.env.CAIRN_TEST_SUPABASE_ANON_KEY!;
const password = 'correct horse battery';

async function useProject(projectUrl: string, key: string): Promise<void> {
  const c = vscode.workspace.getConfiguration('cairn');
  await c.update('supabase.url', projectUrl, vscode.ConfigurationTarget.Workspace);
  await c.update('supabase.anonKey', key, vscode.ConfigurationTarget.Workspace);
}

function daemonPid(): number {
  return (JSON.parse(readFileSync(join(process.env.CAIRN_HOME!, 'daemon.json'), 'utf8')) as { pid: number }).pid;
}

/** Signs up through the extension and waits until the daemon acts as that user against the team project. */
async function signUp(api: CairnApi, email: string, notes: { messages: string[] }): Promise<string> {
  const session = await api.auth.signInInteractive({ method: 'signup', email, password });
  assert.ok(session && typeof session === 'object', `sign-up of ${email} returned a session`);
  const client = await ready(api);
  let last: unknown = null;
  const status = await waitFor(`the daemon to act as ${email}`, async () => {
    const s = (last = await client.request('auth/status', {}));
    return s.store === 'supabase' && s.user?.email === email ? s : null;
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; auth/status: ${JSON.stringify(last)}; notifications: ${notes.messages.join(' | ')}`);
  });
  return status.user!.id;
}

type TreeNode = Parameters<CairnApi['sessions']['getTreeItem']>[0];

/** The session rows as the tree shows them, with the group ("My sessions", "Team sessions") each sits in. */
async function shownSessions(api: CairnApi): Promise<{ group: string; label: string; context: string }[]> {
  const out: { group: string; label: string; context: string }[] = [];
  const walk = async (nodes: TreeNode[], group: string) => {
    for (const n of nodes) {
      const item = api.sessions.getTreeItem(n);
      if (n.kind === 'session') out.push({ group, label: String(item.label), context: item.contextValue ?? '' });
      else if (n.kind !== 'message') await walk(await api.sessions.getChildren(n), n.kind === 'group' ? String(item.label) : group);
    }
  };
  await walk(await api.sessions.getChildren(), '');
  return out;
}

/** The table rows of the audit view (header and separator left out). */
function tableRows(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| When') && !l.startsWith('| ---'));
}

async function viewText(uri: vscode.Uri): Promise<string> {
  return (await vscode.workspace.openTextDocument(uri)).getText();
}

function markdownPreviewOpen(): boolean {
  return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(t.input.viewType)));
}

describe('teams: audit log and team mode across daemon restarts', function () {
  this.timeout(180_000);
  const stamp = Date.now();
  const ownerEmail = `owner${stamp}@example.test`;
  const memberEmail = `member${stamp}@example.test`;
  const teamName = `Audit team ${stamp}`;
  let teamId = '';
  let ownerView: vscode.Uri | undefined;
  let notes: ReturnType<typeof recordNotifications>;

  beforeEach(() => {
    notes = recordNotifications();
  });
  afterEach(() => notes.dispose());
  after(async () => {
    const api = await cairn();
    if (api.auth.current) await api.auth.signOut();
    await useProject('', '');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('explains that the audit log needs a sign-in to a team project', async () => {
    const api = await cairn();
    await ready(api);
    await useProject('', '');
    const shown = await vscode.commands.executeCommand('cairn.showAuditLog');
    assert.equal(shown, undefined);
    await waitFor(`the explanation (notifications: ${notes.messages.join(' | ')})`, () => notes.messages.some((m) => /audit logs belong to teams.*cairn\.supabase\.url/.test(m)));
  });

  it("shows the owner the team's audit log in words, newest first, a page at a time", async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    await signUp(api, ownerEmail, notes);
    // Inviting members takes a second factor (aal2), as in the sign-in suite.
    const enrolment = await api.auth.startMfaEnrolment();
    assert.ok(enrolment, 'TOTP enrolment started');
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    assert.equal(await api.auth.verifyMfa(enrolment.factorId, totp.generate()), true);
    const client = await ready(api);
    // The extension hands the aal2 token to the daemon in the background; the invitation below needs it there.
    await waitFor('the daemon to hold the aal2 token', async () => {
      const token = api.auth.current?.access_token ?? '';
      const r = await client.request('auth/setSession', { accessToken: token, refreshToken: api.auth.current?.refresh_token });
      return r.aal === 'aal2';
    });

    const team = await client.request('teams/create', { name: teamName });
    teamId = team.id;
    const root = api.ctx.workspaceRoot()!;
    const session = await client.request('sessions/create', { root, title: 'Release plan' });
    await client.request('teams/shareProject', { root, teamId });
    await vscode.commands.executeCommand('cairn.shareSession', session.id);
    await vscode.commands.executeCommand('cairn.renameSession', session.id, 'Launch plan');
    await client.request('teams/invite', { teamId, email: memberEmail, role: 'member' });

    // One team: no pick; the view opens in the Markdown preview.
    const uri = await vscode.commands.executeCommand<vscode.Uri | undefined>('cairn.showAuditLog');
    assert.ok(uri, `the command opened a view (notifications: ${notes.messages.join(' | ')})`);
    assert.equal(uri.scheme, 'cairn-audit');
    ownerView = uri;
    await waitFor('the Markdown preview', () => markdownPreviewOpen()).catch((err: Error) => {
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => `${t.label}: ${t.input?.constructor?.name} ${JSON.stringify(t.input)}`));
      throw new Error(`${err.message}; tabs: ${tabs.join(' | ')}`);
    });
    const text = await viewText(uri);
    assert.match(text, new RegExp(`^# Audit log of ${teamName}$`, 'm'));
    const rows = tableRows(text);
    const expected = [
      `invited ${memberEmail} as member`,
      'renamed session “Release plan” to “Launch plan”',
      'shared session “Release plan” with the team',
      `moved project “${root.split('/').pop()}” into the team`,
      // One transaction, one time; the creator's membership is written (by a trigger) before the team's entry.
      `created team “${teamName}”`,
      'joined the team as owner',
    ];
    const at = expected.map((what) => rows.findIndex((r) => r.endsWith(`| ${ownerEmail} | ${what} |`)));
    assert.ok(at.every((i) => i >= 0), `every change is a row in words (rows:\n${rows.join('\n')})`);
    assert.deepEqual([...at].sort((a, b) => a - b), at, `newest first (rows:\n${rows.join('\n')})`);
    assert.doesNotMatch(text, /[{}]|"visibility"|team_id/, 'no raw JSON or column names');
    assert.match(text, /Newest first: all \d+ entries\./);

    // Two at a time: "Load Older" appends the next page until the whole log is there, nothing twice.
    // The open document follows the provider's change event a moment later.
    await vscode.commands.executeCommand('cairn.showAuditLog', { teamId, pageSize: 2 });
    let paged = await waitFor('the first page of two', async () => {
      const t = await viewText(uri);
      return tableRows(t).length === 2 ? t : null;
    });
    assert.match(paged, /Older entries exist/);
    for (let i = 0; i < 10 && /Older entries exist/.test(paged); i++) {
      const before = tableRows(paged).length;
      await vscode.commands.executeCommand('cairn.showAuditLog', { teamId, loadOlder: true });
      paged = await waitFor('the next page in the view', async () => {
        const t = await viewText(uri);
        return tableRows(t).length > before || !/Older entries exist/.test(t) ? t : null;
      });
    }
    assert.deepEqual(tableRows(paged), rows, 'the paged view ends with the same rows as the full one');
    assert.ok(notes.messages.some((m) => /showing the newest 2 entries of .*audit log/.test(m)), notes.messages.join(' | '));
  });

  it('refuses a plain member the audit log with a clear message, and shows them the shared session', async function () {
    if (!teamId) this.skip();
    const api = await cairn();
    await api.auth.signOut();
    // The owner's view, still open, no longer shows what only the owner may read.
    await waitFor('the open audit view to be emptied on sign-out', async () => ownerView && /^Nothing loaded/m.test(await viewText(ownerView)));
    await signUp(api, memberEmail, notes);
    const client = await ready(api);
    const teams = await client.request('teams/list', {});
    assert.deepEqual(teams.map((t) => [t.name, t.role]), [[teamName, 'member']], 'the invitation was accepted at sign-in');

    const shown = await vscode.commands.executeCommand('cairn.showAuditLog');
    assert.equal(shown, undefined);
    await waitFor(`the refusal (notifications: ${notes.messages.join(' | ')})`, () =>
      notes.messages.some((m) => m === `Cairn: only owners and admins can read the audit log of ${teamName} (you are a member).`),
    );
    await waitFor('the shared session under Team sessions', async () =>
      (await shownSessions(api)).some((s) => s.group === 'Team sessions' && s.label === 'Launch plan' && s.context === 'session.team.other'),
    );
  });

  it('keeps the team sign-in when the daemon is killed: the new daemon acts as the same user and the tree lists the team sessions', async function () {
    if (!teamId) this.skip();
    const api = await cairn();
    const client = await ready(api);
    const me = await client.request('auth/status', {});
    assert.equal(me.user?.email, memberEmail);
    await client.request('sessions/create', { root: api.ctx.workspaceRoot()!, title: 'Member notes' });
    const expectTree = async () => {
      const rows = await shownSessions(api);
      const team = rows.find((s) => s.label === 'Launch plan');
      const own = rows.find((s) => s.label === 'Member notes');
      return team?.group === 'Team sessions' && own?.group === 'My sessions' && own.context === 'session.private.own' ? rows : null;
    };
    await waitFor('the tree before the restart', expectTree).catch(async (err: Error) => {
      throw new Error(`${err.message}; tree: ${JSON.stringify(await shownSessions(api))}`);
    });

    const before = daemonPid();
    const states: string[] = [];
    const sub = api.ctx.onDidChangeState((s) => states.push(s.kind));
    try {
      process.kill(before, 'SIGKILL');
      await waitFor('the connection to drop', () => states.includes('down'), 15_000);
      const again = await ready(api, 120_000);
      assert.notEqual(daemonPid(), before, 'a new daemon process was started');
      let last: unknown = null;
      const status = await waitFor('the new daemon to act as the same user in team mode', async () => {
        const s = (last = await again.request('auth/status', {}));
        return s.store === 'supabase' && s.user ? s : null;
      }, 60_000).catch((err: Error) => {
        const session = api.auth.current;
        throw new Error(
          `${err.message}; auth/status: ${JSON.stringify(last)}; states: ${states.join(',')}; signed in here: ${session?.user.email} ` +
            `(expires ${session?.expires_at}, now ${Math.floor(Date.now() / 1000)}); notifications: ${notes.messages.join(' | ')}`,
        );
      });
      assert.equal(status.user?.id, me.user?.id);
      assert.equal(status.user?.email, memberEmail);
      const rows = await waitFor(`the tree after the restart`, expectTree, 60_000).catch(async (err: Error) => {
        throw new Error(`${err.message}; tree: ${JSON.stringify(await shownSessions(api))}`);
      });
      assert.ok(rows.length >= 2);
    } finally {
      sub.dispose();
    }
  });
});
