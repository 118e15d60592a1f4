/**
 * "Cairn: Choose Project for This Folder": maps the open folder to any project the user can read (a fork, or a
 * folder without the team's git remote, joins the team project), or back to the folder's own project. The
 * choice is the user's alone and lives in the database (`workspace/chooseProject`).
 */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client.js';
import type { SessionsTree } from '../sessions/tree.js';
import { showTeamError } from './manage.js';
import { projectChoices, projectName, type Project } from './team-format.js';

export interface ChooseProjectParts {
  sessions: SessionsTree;
}

/** Resolves to the project the folder maps to afterwards, or undefined when nothing changed. */
export async function chooseProject(client: DaemonClient, parts: ChooseProjectParts, root: string): Promise<Project | undefined> {
  try {
    const [current, { projects }, teams] = await Promise.all([
      client.request('workspace/resolveProject', { root }),
      client.request('workspace/listProjects', {}),
      // Only for the teams' names; a store without teams shows "a team".
      client.request('teams/list', {}).catch(() => []),
    ]);
    const picked = await vscode.window.showQuickPick(projectChoices(projects, teams, current.id), {
      title: 'Cairn: Choose Project for This Folder',
      placeHolder: `This folder maps to ${projectName(current, teams)}. Its sessions and knowledge base go to the project you pick.`,
      matchOnDescription: true,
    });
    if (!picked) return undefined;
    const now = await client.request('workspace/chooseProject', { root, projectId: picked.projectId });
    parts.sessions.refresh();
    void vscode.window.showInformationMessage(
      now.id === current.id
        ? `Cairn: this folder still maps to ${projectName(now, teams)}.`
        : `Cairn: this folder now maps to ${projectName(now, teams)} (it was ${projectName(current, teams)}).`,
    );
    return now;
  } catch (err) {
    showTeamError(err, 'Cairn could not map the folder to a project');
    return undefined;
  }
}
