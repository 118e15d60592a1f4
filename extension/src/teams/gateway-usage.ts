/**
 * "Cairn: Show Team Model Usage": picks one of the caller's teams, reads `teams/gatewayUsage` (owners and
 * admins: the database decides) and opens it as a Markdown table in the preview (gateway-usage-format.ts).
 */
import * as vscode from 'vscode';
import type { ResultOf } from '../../../daemon/src/protocol/index.js';
import type { DaemonClient } from '../client.js';
import type { AuthService } from '../auth/service.js';
import { explain, isCancellation } from '../errors.js';
import { requireTeamMode } from './mode.js';
import { renderGatewayUsage } from './gateway-usage-format.js';

type Team = ResultOf<'teams/list'>[number];

/**
 * The team an owner or admin acts on: the one asked for, the only one they administer, or the one they pick;
 * undefined (after saying why) when they administer none.
 */
export async function pickAdminTeam(client: DaemonClient, teamId: string | undefined, title: string, noneMessage: string): Promise<Team | undefined> {
  const teams = await client.request('teams/list', {});
  const admin = teams.filter((t) => t.role === 'owner' || t.role === 'admin');
  if (teamId) return teams.find((t) => t.id === teamId);
  if (admin.length === 1) return admin[0];
  if (admin.length === 0) {
    void vscode.window.showInformationMessage(noneMessage);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(admin.map((t) => ({ label: t.name, description: t.role, team: t })), { title, placeHolder: 'Which team?' });
  return picked?.team;
}

/** A failed team command: what went wrong in words, with the action that fixes it (e.g. the second factor). */
export function showTeamFailure(err: unknown, failed: string): void {
  if (isCancellation(err)) return;
  const e = explain(err);
  void vscode.window.showErrorMessage(`${failed}: ${e.message}`, ...e.actions.map((a) => a.label)).then((picked) => {
    const a = e.actions.find((x) => x.label === picked);
    if (a) void vscode.commands.executeCommand(a.command, ...(a.args ?? []));
  });
}

export async function showGatewayUsage(client: DaemonClient, auth: AuthService, raw?: unknown): Promise<vscode.TextDocument | undefined> {
  const opts = (raw && typeof raw === 'object' ? raw : {}) as { teamId?: string };
  try {
    const need = { withoutProject: 'model usage belongs to teams, which live in a team project', toDo: "to read your team's model usage" };
    if (!(await requireTeamMode(client, auth, need))) return undefined;
    const team = await pickAdminTeam(client, opts.teamId, 'Cairn: Show Team Model Usage', "Cairn: only team owners and admins can read a team's model usage, and you are neither in any team.");
    if (!team) return undefined;
    const usage = await client.request('teams/gatewayUsage', { teamId: team.id });
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: renderGatewayUsage(team.name, usage) });
    await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
    return doc;
  } catch (err) {
    showTeamFailure(err, "Cairn could not read the team's model usage");
    return undefined;
  }
}
