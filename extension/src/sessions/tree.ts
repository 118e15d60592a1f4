/**
 * The `cairn.sessions` tree: "My sessions" and "Team sessions", each grouped by project, most recent first.
 * Refreshes live on `sessions/changed` (topic `sessions`) and after every reconnect.
 */
import * as vscode from 'vscode';
import type { ResultOf } from '../../../daemon/src/protocol/index.js';
import type { Ctx } from '../ctx.js';
import { explain } from '../errors.js';
import { describeError, log } from '../log.js';
import { askProjectChoice } from '../teams/projects.js';

export type SessionRow = ResultOf<'sessions/list'>['sessions'][number];

type Node =
  | { kind: 'group'; id: 'mine' | 'team'; label: string; sessions: SessionRow[] }
  | { kind: 'project'; group: 'mine' | 'team'; projectId: string | null; label: string; sessions: SessionRow[] }
  | { kind: 'session'; session: SessionRow; own: boolean }
  | { kind: 'message'; label: string; command?: vscode.Command };

export class SessionsTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private sessions: SessionRow[] | null = null;
  private error: string | null = null;
  private projectNames = new Map<string, string>();
  /**
   * Who the daemon acts as, read with the rows: it changes without a reconnect (a sign-in hands the session
   * over), so `initialize`'s user, from before the hand-over, would file one's own sessions under the team's.
   */
  private me: string | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: Ctx) {
    ctx.pushExtension(
      this.changed,
      ctx.onNotification('sessions/changed', () => this.refreshSoon()),
      ctx.onNotification('auth/changed', () => this.refreshSoon()),
      ctx.onDidConnect(() => this.refresh()),
      ctx.onDidChangeState((s) => s.kind !== 'ready' && this.changed.fire(undefined)),
    );
    void ctx.subscribe('sessions');
  }

  /** Coalesces bursts of change notifications (one per message while chatting) into one reload. */
  refreshSoon(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), 300);
  }

  refresh(): void {
    this.sessions = null;
    this.changed.fire(undefined);
  }

  /** The loaded rows (for commands that pick a session). */
  async rows(): Promise<SessionRow[]> {
    if (this.sessions) return this.sessions;
    await this.load();
    return this.sessions ?? [];
  }

  private async load(): Promise<void> {
    const client = this.ctx.client;
    if (!client) return;
    try {
      const root = this.ctx.workspaceRoot();
      if (root) {
        // A folder waiting for the user's choice of project (ProjectChoiceNeeded) is asked about once.
        const p = await client.request('workspace/resolveProject', { root }).catch((err: unknown) => {
          askProjectChoice(err, root);
          return null;
        });
        if (p) this.projectNames.set(p.id, p.name);
      }
      this.me = (await client.request('auth/status', {})).user?.id;
      const all: SessionRow[] = [];
      let before: string | undefined;
      // Two pages are plenty for a sidebar; older sessions stay reachable through search and the CLI.
      for (let page = 0; page < 2; page++) {
        const r = await client.request('sessions/list', { limit: 100, ...(before ? { before } : {}) });
        all.push(...r.sessions);
        if (!r.nextBefore) break;
        before = r.nextBefore;
      }
      // Sessions of other folders are grouped under their project's name (the folder's), never its id.
      if (all.some((s) => s.projectId && !this.projectNames.has(s.projectId))) {
        const listed = await client.request('workspace/listProjects', {}).catch((err) => {
          log().warn(`could not read project names for the sessions view: ${describeError(err)}`);
          return { projects: [] };
        });
        for (const p of listed.projects) this.projectNames.set(p.id, p.name);
      }
      this.sessions = all;
      this.error = null;
    } catch (err) {
      this.sessions = [];
      this.error = explain(err).message;
    }
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'group': {
        const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${n.id}`;
        item.description = String(n.sessions.length);
        return item;
      }
      case 'project': {
        const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `project:${n.group}:${n.projectId ?? 'none'}`;
        item.iconPath = new vscode.ThemeIcon('folder');
        return item;
      }
      case 'session': {
        const s = n.session;
        const item = new vscode.TreeItem(s.title ?? 'Untitled chat', vscode.TreeItemCollapsibleState.None);
        item.id = `session:${s.id}`;
        item.description = relativeTime(s.updatedAt);
        item.tooltip = `${s.title ?? 'Untitled chat'}\n${s.visibility === 'team' ? 'Shared with the team' : 'Private'} · updated ${new Date(s.updatedAt).toLocaleString()}`;
        item.iconPath = new vscode.ThemeIcon(s.visibility === 'team' ? 'organization' : 'comment-discussion');
        item.contextValue = `session.${s.visibility}.${n.own ? 'own' : 'other'}`;
        item.command = { command: 'cairn.openSession', title: 'Open Session', arguments: [s.id] };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
        if (n.command) item.command = n.command;
        return item;
      }
    }
  }

  async getChildren(n?: Node): Promise<Node[]> {
    if (!n) {
      if (!this.ctx.client) {
        const s = this.ctx.state;
        return [{ kind: 'message', label: s.kind === 'down' ? `Daemon unavailable: ${s.message}` : 'Connecting to the Cairn daemon…', command: { command: 'cairn.reconnect', title: 'Reconnect' } }];
      }
      if (!this.sessions) await this.load();
      if (this.error) return [{ kind: 'message', label: this.error, command: { command: 'cairn.refreshSessions', title: 'Retry' } }];
      const rows = this.sessions ?? [];
      // An empty list shows the view's welcome content (New Chat, Search).
      if (rows.length === 0) return [];
      const me = this.me;
      const mine = rows.filter((s) => s.ownerId === me || !me);
      const team = rows.filter((s) => me && s.ownerId !== me);
      const groups: Node[] = [{ kind: 'group', id: 'mine', label: 'My sessions', sessions: mine }];
      if (team.length > 0) groups.push({ kind: 'group', id: 'team', label: 'Team sessions', sessions: team });
      return groups;
    }
    if (n.kind === 'group') {
      const byProject = new Map<string | null, SessionRow[]>();
      for (const s of n.sessions) {
        const list = byProject.get(s.projectId) ?? [];
        list.push(s);
        byProject.set(s.projectId, list);
      }
      if (byProject.size === 1) return this.sessionNodes([...byProject.values()][0] ?? []);
      return [...byProject.entries()].map(([projectId, sessions]) => ({
        kind: 'project' as const,
        group: n.id,
        projectId,
        label: projectId ? (this.projectNames.get(projectId) ?? 'Another project') : 'No project',
        sessions,
      }));
    }
    if (n.kind === 'project') return this.sessionNodes(n.sessions);
    return [];
  }

  private sessionNodes(rows: SessionRow[]): Node[] {
    const me = this.me;
    return [...rows]
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .map((session) => ({ kind: 'session' as const, session, own: !me || session.ownerId === me }));
  }
}

function relativeTime(iso: string): string {
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
