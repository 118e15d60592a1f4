/**
 * "Cairn: Show Team Audit Log": picks one of the caller's teams, reads `teams/auditLog` (the database decides
 * who may: owners and admins) and shows it as a read-only Markdown document on the `cairn-audit:` scheme, in
 * the Markdown preview. Entries come a page at a time, newest first; "Load Older" appends the next page.
 */
import * as vscode from 'vscode';
import type { ResultOf } from '../../../daemon/src/protocol/index.js';
import type { DaemonClient } from '../client.js';
import type { Ctx } from '../ctx.js';
import type { AuthService } from '../auth/service.js';
import { errorName, explain, isCancellation } from '../errors.js';
import { requireTeamMode } from './mode.js';
import { renderAuditLog, type AuditEntry, type TeamMember } from './audit-format.js';

type Team = ResultOf<'teams/list'>[number];

/** What the daemon returns when no limit is given; also the most a page asks for by default. */
const PAGE_SIZE = 100;
/** The protocol's cap on one page. */
const MAX_PAGE = 1000;

export interface ShowAuditLogOptions {
  /** The team to show (skips the pick). */
  teamId?: string;
  /** Appends the next page of older entries to the view already open for the team. */
  loadOlder?: boolean;
  /** Entries per page (default 100, at most 1000). */
  pageSize?: number;
}

interface Shown {
  /** Who read it (the daemon's user then): another user signing in in this window must not see it. */
  reader: string | null;
  team: Team;
  entries: AuditEntry[];
  members: TeamMember[];
  pageSize: number;
  hasMore: boolean;
}

export class AuditLogView implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'cairn-audit';
  private readonly shown = new Map<string, Shown>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(
    ctx: Ctx,
    private readonly auth: AuthService,
  ) {
    ctx.pushExtension(
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(AuditLogView.scheme, this),
      auth.onDidChangeDaemonUser(() => this.forgetOtherReaders()),
    );
  }

  /** After a sign-out or a switch of user, open views stop showing what the previous user was allowed to read. */
  private forgetOtherReaders(): void {
    for (const [key, s] of this.shown) {
      if (s.reader === this.auth.daemonUser) continue;
      this.shown.delete(key);
      this.changed.fire(vscode.Uri.parse(key));
    }
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const s = this.shown.get(uri.toString());
    if (!s) return '# Audit log\n\nNothing loaded for this team in this window (or you signed out since). Run “Cairn: Show Team Audit Log” to read it.\n';
    return renderAuditLog({ teamName: s.team.name, entries: s.entries, members: s.members, pageSize: s.pageSize, hasMore: s.hasMore });
  }

  /** The view's address for a team: the team's name in the tab title, its id in the query. */
  uriFor(team: Pick<Team, 'id' | 'name'>): vscode.Uri {
    const name = team.name.replace(/[/\\?#%]/g, ' ').trim() || 'team';
    return vscode.Uri.from({ scheme: AuditLogView.scheme, path: `/${name} audit log.md`, query: `team=${team.id}` });
  }

  /** The command. Resolves to the view's URI, or undefined after explaining why nothing is shown. */
  async show(client: DaemonClient, raw?: unknown): Promise<vscode.Uri | undefined> {
    const opts = (raw && typeof raw === 'object' ? raw : {}) as ShowAuditLogOptions;
    try {
      const need = { withoutProject: 'audit logs belong to teams, which live in a team project', toDo: 'to read a team audit log' };
      if (!(await requireTeamMode(client, this.auth, need))) return undefined;
      const team = await this.pickTeam(client, opts.teamId);
      if (!team) return undefined;
      const uri = this.uriFor(team);
      const key = uri.toString();
      const before = this.shown.get(key);
      const next = opts.loadOlder && before?.hasMore ? await this.older(client, { ...before, team }) : await this.newest(client, team, pageSizeOf(opts.pageSize));
      if (!next) return undefined;
      this.shown.set(key, next);
      this.changed.fire(uri);
      await open(uri);
      if (next.hasMore) {
        // Not awaited: the command ends now and the offer waits for the reader.
        void vscode.window
          .showInformationMessage(`Cairn: showing the newest ${next.entries.length} entries of ${team.name}'s audit log.`, 'Load Older')
          .then((picked) => picked && vscode.commands.executeCommand('cairn.showAuditLog', { teamId: team.id, loadOlder: true }));
      }
      return uri;
    } catch (err) {
      if (isCancellation(err)) return undefined;
      const e = explain(err);
      void vscode.window.showErrorMessage(`Cairn could not read the audit log: ${e.message}`, ...e.actions.map((a) => a.label)).then((picked) => {
        const a = e.actions.find((x) => x.label === picked);
        if (a) void vscode.commands.executeCommand(a.command, ...(a.args ?? []));
      });
      return undefined;
    }
  }

  private async pickTeam(client: DaemonClient, teamId: string | undefined): Promise<Team | undefined> {
    const teams = await client.request('teams/list', {});
    if (teamId) {
      const team = teams.find((t) => t.id === teamId);
      if (!team) void vscode.window.showWarningMessage('Cairn: you are not a member of that team (any more), so its audit log cannot be shown.');
      return team;
    }
    if (teams.length === 0) {
      const who = this.auth.current?.user.email;
      void vscode.window.showInformationMessage(`Cairn: ${who ?? 'you'} ${who ? 'is' : 'are'} not a member of any team yet, so there is no team audit log to show.`);
      return undefined;
    }
    if (teams.length === 1) return teams[0];
    const canRead = (t: Team) => t.role === 'owner' || t.role === 'admin';
    const picked = await vscode.window.showQuickPick(
      [...teams]
        .sort((a, b) => Number(canRead(b)) - Number(canRead(a)) || a.name.localeCompare(b.name))
        .map((t) => ({ label: t.name, description: canRead(t) ? t.role : `${t.role} · only owners and admins can read the audit log`, team: t })),
      { title: 'Cairn: Show Team Audit Log', placeHolder: 'Whose audit log?' },
    );
    return picked?.team;
  }

  private async newest(client: DaemonClient, team: Team, pageSize: number): Promise<Shown | undefined> {
    let entries: AuditEntry[];
    try {
      entries = await client.request('teams/auditLog', { teamId: team.id, limit: pageSize });
    } catch (err) {
      if (errorName(err) !== 'PermissionDenied') throw err;
      void vscode.window.showWarningMessage(`Cairn: only owners and admins can read the audit log of ${team.name} (you are ${article(team.role)} ${team.role}).`);
      return undefined;
    }
    // Emails for the "who" column; without them the view still shows short ids.
    const members = await client.request('teams/members', { teamId: team.id }).catch(() => [] as TeamMember[]);
    return { reader: this.auth.daemonUser, team, entries, members, pageSize, hasMore: entries.length === pageSize };
  }

  /** The next page: the entries before the oldest one shown, by id, so entries sharing its time are neither skipped nor repeated. */
  private async older(client: DaemonClient, s: Shown): Promise<Shown> {
    const oldest = s.entries[s.entries.length - 1];
    if (!oldest) return this.newest(client, s.team, s.pageSize).then((r) => r ?? s);
    const page = await client.request('teams/auditLog', { teamId: s.team.id, limit: s.pageSize, beforeId: oldest.id });
    return { ...s, entries: [...s.entries, ...page], hasMore: page.length === s.pageSize };
  }
}

function pageSizeOf(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_PAGE) : PAGE_SIZE;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** In the Markdown preview when the built-in Markdown extension is there, else as a read-only Markdown document. */
async function open(uri: vscode.Uri): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  try {
    // Not looked up in getCommands: the Markdown extension registers the command only once it activates.
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  } catch {
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}
