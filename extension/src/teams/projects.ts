/**
 * "Cairn: Choose Project for This Folder": maps the open folder to any project the user can read (a fork, or a
 * folder without the team's git remote, joins the team project), keeps it personal, or goes back to the
 * folder's own project. The choice is the user's alone and lives in the database (`workspace/chooseProject`).
 *
 * A folder whose git remote matches a project of a team the user has not used with it is mapped to nothing
 * until they answer (`ProjectChoiceNeeded`): the candidates, with their teams' names, come first in the list,
 * next to "Keep this folder personal". `askProjectChoice` offers that question once per folder and window.
 */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client.js';
import { errorData, errorName } from '../errors.js';
import type { SessionsTree } from '../sessions/tree.js';
import { showTeamError } from './manage.js';
import { projectChoices, projectName, type Project, type ProjectChoice } from './team-format.js';

export interface ChooseProjectParts {
  sessions: SessionsTree;
}

interface Candidate {
  projectId: string;
  projectName: string;
  teamId: string;
  teamName: string;
}

/** The candidates a `ProjectChoiceNeeded` error carries, or null for any other error. */
export function choiceNeeded(err: unknown): Candidate[] | null {
  if (errorName(err) !== 'ProjectChoiceNeeded') return null;
  const data = errorData(err) as { candidates?: Candidate[] } | undefined;
  return Array.isArray(data?.candidates) ? data.candidates : [];
}

/** The pick list when the folder waits for an answer: the matching team projects, then "keep it personal". */
export function pendingChoices(candidates: readonly Candidate[]): ProjectChoice[] {
  return [
    ...candidates.map((c) => ({
      label: `${c.projectName}`,
      description: `team ${c.teamName} · has this folder's git remote`,
      projectId: c.projectId,
    })),
    { label: 'Keep this folder personal', description: 'its own personal project; nothing goes to a team', projectId: null, personal: true },
  ];
}

/** Resolves to the project the folder maps to afterwards, or undefined when nothing changed. */
export async function chooseProject(client: DaemonClient, parts: ChooseProjectParts, root: string): Promise<Project | undefined> {
  try {
    const [resolved, { projects }, teams] = await Promise.all([
      client.request('workspace/resolveProject', { root }).then(
        (project) => ({ project, candidates: null }),
        (err: unknown) => {
          const candidates = choiceNeeded(err);
          if (!candidates) throw err;
          return { project: null, candidates };
        },
      ),
      client.request('workspace/listProjects', {}),
      // Only for the teams' names; a store without teams shows "a team".
      client.request('teams/list', {}).catch(() => []),
    ]);
    const current = resolved.project;
    const items = current ? projectChoices(projects, teams, current.id) : pendingChoices(resolved.candidates ?? []);
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Cairn: Choose Project for This Folder',
      placeHolder: current
        ? `This folder maps to ${projectName(current, teams)}. Its sessions and knowledge base go to the project you pick.`
        : "This folder's repository is a project of a team you have not used with this folder. Its sessions and knowledge base go to the project you pick.",
      matchOnDescription: true,
      ignoreFocusOut: !current,
    });
    if (!picked) return undefined;
    const now = await client.request(
      'workspace/chooseProject',
      picked.personal ? { root, projectId: null, personal: true } : { root, projectId: picked.projectId },
    );
    parts.sessions.refresh();
    void vscode.window.showInformationMessage(
      !current
        ? `Cairn: this folder now maps to ${projectName(now, teams)}.`
        : now.id === current.id
          ? `Cairn: this folder still maps to ${projectName(now, teams)}.`
          : `Cairn: this folder now maps to ${projectName(now, teams)} (it was ${projectName(current, teams)}).`,
    );
    return now;
  } catch (err) {
    showTeamError(err, 'Cairn could not map the folder to a project');
    return undefined;
  }
}

const asked = new Set<string>();

/**
 * Asks, once per folder and window, which project a folder waiting for the user's choice should use: a
 * notification naming the teams, whose button opens the chooser. Returns false for any other error.
 */
export function askProjectChoice(err: unknown, root: string): boolean {
  const candidates = choiceNeeded(err);
  if (!candidates) return false;
  if (asked.has(root)) return true;
  asked.add(root);
  const teams = [...new Set(candidates.map((c) => c.teamName))];
  const who = teams.length > 0 ? `team ${teams.join(' or team ')}` : 'a team';
  void vscode.window
    .showInformationMessage(
      `Cairn: this folder's repository is a project of ${who}, which you have not used with this folder. Cairn maps it to nothing until you choose.`,
      'Choose Project',
    )
    .then((button) => (button ? vscode.commands.executeCommand('cairn.chooseProject') : undefined));
  return true;
}
