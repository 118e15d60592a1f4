/**
 * Every command, rust-analyzer style: `enabled` runs when the daemon is connected; `disabled` (or the default
 * explanation) runs when it is not, so each command works or says why not and offers the fix.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx.js';
import type { DaemonClient } from './client.js';
import type { ChatViewProvider } from './chat/view.js';
import type { SessionsTree, SessionRow } from './sessions/tree.js';
import type { StatusBar } from './status.js';
import type { AuthService } from './auth/service.js';
import type { AuditLogView } from './teams/audit.js';
import type { DocumentView } from './documents.js';
import type { TeamMode } from './teams/mode.js';
import { createTeam, inviteToTeam, leaveTeam, manageTeam, renameTeam, shareProject } from './teams/manage.js';
import { describeShareFindings, findingsInMessages } from './chat/secret-guard.js';
import { chooseProject } from './teams/projects.js';
import { requireTeamMode, type TeamModeNeed } from './teams/mode.js';
import { showInvitations } from './teams/invitations.js';
import { deleteMyAccount } from './auth/delete-account.js';
import { showGatewayUsage } from './teams/gateway-usage.js';
import { configureGateway } from './teams/gateway-config.js';
import { createApiKey, manageApiKeys } from './teams/api-keys.js';
import { explain, isCancellation } from './errors.js';
import { indexWorkspace } from './indexing.js';
import { describeError, log } from './log.js';
import { searchKnowledgeBase, selectionQuery } from './search.js';
import { daemonSettings, MODEL_KEY_SECRET, setWindowModelKey } from './settings.js';

export interface Parts {
  ctx: Ctx;
  chat: ChatViewProvider;
  sessions: SessionsTree;
  status: StatusBar;
  auth: AuthService;
  audit: AuditLogView;
  teamMode: TeamMode;
  documents: DocumentView;
}

type Handler = (...args: any[]) => unknown;
export interface CommandSpec {
  /** Runs with a connected daemon. */
  enabled(parts: Parts, client: DaemonClient): Handler;
  /** Runs without one; when absent, the command explains that the daemon is down and offers to reconnect. */
  disabled?(parts: Parts): Handler;
  /** Runs at once while the daemon is still starting, given the client to come (null: it did not come). */
  starting?(parts: Parts, client: Promise<DaemonClient | null>): Handler;
}

/** How long a command waits for a daemon that is still starting before explaining itself. */
const CONNECT_WAIT_MS = 60_000;

function needsWorkspace(parts: Parts): string | null {
  const root = parts.ctx.workspaceRoot();
  if (!root) void vscode.window.showInformationMessage('Cairn works on a folder: open a folder or workspace first.', 'Open Folder').then((a) => a && vscode.commands.executeCommand('workbench.action.files.openFolder'));
  return root;
}

async function showError(err: unknown, prefix: string): Promise<void> {
  if (isCancellation(err)) return;
  const e = explain(err);
  const picked = await vscode.window.showErrorMessage(`${prefix}: ${e.message}`, ...e.actions.map((a) => a.label));
  const a = e.actions.find((x) => x.label === picked);
  if (a) await vscode.commands.executeCommand(a.command, ...(a.args ?? []));
}

async function pickSession(parts: Parts, arg: unknown, placeHolder: string, filter: (s: SessionRow) => boolean = () => true): Promise<SessionRow | undefined> {
  const rows = await parts.sessions.rows();
  const id = typeof arg === 'string' ? arg : (arg as { session?: SessionRow } | undefined)?.session?.id;
  if (id) return rows.find((s) => s.id === id) ?? ({ id } as SessionRow);
  const candidates = rows.filter(filter);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage('Cairn: no sessions yet. Start one with "Cairn: New Chat".');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((s) => ({ label: s.title ?? 'Untitled chat', description: s.visibility === 'team' ? 'team' : 'private', detail: new Date(s.updatedAt).toLocaleString(), s })),
    { placeHolder },
  );
  return picked?.s;
}

export function createCommands(): Record<string, CommandSpec> {
  return {
    'cairn.searchKnowledgeBase': {
      enabled: (parts, client) => async (query?: unknown) => {
        const root = needsWorkspace(parts);
        if (!root) return;
        await searchKnowledgeBase(client, root, typeof query === 'string' ? query : selectionQuery(), parts.documents);
      },
      // The QuickPick opens at once; a query typed while the daemon starts runs once it is up.
      starting: (parts, client) => async (query?: unknown) => {
        const root = needsWorkspace(parts);
        if (!root) return;
        await searchKnowledgeBase(client, root, typeof query === 'string' ? query : selectionQuery(), parts.documents);
      },
    },
    'cairn.addDocument': {
      enabled: (parts, client) => async (file?: unknown) => {
        const root = needsWorkspace(parts);
        if (!root) return undefined;
        return parts.documents.add(client, root, file);
      },
    },
    'cairn.indexWorkspace': {
      enabled: (parts, client) => async () => {
        const root = needsWorkspace(parts);
        if (!root) return null;
        return indexWorkspace(client, root, (p) => parts.status.setIndexing(p));
      },
    },
    'cairn.newChat': {
      enabled: (parts) => async () => {
        parts.chat.newChat();
        await parts.chat.reveal();
      },
      // The chat view opens without a daemon and explains in place why it cannot send yet.
      disabled: (parts) => async () => {
        parts.chat.newChat();
        await parts.chat.reveal();
      },
    },
    'cairn.openSession': {
      enabled: (parts) => async (arg?: unknown) => {
        const s = await pickSession(parts, arg, 'Open which session?');
        if (!s) return;
        try {
          await parts.chat.openSession(s.id);
          await parts.chat.reveal();
        } catch (err) {
          await showError(err, 'Cairn could not open the session');
        }
      },
    },
    'cairn.shareSession': {
      enabled: (parts, client) => async (arg?: unknown) => {
        // Hidden outside team mode (package.json); run anyway (a keybinding), it explains instead of failing red.
        if (!(await requireTeamMode(client, parts.auth, SHARE_NEEDS_TEAM))) return;
        const s = await pickSession(parts, arg, 'Share which session with your team?', (x) => x.visibility === 'private');
        if (!s) return;
        try {
          // A secret in the conversation would reach the whole team: say so before sharing.
          const { messages } = await client.request('sessions/get', { sessionId: s.id, limit: 500 });
          const found = await findingsInMessages(messages, (text) => client.request('secrets/check', { text }));
          if (found.length > 0) {
            const share = 'Share Anyway';
            const picked = await vscode.window.showWarningMessage(describeShareFindings(s.title ?? 'Untitled chat', found), { modal: true }, share);
            if (picked !== share) return;
          }
          await client.request('sessions/share', { sessionId: s.id, visibility: 'team' });
          parts.sessions.refresh();
          void vscode.window.showInformationMessage(`Cairn: “${s.title ?? 'Untitled chat'}” is now shared with the project's team.`);
        } catch (err) {
          await showError(err, 'Cairn could not share the session');
        }
      },
    },
    'cairn.unshareSession': {
      enabled: (parts, client) => async (arg?: unknown) => {
        const s = await pickSession(parts, arg, 'Make which session private?', (x) => x.visibility === 'team');
        if (!s) return;
        try {
          await client.request('sessions/share', { sessionId: s.id, visibility: 'private' });
          parts.sessions.refresh();
        } catch (err) {
          await showError(err, 'Cairn could not make the session private');
        }
      },
    },
    'cairn.renameSession': {
      enabled: (parts, client) => async (arg?: unknown, newTitle?: unknown) => {
        const s = await pickSession(parts, arg, 'Rename which session?');
        if (!s) return;
        const title = typeof newTitle === 'string' && newTitle.trim() ? newTitle : await vscode.window.showInputBox({
          prompt: 'New title for the session',
          value: s.title ?? '',
          validateInput: (v) => (v.trim().length === 0 ? 'A title cannot be empty.' : v.length > 200 ? 'At most 200 characters.' : null),
        });
        if (!title) return;
        try {
          await client.request('sessions/rename', { sessionId: s.id, title: title.trim() });
          parts.sessions.refresh();
        } catch (err) {
          await showError(err, 'Cairn could not rename the session');
        }
      },
    },
    'cairn.archiveSession': {
      enabled: (parts, client) => async (arg?: unknown) => {
        const s = await pickSession(parts, arg, 'Archive which session?');
        if (!s) return;
        try {
          await client.request('sessions/archive', { sessionId: s.id, archived: true });
          parts.sessions.refresh();
        } catch (err) {
          await showError(err, 'Cairn could not archive the session');
        }
      },
    },
    'cairn.deleteSession': {
      enabled: (parts, client) => async (arg?: unknown, opts?: { confirm?: boolean }) => {
        const s = await pickSession(parts, arg, 'Delete which session?');
        if (!s) return;
        if (opts?.confirm !== false) {
          const ok = await vscode.window.showWarningMessage(`Delete “${s.title ?? 'Untitled chat'}” and all its messages? This cannot be undone.`, { modal: true }, 'Delete');
          if (ok !== 'Delete') return;
        }
        try {
          await client.request('sessions/delete', { sessionId: s.id });
          parts.sessions.refresh();
          if (parts.chat.snapshot().sessionId === s.id) parts.chat.newChat();
        } catch (err) {
          await showError(err, 'Cairn could not delete the session');
        }
      },
    },
    'cairn.refreshSessions': {
      enabled: (parts) => () => parts.sessions.refresh(),
      disabled: (parts) => () => parts.ctx.reconnect(),
    },
    'cairn.showAuditLog': {
      // Explains itself when not signed in to a team project, or when the caller may not read the log.
      enabled: (parts, client) => (opts?: unknown) => parts.audit.show(client, opts),
    },
    'cairn.showGatewayUsage': {
      enabled: (parts, client) => (opts?: unknown) => showGatewayUsage(client, parts.auth, opts),
    },
    'cairn.configureGateway': {
      enabled: (parts, client) => (opts?: unknown) => configureGateway(client, parts.auth, opts),
    },
    // Team commands explain themselves outside team mode; the database decides who may do what.
    'cairn.createTeam': {
      enabled: (parts, client) => () => createTeam(client, parts),
    },
    'cairn.renameTeam': {
      enabled: (parts, client) => (opts?: unknown) => renameTeam(client, parts, opts),
    },
    'cairn.inviteToTeam': {
      enabled: (parts, client) => (opts?: unknown) => inviteToTeam(client, parts, opts),
    },
    'cairn.showInvitations': {
      enabled: (parts, client) => () => showInvitations(client, parts),
    },
    'cairn.manageTeam': {
      enabled: (parts, client) => (opts?: unknown) => manageTeam(client, parts, opts),
    },
    'cairn.leaveTeam': {
      enabled: (parts, client) => (opts?: unknown) => leaveTeam(client, parts, opts),
    },
    // API keys for scripts and CI: explain themselves outside team mode.
    'cairn.createApiKey': {
      enabled: (parts, client) => () => createApiKey(client, parts),
    },
    'cairn.manageApiKeys': {
      enabled: (parts, client) => () => manageApiKeys(client, parts),
    },
    'cairn.shareProject': {
      enabled: (parts, client) => async (opts?: unknown) => {
        const root = needsWorkspace(parts);
        return root ? shareProject(client, parts, root, opts) : false;
      },
    },
    'cairn.chooseProject': {
      // Any store: a folder can map to any project the user can read, personal or a team's.
      enabled: (parts, client) => async () => {
        const root = needsWorkspace(parts);
        if (!root) return undefined;
        const project = await chooseProject(client, parts, root);
        // Another project: another index state.
        if (project) void parts.status.readIndex();
        return project;
      },
    },
    'cairn.setModelApiKey': {
      // Works without the daemon: the key is stored now and handed over on the next connect.
      enabled: (parts) => () => setModelApiKey(parts),
      disabled: (parts) => () => setModelApiKey(parts),
    },
    'cairn.signIn': {
      enabled: (parts) => (opts?: unknown) => parts.auth.signInInteractive(opts),
      disabled: (parts) => (opts?: unknown) => parts.auth.signInInteractive(opts),
    },
    'cairn.signOut': {
      enabled: (parts) => () => parts.auth.signOut(),
      disabled: (parts) => () => parts.auth.signOut(),
    },
    'cairn.deleteAccount': {
      enabled: (parts, client) => () => deleteMyAccount(client, parts.auth),
    },
    'cairn.enrollMfa': {
      enabled: (parts) => () => parts.auth.enrollMfa(),
      disabled: (parts) => () => parts.auth.enrollMfa(),
    },
    'cairn.reconnect': {
      enabled: (parts) => () => parts.ctx.reconnect(),
      disabled: (parts) => () => parts.ctx.reconnect(),
    },
    'cairn.showLog': {
      enabled: () => () => log().show(),
      disabled: () => () => log().show(),
    },
  };
}

const SHARE_NEEDS_TEAM: TeamModeNeed = {
  withoutProject: 'sessions are shared with a team, and teams live in a team project (Supabase); in embedded mode every session is yours alone',
  toDo: 'to share a session with your team',
};

async function setModelApiKey(parts: Parts): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: 'Cairn: Set Model API Key',
    prompt: 'API key of your OpenAI-compatible model provider. Stored in the OS keychain (VS Code SecretStorage), never in settings. Leave empty to remove it.',
    password: true,
    ignoreFocusOut: true,
    placeHolder: 'sk-…',
  });
  if (key === undefined) return;
  const value = key.trim();
  const secrets = parts.ctx.extension.secrets;
  let failure: string | null = null;
  try {
    if (value === '') await secrets.delete(MODEL_KEY_SECRET);
    else await secrets.store(MODEL_KEY_SECRET, value);
    // Read back: a store can resolve without keeping anything (the web host's storage answering 405).
    if (((await secrets.get(MODEL_KEY_SECRET)) ?? '') !== value) failure = 'reading it back gave something else';
  } catch (err) {
    failure = describeError(err);
  }
  const baseUrl = daemonSettings().chat?.baseUrl ?? 'the model provider';
  if (failure) {
    // Still used in this window, in memory; said plainly, since the next window will not have it.
    setWindowModelKey(value || null);
    log().warn(`the editor's secret storage did not keep the model API key: ${failure}`);
    await parts.ctx.configure().catch((err) => log().warn(`configure: ${describeError(err)}`));
    parts.chat.modelSettingsChanged();
    void vscode.window.showWarningMessage(
      `Cairn: this editor did not save the model API key (${failure}). Cairn uses it in this window until it is reloaded; after a reload, set it again.`,
    );
    return;
  }
  setWindowModelKey(null);
  // secrets.onDidChange hands the key to the daemon (in this window and every other one).
  void vscode.window.showInformationMessage(value ? `Cairn: model API key saved for ${baseUrl}.` : 'Cairn: model API key removed.');
}

/** Registers every command with the enabled/disabled dispatch. */
export function registerCommands(parts: Parts): void {
  for (const [name, spec] of Object.entries(createCommands())) {
    parts.ctx.pushExtension(
      vscode.commands.registerCommand(name, async (...args: unknown[]) => {
        let client = parts.ctx.client;
        if (!client && spec.starting && !(parts.ctx.state.kind === 'down' && !parts.ctx.state.transient)) {
          return spec.starting(parts, parts.ctx.waitForClient(CONNECT_WAIT_MS))(...args);
        }
        if (!client && !spec.disabled) {
          // A command run right after start-up waits for the daemon, with a notification saying so, instead
          // of failing at once; cancelling it gives the command up.
          let cancelled = false;
          client = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: 'Cairn: waiting for the daemon to start…', cancellable: true },
            (_progress, token) =>
              Promise.race([
                parts.ctx.waitForClient(CONNECT_WAIT_MS),
                new Promise<null>((r) => token.onCancellationRequested(() => ((cancelled = true), r(null)))),
              ]),
          );
          if (!client && cancelled) return undefined;
        }
        if (client) return spec.enabled(parts, client)(...args);
        if (spec.disabled) return spec.disabled(parts)(...args);
        const s = parts.ctx.state;
        const why = s.kind === 'down' ? s.message : 'it is still starting';
        // Not awaited: the command ends now and the notification waits for the user.
        void vscode.window.showWarningMessage(`Cairn's daemon is not available (${why}).`, 'Reconnect', 'Show Log').then((picked) => {
          if (picked === 'Reconnect') parts.ctx.reconnect();
          if (picked === 'Show Log') log().show();
        });
        return undefined;
      }),
    );
  }
}
