/**
 * Team mode in the editor: the team audit log as the owner reads it (and as a plain member is refused it),
 * a team sign-in that survives the daemon being killed, and the team commands driven as a person drives them
 * (their QuickPicks, input boxes and modals answered in the extension host). Runs against the Supabase test
 * servers (Auth, PostgREST, Realtime over PGlite) that run.ts starts. The cases of each block build on each
 * other in order.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TOTP, Secret } from 'otpauth';
import { cairn, daemonPid, joinInvitedTeam, leaveTeamProject, ready, recordNotifications, signUpInEditor, supabaseAnonKey, supabaseUrl, TEST_PASSWORD, useProject, waitFor } from './helpers.js';
import type { CairnApi } from '../../../extension/src/extension.js';

const url = supabaseUrl;
const anonKey = supabaseAnonKey;
const password = TEST_PASSWORD;


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
    await leaveTeamProject();
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
    await signUpInEditor(api, ownerEmail, notes);
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
    await signUpInEditor(api, memberEmail, notes);
    const client = await ready(api);
    assert.deepEqual(await client.request('teams/list', {}), [], 'signing in joins no team');
    await joinInvitedTeam(api, teamId);
    const teams = await client.request('teams/list', {});
    assert.deepEqual(teams.map((t) => [t.name, t.role]), [[teamName, 'member']], 'the member joined by accepting');

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
      // The new daemon answered initialize from its local store; the status bar follows the hand-over after it.
      await waitFor(`the status bar to name the team project after the restart (tooltip: ${api.status.tooltip})`, () =>
        api.status.tooltip.includes(`team project (Supabase), signed in as ${memberEmail}`),
      );
    } finally {
      sub.dispose();
    }
  });
});

type Item = vscode.QuickPickItem;
type Window = Record<string, (...a: unknown[]) => unknown>;

interface Script {
  /** QuickPick answers in order: each gets the rows shown (separators left out) and returns the one picked. */
  pick?: ((items: Item[], options: vscode.QuickPickOptions | undefined) => Item | undefined)[];
  /** Input box answers in order. */
  input?: ((options: vscode.InputBoxOptions) => string | undefined)[];
  /** Modal answers in order (the button pressed; undefined: Cancel). */
  modal?: (string | undefined)[];
  /** Notifications answered by pressing one of their buttons (the first whose message matches); others just show. */
  press?: { message: RegExp; button: string }[];
}

interface Seen {
  picks: { items: Item[]; options: vscode.QuickPickOptions | undefined }[];
  inputs: vscode.InputBoxOptions[];
  modals: { message: string; detail: string | undefined; buttons: string[] }[];
  notifications: { message: string; buttons: string[] }[];
  panels: vscode.WebviewPanel[];
  /** Prompts the script had no answer for (answered by dismissing them). */
  unexpected: string[];
}

/**
 * Answers the extension's prompts as a person would while `script` lasts. The suites share the extension's
 * `vscode` API object, so replacing the window's functions here is what the extension calls; non-modal
 * messages still show (and recordNotifications still sees them). Restore with `restore()`.
 */
function answerPrompts(script: Script): { seen: Seen; restore(): void } {
  const w = vscode.window as unknown as Window;
  const names = ['showQuickPick', 'showInputBox', 'showWarningMessage', 'showInformationMessage', 'showErrorMessage', 'createWebviewPanel'] as const;
  const saved = Object.fromEntries(names.map((n) => [n, w[n]!])) as Record<(typeof names)[number], (...a: unknown[]) => unknown>;
  const picks = [...(script.pick ?? [])];
  const inputs = [...(script.input ?? [])];
  const modals = [...(script.modal ?? [])];
  const seen: Seen = { picks: [], inputs: [], modals: [], notifications: [], panels: [], unexpected: [] };
  w.showQuickPick = async (items: unknown, options: unknown) => {
    const rows = ((await items) as Item[]).filter((i) => i.kind !== vscode.QuickPickItemKind.Separator);
    const o = options as vscode.QuickPickOptions | undefined;
    seen.picks.push({ items: rows, options: o });
    const next = picks.shift();
    if (!next) seen.unexpected.push(`QuickPick “${o?.title ?? o?.placeHolder}”`);
    return next?.(rows, o);
  };
  w.showInputBox = async (options: unknown) => {
    const o = (options ?? {}) as vscode.InputBoxOptions;
    seen.inputs.push(o);
    const next = inputs.shift();
    if (!next) seen.unexpected.push(`input box “${o.title ?? o.prompt}”`);
    return next?.(o);
  };
  for (const n of ['showWarningMessage', 'showInformationMessage', 'showErrorMessage'] as const) {
    w[n] = (message: unknown, ...rest: unknown[]) => {
      const opts = rest[0] && typeof rest[0] === 'object' ? (rest[0] as vscode.MessageOptions) : undefined;
      const buttons = rest.filter((r): r is string => typeof r === 'string');
      if (opts?.modal) {
        seen.modals.push({ message: String(message), detail: opts.detail, buttons });
        if (modals.length === 0) seen.unexpected.push(`modal “${String(message)}”`);
        return Promise.resolve(modals.shift());
      }
      seen.notifications.push({ message: String(message), buttons });
      const press = script.press?.find((p) => p.message.test(String(message)));
      const shown = saved[n].call(vscode.window, message, ...rest) as Thenable<string | undefined>;
      return press ? Promise.resolve(press.button) : shown;
    };
  }
  w.createWebviewPanel = (...a: unknown[]) => {
    const panel = saved.createWebviewPanel.apply(vscode.window, a) as vscode.WebviewPanel;
    seen.panels.push(panel);
    return panel;
  };
  return { seen, restore: () => names.forEach((n) => (w[n] = saved[n])) };
}

/** Runs a command from the palette with its prompts answered; fails when it asked something not scripted. */
async function runCommand<T>(command: string, script: Script, ...args: unknown[]): Promise<{ result: T; seen: Seen }> {
  const prompts = answerPrompts(script);
  try {
    const result = await vscode.commands.executeCommand<T>(command, ...args);
    assert.deepEqual(prompts.seen.unexpected, [], `${command} asked only what the script answers`);
    return { result, seen: prompts.seen };
  } finally {
    prompts.restore();
  }
}

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const byLabel = (label: string) => (items: Item[]) => {
  const item = items.find((i) => i.label === label);
  assert.ok(item, `a row “${label}” among: ${items.map((i) => i.label).join(', ')}`);
  return item;
};

/** The `aal` claim of an access token. */
function aalOf(token: string | undefined): string | undefined {
  const payload = token?.split('.')[1];
  return payload ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aal?: string }).aal : undefined;
}

/** Waits until the daemon acts with this window's aal2 token (the extension hands it over in the background). */
async function daemonAtAal2(api: CairnApi): Promise<void> {
  await waitFor('an aal2 session here', () => aalOf(api.auth.current?.access_token) === 'aal2');
  const client = await ready(api);
  await waitFor('the daemon to hold the aal2 token', async () => {
    const r = await client.request('auth/setSession', { accessToken: api.auth.current!.access_token, refreshToken: api.auth.current?.refresh_token });
    return r.aal === 'aal2';
  });
}

describe('teams: the team commands, driven from the command palette', function () {
  this.timeout(180_000);
  const stamp = Date.now();
  const leadEmail = `lead${stamp}@example.test`;
  const ivyEmail = `ivy${stamp}@example.test`;
  const vicEmail = `vic${stamp}@example.test`;
  const wesEmail = `wes${stamp}@example.test`;
  const rexEmail = `rex${stamp}@example.test`;
  const teamName = `Command team ${stamp}`;
  let team: { id: string; name: string } | undefined;
  let sharedProjectId = '';
  /** The team lead's TOTP secret, as read from the enrolment panel. */
  let leadSecret = '';
  let notes: ReturnType<typeof recordNotifications>;

  beforeEach(() => {
    notes = recordNotifications();
  });
  afterEach(() => notes.dispose());
  after(async () => {
    await leaveTeamProject();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const said = (re: RegExp) => waitFor(`a message like ${re} (notifications: ${notes.messages.join(' | ')})`, () => notes.messages.some((m) => re.test(m)));

  it('creates a team from an input box that checks the name; the status bar names the team project, not the embedded store', async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    await signUpInEditor(api, leadEmail, notes);
    // The initialize answer is from before the sign-in; the status bar follows auth/status.
    await waitFor(`the status bar to name the team project (tooltip: ${api.status.tooltip})`, () =>
      /team project \(Supabase\), signed in as lead/.test(api.status.tooltip) && !/embedded store/.test(api.status.tooltip),
    );
    const { result, seen } = await runCommand<{ id: string; name: string; role: string }>('cairn.createTeam', {
      input: [
        (o) => {
          assert.match(String(o.validateInput?.('   ')), /needs a name/);
          assert.match(String(o.validateInput?.('x'.repeat(101))), /at most 100 characters/);
          assert.equal(o.validateInput?.(teamName), null);
          return `  ${teamName}  `;
        },
      ],
    });
    assert.equal(seen.inputs[0]?.title, 'Cairn: Create Team');
    assert.equal(result.name, teamName);
    team = result;
    const client = await ready(api);
    const teams = await client.request('teams/list', {});
    assert.deepEqual(teams.map((t) => [t.name, t.role]), [[teamName, 'owner']]);
    await said(new RegExp(`created the team “${teamName}”; you are its owner`));
  });

  it('renames a team from an input box that starts with its name, and back', async function () {
    if (!team) this.skip();
    const api = await cairn();
    const client = await ready(api);
    const renamedTo = `${teamName} (renamed)`;
    const { result, seen } = await runCommand<{ id: string; name: string }>(
      'cairn.renameTeam',
      {
        input: [
          (o) => {
            assert.equal(o.value, teamName, 'the box starts with the current name');
            assert.match(String(o.validateInput?.('   ')), /needs a name/);
            return renamedTo;
          },
        ],
      },
      { teamId: team!.id },
    );
    assert.match(String(seen.inputs[0]?.title), /Rename/);
    assert.equal(result.name, renamedTo);
    assert.deepEqual((await client.request('teams/list', {})).map((t) => t.name), [renamedTo]);
    await said(new RegExp(`the team “${teamName}” is now “${renamedTo.replace(/[()]/g, '\\$&')}”`));
    await runCommand('cairn.renameTeam', { input: [() => teamName] }, { teamId: team!.id });
    assert.deepEqual((await client.request('teams/list', {})).map((t) => t.name), [teamName]);
  });

  it('explains that inviting needs a second factor, and its action sets one up (the code read from the panel)', async function () {
    if (!team) this.skip();
    const api = await cairn();
    const readCode = (o: vscode.InputBoxOptions) => {
      assert.match(String(o.title), /two-factor/);
      const html = seen.panels.at(-1)?.webview.html ?? '';
      const secret = /<code id="secret">([A-Z2-7 ]+)<\/code>/.exec(html)?.[1]?.replace(/ /g, '');
      assert.ok(secret, 'the enrolment panel shows the secret');
      leadSecret = secret;
      return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
    };
    const prompts = answerPrompts({
      input: [(o) => (assert.match(String(o.validateInput?.('ivy@')), /not an email address/), ivyEmail), readCode],
      pick: [
        (items) => {
          assert.deepEqual(items.map((i) => i.label), ['viewer', 'member', 'admin', 'owner']);
          assert.ok(items.every((i) => (i.description ?? '').length > 20), 'each role says what it may do');
          return byLabel('member')(items);
        },
      ],
      press: [{ message: /needs a second factor/, button: 'Verify or Set Up Two-Factor' }],
    });
    const { seen } = prompts;
    try {
      const invitation = await vscode.commands.executeCommand('cairn.inviteToTeam');
      assert.equal(invitation, undefined, 'no invitation at aal1');
      const refusal = seen.notifications.find((n) => /needs a second factor/.test(n.message));
      assert.ok(refusal, `the refusal explained (notifications: ${seen.notifications.map((n) => n.message).join(' | ')})`);
      assert.match(refusal.message, /^Cairn could not send the invitation: managing a team's members, or moving a project between teams, needs a second factor on this sign-in \(two-factor authentication, aal2\)/);
      assert.deepEqual(refusal.buttons, ['Verify or Set Up Two-Factor']);
      // The action runs "Cairn: Verify or Set Up Two-Factor Authentication": without a factor yet, its panel, then the code.
      await daemonAtAal2(api);
      assert.deepEqual(seen.unexpected, []);
    } finally {
      prompts.restore();
    }
    const client = await ready(api);
    assert.deepEqual(await client.request('teams/invitations', { teamId: team!.id }), [], 'nothing was sent at aal1');
  });

  it('invites three people by email and role, and withdraws one invitation from Manage Team Members', async function () {
    if (!team) this.skip();
    const api = await cairn();
    const client = await ready(api);
    for (const [email, role] of [[ivyEmail, 'member'], [vicEmail, 'viewer'], [wesEmail, 'admin']] as const) {
      const { result } = await runCommand<{ email: string; role: string } | undefined>('cairn.inviteToTeam', { input: [() => email], pick: [byLabel(role)] });
      assert.deepEqual(result && [result.email, result.role], [email, role], `invited ${email} (notifications: ${notes.messages.join(' | ')})`);
      await said(new RegExp(`invited ${email} to ${teamName} as an? ${role}\\. They see it when they sign in .* and join only if they accept it`));
    }
    const pending = async () => (await client.request('teams/invitations', { teamId: team!.id })).map((i) => [i.email, i.role]).sort();
    assert.deepEqual(await pending(), [[ivyEmail, 'member'], [vicEmail, 'viewer'], [wesEmail, 'admin']].sort());

    const { seen } = await runCommand('cairn.manageTeam', { pick: [byLabel(wesEmail), byLabel('Withdraw Invitation')] });
    const rows = seen.picks[0]!.items.map((i) => [i.label, i.description]);
    assert.deepEqual(rows[0], [leadEmail, 'owner · you'], 'members first, with role');
    assert.ok(rows.some(([l, d]) => l === vicEmail && d === 'invited as viewer'), JSON.stringify(rows));
    assert.deepEqual(await pending(), [[ivyEmail, 'member'], [vicEmail, 'viewer']].sort());
    await said(new RegExp(`withdrew the invitation of ${wesEmail} to ${teamName}`));
  });

  it("shares the folder's project with the team after a modal that says what is shared", async function () {
    if (!team) this.skip();
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const before = await client.request('workspace/resolveProject', { root });
    assert.equal(before.teamId, null, "the team lead's own, personal project for this folder");

    const cancelled = await runCommand<boolean>('cairn.shareProject', { modal: [undefined] });
    assert.equal(cancelled.result, false);
    assert.match(cancelled.seen.modals[0]!.message, new RegExp(`^Share “${before.name}” with ${teamName}\\?$`));
    assert.match(String(cancelled.seen.modals[0]!.detail), /read its knowledge base.*Private sessions stay private/);
    assert.equal((await client.request('workspace/resolveProject', { root })).teamId, null, 'Cancel changes nothing');

    const shared = await runCommand<boolean>('cairn.shareProject', { modal: ['Share'] });
    assert.equal(shared.result, true, `shared (notifications: ${notes.messages.join(' | ')})`);
    const after = await client.request('workspace/resolveProject', { root });
    assert.deepEqual([after.id, after.teamId], [before.id, team!.id]);
    sharedProjectId = after.id;
    await said(new RegExp(`“${before.name}” now belongs to ${teamName}`));
  });

  it("adds a document to the team's knowledge base (uploaded to Storage), finds it and opens the downloaded file read-only; a fake PDF is refused", async function () {
    if (!team || !sharedProjectId) this.skip();
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const dir = mkdtempSync(join(tmpdir(), 'cairn-ui-doc-'));
    const file = join(dir, 'pager-duty.md');
    const text = '# Pager duty\n\nThe on-call engineer acknowledges a page within ten minutes and opens an incident channel.\n';
    writeFileSync(file, text);
    const added = (await vscode.commands.executeCommand('cairn.addDocument', vscode.Uri.file(file))) as { uri: string; storagePath?: string } | undefined;
    assert.equal(added?.storagePath, `kb-documents/${team!.id}/${sharedProjectId}/pager-duty.md`, `uploaded (notifications: ${notes.messages.join(' | ')})`);
    await said(/added “pager-duty.md” to the team's knowledge base \(stored in the team's Supabase Storage/);

    const hit = (await client.request('kb/search', { root, query: 'acknowledges a page incident channel', limit: 5 })).find((h) => h.kind === 'document');
    assert.equal(hit?.path, 'doc:pager-duty.md');
    assert.equal(await api.documents.open(client, root, hit!.path), true);
    const editor = await waitFor('the downloaded document in an editor', () => (vscode.window.activeTextEditor?.document.uri.scheme === 'cairn-doc' ? vscode.window.activeTextEditor : null));
    assert.equal(editor.document.getText(), text);
    assert.equal(editor.document.languageId, 'markdown');

    const fake = join(dir, 'contract.pdf');
    writeFileSync(fake, 'just text, no PDF signature\n');
    assert.equal(await vscode.commands.executeCommand('cairn.addDocument', vscode.Uri.file(fake)), undefined);
    await said(/Cairn could not add the document: contract\.pdf is not a PDF/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the last owner leaving, with what to do first, and asks nothing', async function () {
    if (!team) this.skip();
    const api = await cairn();
    const { result, seen } = await runCommand<boolean>('cairn.leaveTeam', {});
    assert.equal(result, false);
    assert.deepEqual(seen.modals, [], 'no confirmation for what cannot happen');
    const refusal = seen.notifications.find((n) => /only owner/.test(n.message));
    assert.equal(
      refusal?.message,
      `Cairn: you are the only owner of ${teamName}, and a team must keep at least one owner. Make another member an owner first (Manage Team Members → Change Role).`,
    );
    assert.deepEqual(refusal?.buttons, ['Manage Team Members']);
    const client = await ready(api);
    assert.deepEqual((await client.request('teams/list', {})).map((t) => [t.name, t.role]), [[teamName, 'owner']], 'still in the team');
  });

  it('offers an invitee the invitation after sign-in with Accept and Decline; Accept joins; then maps this folder to the team project by choice, and back', async function () {
    if (!team || !sharedProjectId) this.skip();
    const api = await cairn();
    await api.auth.signOut();
    await waitFor(`the status bar back on the embedded store (tooltip: ${api.status.tooltip})`, () => /embedded store/.test(api.status.tooltip));
    const offer = new RegExp(`^Cairn: ${escapeRe(leadEmail)} invites you to join the team ${escapeRe(teamName)} as a member \\(until [^)]+\\)\\.$`);
    const prompts = answerPrompts({ press: [{ message: offer, button: 'Accept' }] });
    let client: Awaited<ReturnType<typeof ready>>;
    try {
      await signUpInEditor(api, ivyEmail, notes);
      client = await ready(api);
      await waitFor(`Ivy to join by pressing Accept (notifications: ${notes.messages.join(' | ')})`, async () => (await client.request('teams/list', {})).length > 0);
      const offered = prompts.seen.notifications.filter((n) => offer.test(n.message));
      assert.deepEqual(offered.map((n) => n.buttons), [['Accept', 'Decline']], 'offered once, with Accept and Decline');
    } finally {
      prompts.restore();
    }
    assert.deepEqual((await client.request('teams/list', {})).map((t) => [t.name, t.role]), [[teamName, 'member']], 'Ivy joined as invited');
    await said(new RegExp(`you joined ${escapeRe(teamName)} as a member`));
    assert.deepEqual(await client.request('teams/myInvitations', {}), [], 'the invitation is used up');
    const root = api.ctx.workspaceRoot()!;
    const own = await client.request('workspace/resolveProject', { root });
    assert.notEqual(own.id, sharedProjectId, 'a folder without a git remote maps to a personal project of its own');

    const chosen = await runCommand<{ id: string; teamId: string | null } | undefined>('cairn.chooseProject', {
      pick: [(items) => items.find((i) => i.description === `team ${teamName}`)],
    });
    const rows = chosen.seen.picks[0]!.items;
    assert.equal(rows[0]!.label, "Use this folder's own project");
    assert.ok(rows.some((i) => i.label === own.name && i.description === 'personal · current'), JSON.stringify(rows.map((i) => [i.label, i.description])));
    assert.deepEqual(chosen.result && [chosen.result.id, chosen.result.teamId], [sharedProjectId, team!.id]);
    assert.equal((await client.request('workspace/resolveProject', { root })).id, sharedProjectId);
    await said(new RegExp(`this folder now maps to “[^”]+” \\(team ${teamName}\\) \\(it was “${own.name}” \\(personal\\)\\)`));
    // What the mapping is for: a chat started in this folder lands in the team project.
    const session = await client.request('sessions/create', { root, title: 'Ivy in the team project' });
    assert.equal(session.projectId, sharedProjectId);
    await waitFor('the tree to list the session', async () => (await shownSessions(api)).some((s) => s.label === 'Ivy in the team project'));

    const back = await runCommand<{ id: string } | undefined>('cairn.chooseProject', { pick: [byLabel("Use this folder's own project")] });
    assert.equal(back.result?.id, own.id);
    assert.equal((await client.request('workspace/resolveProject', { root })).id, own.id);
    await said(new RegExp(`this folder now maps to “${own.name}” \\(personal\\)`));

    // The viewer joins too, for the owner to remove below: from "Show Team Invitations", in a modal.
    await api.auth.signOut();
    await signUpInEditor(api, vicEmail, notes);
    const vic = await ready(api);
    assert.deepEqual(await vic.request('teams/list', {}), [], 'signing in joins no team');
    const answered = await runCommand<{ name: string; role: string } | undefined>('cairn.showInvitations', { modal: ['Accept'] });
    const modal = answered.seen.modals[0]!;
    assert.match(modal.message, new RegExp(`^${escapeRe(leadEmail)} invites you to join the team ${escapeRe(teamName)} as a viewer \\(until [^)]+\\)\\.$`));
    assert.deepEqual(modal.buttons, ['Accept', 'Decline']);
    assert.deepEqual(answered.result && [answered.result.name, answered.result.role], [teamName, 'viewer']);
    assert.deepEqual((await vic.request('teams/list', {})).map((t) => [t.name, t.role]), [[teamName, 'viewer']]);
  });

  it("changes a member's role, and removes a member only once the modal is confirmed, as the owner at aal2", async function () {
    if (!team || !leadSecret) this.skip();
    const api = await cairn();
    await api.auth.signOut();
    await signUpInEditor(api, leadEmail, notes, 'email');
    // A new sign-in is aal1 again: the same command now asks for the code of the factor set up above.
    const stepUp = await runCommand<boolean>('cairn.enrollMfa', {
      input: [
        (o) => {
          assert.match(String(o.title), /confirm this sign-in with two-factor authentication/);
          return new TOTP({ secret: Secret.fromBase32(leadSecret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
        },
      ],
    });
    assert.equal(stepUp.result, true);
    assert.deepEqual(stepUp.seen.panels, [], 'no new factor is set up');
    await daemonAtAal2(api);
    const client = await ready(api);
    const roles = async () => Object.fromEntries((await client.request('teams/members', { teamId: team!.id })).map((m) => [m.email, m.role]));
    assert.deepEqual(await roles(), { [leadEmail]: 'owner', [ivyEmail]: 'member', [vicEmail]: 'viewer' });

    const promote = await runCommand('cairn.manageTeam', {
      pick: [
        byLabel(ivyEmail),
        (items) => {
          assert.deepEqual(items.map((i) => i.label), ['Change Role…', 'Remove from Team…']);
          return byLabel('Change Role…')(items);
        },
        (items) => {
          assert.deepEqual(items.map((i) => i.label), ['viewer', 'admin', 'owner'], 'the other roles');
          return byLabel('admin')(items);
        },
      ],
    });
    assert.deepEqual(
      promote.seen.picks[0]!.items.map((i) => [i.label, i.description]),
      [[leadEmail, 'owner · you'], [ivyEmail, 'member'], [vicEmail, 'viewer']],
      'members with email and role, owners first; no invitation is pending any more',
    );
    assert.deepEqual(await roles(), { [leadEmail]: 'owner', [ivyEmail]: 'admin', [vicEmail]: 'viewer' });
    await said(new RegExp(`${ivyEmail} is now an admin of ${teamName}`));

    const cancelled = await runCommand('cairn.manageTeam', { pick: [byLabel(vicEmail), byLabel('Remove from Team…')], modal: [undefined] });
    assert.deepEqual(cancelled.seen.modals.map((m) => [m.message, m.buttons]), [[`Remove ${vicEmail} from ${teamName}?`, ['Remove']]]);
    assert.match(String(cancelled.seen.modals[0]!.detail), /lose access .* at once/);
    assert.equal((await roles())[vicEmail], 'viewer', 'Cancel removes nobody');

    await runCommand('cairn.manageTeam', { pick: [byLabel(vicEmail), byLabel('Remove from Team…')], modal: ['Remove'] });
    assert.deepEqual(await roles(), { [leadEmail]: 'owner', [ivyEmail]: 'admin' });
    await said(new RegExp(`removed ${vicEmail} from ${teamName}`));
  });
  it('creates an API key shown once in a modal and copied to the clipboard, lists it in Manage API Keys, and revokes it there', async function () {
    if (!team) this.skip();
    const api = await cairn();
    const client = await ready(api);
    const name = `CI docs job ${stamp}`;
    const created = await runCommand<string | undefined>('cairn.createApiKey', {
      input: [() => name],
      // The projects step picks many: its answer is a list.
      pick: [(items) => [byLabel('$(globe) Every project I can read')(items)] as unknown as Item, byLabel('30 days')],
      modal: [undefined],
    });
    assert.ok(created.result, `created (notifications: ${notes.messages.join(' | ')})`);
    assert.deepEqual(created.seen.inputs.map((o) => o.title), ['Cairn: Create API Key (1/3)']);
    const shown = created.seen.modals[0]!;
    assert.equal(shown.message, `API key "${name}" created and copied to the clipboard.`);
    assert.match(String(shown.detail), /only time it is shown; Cairn keeps only its hash/);
    const key = /\b(cairn_[0-9a-f]{64})\b/.exec(String(shown.detail))?.[1];
    assert.ok(key, 'the modal shows the key');
    assert.equal(await vscode.env.clipboard.readText(), key, 'the key is on the clipboard');

    const listed = await client.request('auth/listApiKeys', {});
    const row = listed.find((k) => k.id === created.result);
    assert.deepEqual(row && [row.name, row.projectIds, row.revokedAt], [name, null, null]);
    assert.ok(key.startsWith(row!.prefix), 'listed by its prefix');
    assert.ok(!JSON.stringify(listed).includes(key), 'the key itself is never listed');

    const manage = await runCommand('cairn.manageApiKeys', { pick: [byLabel(name)], modal: ['Revoke'] });
    const rows = manage.seen.picks[0]!.items;
    assert.equal(rows[0]!.label, '$(add) Create API Key…');
    assert.match(String(rows.find((i) => i.label === name)?.description), new RegExp(`^${escapeRe(row!.prefix)}… · every project`));
    assert.deepEqual(manage.seen.modals.map((m) => [m.message, m.buttons]), [[`Revoke the API key "${name}" (${row!.prefix}…)?`, ['Revoke']]]);
    assert.ok((await client.request('auth/listApiKeys', {})).find((k) => k.id === created.result)?.revokedAt, 'revoked');
    await said(new RegExp(`API key "${escapeRe(name)}" revoked`));
  });

  it("configures the team's model gateway from prompts (never its provider key), chats through it, and shows the usage it recorded as a table", async function () {
    if (!team || !sharedProjectId) this.skip();
    const api = await cairn();
    const client = await ready(api);
    assert.equal(await client.request('teams/gateway', { teamId: team!.id }), null, 'no gateway yet');
    const configured = await runCommand<{ allowedModels: string[] } | undefined>(
      'cairn.configureGateway',
      {
        input: [
          (o) => {
            assert.equal(o.value, 'gpt-4o-mini, text-embedding-3-small', 'a starting list');
            assert.match(String(o.validateInput?.(' , ')), /at least one model/);
            return 'gpt-4o-mini, text-embedding-3-small';
          },
          (o) => (assert.match(String(o.prompt), /whole team \(empty: no limit\)/), ''),
          (o) => (assert.match(String(o.validateInput?.('lots')), /whole number/), '5,000,000'),
          (o) => (assert.match(String(o.validateInput?.('0')), /at least 1/), '60'),
        ],
        pick: [
          (items) => {
            assert.deepEqual(items.map((i) => i.label), ['gpt-4o-mini', 'text-embedding-3-small', "No default: each member's own model, if allowed"]);
            return byLabel('gpt-4o-mini')(items);
          },
          byLabel('None: members index with their own embedder'),
        ],
      },
      { teamId: team!.id },
    );
    assert.ok(configured.result, `saved (notifications: ${notes.messages.join(' | ')})`);
    assert.ok(configured.seen.inputs.every((o) => !/\bkey\b/i.test(`${o.title} ${o.prompt}`)), 'no prompt asks for a key');
    const settings = await client.request('teams/gateway', { teamId: team!.id });
    assert.deepEqual(settings && [settings.allowedModels, settings.chatModel, settings.embeddingModel, settings.teamMonthlyTokens, settings.memberMonthlyTokens, settings.memberRequestsPerMinute], [
      ['gpt-4o-mini', 'text-embedding-3-small'], 'gpt-4o-mini', null, null, 5_000_000, 60,
    ]);
    await said(/the model gateway of .* allows gpt-4o-mini, text-embedding-3-small; chat: gpt-4o-mini; .*each member 5,000,000 tokens a month, 60 requests a minute\. The provider's key is not set in the editor: it is the Edge Function's secret CAIRN_PROVIDER_API_KEY/);

    // A chat in the team project goes through the gateway, which records it from the provider's report.
    const session = await client.request('sessions/create', { projectId: sharedProjectId, title: 'through the gateway' });
    await client.request('chat/send', { sessionId: session.id, content: 'How is the rebate computed?' });
    const reply = await waitFor('the reply through the gateway', async () => {
      const got = await client.request('sessions/get', { sessionId: session.id });
      const m = got.messages.find((x) => x.role === 'assistant' && x.status !== 'streaming');
      return m ?? null;
    }, 60_000);
    assert.equal(reply.status, 'complete', JSON.stringify(reply));
    const usage = await client.request('teams/gatewayUsage', { teamId: team!.id });
    const mine = usage.rows.find((r) => r.email === leadEmail && r.model === 'gpt-4o-mini' && r.kind === 'chat');
    assert.ok(mine && mine.requests >= 1 && mine.promptTokens > 0 && mine.completionTokens > 0, JSON.stringify(usage));

    const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>('cairn.showGatewayUsage', { teamId: team!.id });
    const text = doc?.getText() ?? '';
    const n = (v: number) => v.toLocaleString('en-US');
    const line = new RegExp(
      `^\\| [^|]*${escapeRe(leadEmail)}\\)? \\| gpt-4o-mini \\| chat \\| ${n(mine!.requests)} \\| ${escapeRe(n(mine!.promptTokens))} \\| ${escapeRe(n(mine!.completionTokens))} \\| ${escapeRe(n(mine!.promptTokens + mine!.completionTokens))} \\|$`,
      'm',
    );
    assert.match(text, line, 'the table row is what the gateway recorded');
    assert.match(text, /Tokens are the provider's usage reports/);
    await waitFor('the usage table in the Markdown preview', () => markdownPreviewOpen());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("asks which project a clone of a team's repository maps to, naming the team, before mapping it; the answer is remembered", async function () {
    if (!team || !leadSecret) this.skip();
    const api = await cairn();
    const lead = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const leadToken = api.auth.current?.access_token;
    assert.ok(leadToken, 'the lead is signed in (the test before)');
    // The team has a project for a repository, made from another clone of it.
    const repo = `app-${stamp}`;
    const teamProject = (await rpcAs(leadToken, 'ensure_project', {
      p_root_uri: `file:///srv/clones/${repo}`,
      p_name: repo,
      p_git_remote: `github.com/cairn-tests/${repo}`,
      p_team_id: team!.id,
    })) as { id: string; name: string; team_id: string };
    assert.equal(teamProject.team_id, team!.id);
    // Rex joins the team on another machine before he ever opens this folder here.
    await lead.request('teams/invite', { teamId: team!.id, email: rexEmail, role: 'member' });
    const rexToken = await confirmedUserToken(rexEmail);
    const [invitation] = (await rpcAs(rexToken, 'list_my_invitations', {})) as { id: string }[];
    await rpcAs(rexToken, 'accept_invitation', { p_invitation_id: invitation!.id });
    // This folder is a clone of that repository.
    const gitDir = join(root, '.git');
    try {
      mkdirSync(gitDir, { recursive: true });
      writeFileSync(join(gitDir, 'config'), `[core]\n\tbare = false\n[remote "origin"]\n\turl = git@github.com:cairn-tests/${repo}.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`);
      const ask = new RegExp(`^Cairn: this folder's repository is a project of team ${escapeRe(teamName)}, which you have not used with this folder\\. Cairn maps it to nothing until you choose\\.$`);
      const prompts = answerPrompts({ press: [{ message: ask, button: 'Choose Project' }], pick: [byLabel(repo)] });
      try {
        await api.auth.signOut();
        await signUpInEditor(api, rexEmail, notes, 'email');
        const rex = await ready(api);
        // Signed in, the folder is asked about (the status bar reads its index state), and maps to nothing meanwhile.
        await waitFor(`the question, with the team's name (notifications: ${notes.messages.join(' | ')})`, () => prompts.seen.picks.length === 1, 60_000);
        const asked = prompts.seen.notifications.filter((n) => ask.test(n.message));
        assert.deepEqual(asked.map((n) => n.buttons), [['Choose Project']], 'asked once, with the button that opens the choice');
        const pick = prompts.seen.picks[0]!;
        assert.deepEqual(
          pick.items.map((i) => [i.label, i.description]),
          [
            [repo, `team ${teamName} · has this folder's git remote`],
            ['Keep this folder personal', 'its own personal project; nothing goes to a team'],
          ],
        );
        assert.match(String(pick.options?.placeHolder), /a project of a team you have not used with this folder/);
        await said(new RegExp(`this folder now maps to “${escapeRe(repo)}” \\(team ${escapeRe(teamName)}\\)\\.$`));
        assert.equal((await rex.request('workspace/resolveProject', { root })).id, teamProject.id);
        // The status bar shows the chosen project's index state (nothing indexed there yet).
        await waitFor(`the status bar to offer indexing the chosen project (${api.status.text})`, () => api.status.command === 'cairn.indexWorkspace', 30_000);
        assert.deepEqual(prompts.seen.unexpected, [], 'nothing else was asked');
      } finally {
        prompts.restore();
      }
      // Remembered by the database for Rex and this folder: a fresh daemon (nothing cached) maps it the same way
      // without asking, and so does the database for Rex on his own.
      const before = daemonPid();
      process.kill(before, 'SIGKILL');
      await waitFor('a new daemon', () => daemonPid() !== before && api.ctx.state.kind === 'ready', 60_000);
      const again = await ready(api);
      await waitFor('the new daemon to act as Rex', async () => (await again.request('auth/status', {})).user?.email === rexEmail, 60_000);
      assert.equal((await again.request('workspace/resolveProject', { root })).id, teamProject.id);
      const direct = (await rpcAs(rexToken, 'ensure_project', { p_root_uri: `file://${root}`, p_name: 'workspace', p_git_remote: `github.com/cairn-tests/${repo}` })) as { id: string };
      assert.equal(direct.id, teamProject.id);
    } finally {
      // The later suites' users open this folder without a remote.
      rmSync(gitDir, { recursive: true, force: true });
    }
  });
});

/** Calls a SQL function through the test project's PostgREST as the holder of `token`. */
async function rpcAs(token: string, fn: string, args: Record<string, unknown>): Promise<unknown> {
  const r = await fetch(`${url()}/rest/v1/rpc/${fn}`, {
    method: 'POST',
    headers: { apikey: anonKey(), authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = (await r.json()) as unknown;
  assert.ok(r.ok, `${fn}: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body;
}

/** An account with a confirmed address, made through the Auth admin API (a user elsewhere), and its access token. */
async function confirmedUserToken(email: string): Promise<string> {
  const key = process.env.CAIRN_TEST_SUPABASE_SERVICE_ROLE_KEY!;
  const created = await fetch(`${url()}/auth/v1/admin/users`, {
    method: 'POST',
    headers: { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, email_confirm: true }),
  });
  assert.ok(created.ok, `creating ${email}: HTTP ${created.status} ${await created.text()}`);
  const signedIn = await fetch(`${url()}/auth/v1/token?grant_type=password`, {
    method: 'POST',
    headers: { apikey: anonKey(), 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const session = (await signedIn.json()) as { access_token?: string };
  assert.ok(session.access_token, `signing in ${email}: HTTP ${signedIn.status}`);
  return session.access_token;
}

describe('teams: Cairn: Delete My Account', function () {
  this.timeout(180_000);
  const email = `gone${Date.now()}@example.test`;
  let notes: ReturnType<typeof recordNotifications>;
  beforeEach(() => {
    notes = recordNotifications();
  });
  afterEach(() => notes.dispose());
  after(async () => {
    await leaveTeamProject();
  });

  it('says what goes, deletes nothing on Cancel or a mistyped email, then deletes the account after the email is typed and signs out', async () => {
    const api = await cairn();
    await useProject(url(), anonKey());
    const userId = await signUpInEditor(api, email, notes);
    const client = await ready(api);
    await client.request('teams/create', { name: `Alone ${Date.now()}` });

    const cancelled = await runCommand<boolean>('cairn.deleteAccount', { modal: [undefined] });
    assert.equal(cancelled.result, false);
    assert.deepEqual(cancelled.seen.modals.map((m) => [m.message, m.buttons]), [[`Delete your Cairn account ${email}?`, ['Delete Account…']]]);
    assert.match(String(cancelled.seen.modals[0]!.detail), /cannot be undone.*private sessions.*only member/s);

    const mistyped = await runCommand<boolean>('cairn.deleteAccount', {
      modal: ['Delete Account…'],
      input: [(o) => {
        assert.equal(o.validateInput?.(`x${email}`), 'Type the email of the signed-in account exactly.');
        assert.equal(o.validateInput?.(email.toUpperCase()), null);
        return `x${email}`;
      }],
    });
    assert.equal(mistyped.result, false);
    assert.equal((await client.request('auth/status', {})).user?.id, userId, 'still signed in as the same account');

    const deleted = await runCommand<boolean>('cairn.deleteAccount', { modal: ['Delete Account…'], input: [() => email] });
    assert.equal(deleted.result, true);
    await waitFor('the editor to be signed out', () => api.auth.current === null);
    const status = await client.request('auth/status', {});
    assert.notEqual(status.store, 'supabase', 'the daemon is back on its local store');
    await waitFor(`the confirmation (notifications: ${notes.messages.join(' | ')})`, () => notes.messages.some((m) => m === `Cairn: your account ${email} was deleted.`));
    const again = await api.auth.signInInteractive({ method: 'email', email, password: TEST_PASSWORD });
    assert.ok(!again || typeof again !== 'object', 'the account cannot sign in any more');
  });
});
