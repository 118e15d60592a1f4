/**
 * The team commands: Create Team, Invite to Team, Manage Team Members, Leave Team and Share Project with Team.
 * Each asks what it needs (QuickPicks, input boxes, a modal before anything that takes access away), makes one
 * typed call, and says what happened. The database decides who may do what; these only ask and explain, in
 * words, the refusals people meet: a second factor needed (aal2) and a team that must keep an owner.
 */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client.js';
import type { AuthService } from '../auth/service.js';
import type { SessionsTree } from '../sessions/tree.js';
import { explain, isCancellation, SECOND_FACTOR_ACTION } from '../errors.js';
import { requireTeamMode } from './mode.js';
import {
  canManage,
  invitationRow,
  isLastOwner,
  memberName,
  memberRow,
  roleChoices,
  shareQuestion,
  teamRefusal,
  validateEmail,
  validateTeamName,
  withArticle,
  type Invitation,
  type Team,
  type TeamMember,
} from './team-format.js';

export interface TeamParts {
  auth: AuthService;
  sessions: SessionsTree;
}

/** What a command may be given instead of asking (a follow-up action names the team it is about). */
export interface TeamCommandOptions {
  teamId?: string;
}

function optionsOf(raw: unknown): TeamCommandOptions {
  return raw && typeof raw === 'object' ? (raw as TeamCommandOptions) : {};
}

function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString();
}

/** Shows a message with actions without holding the command open; runs the action picked. */
function notify(kind: 'info' | 'warning' | 'error', message: string, ...actions: { label: string; command: string; args?: unknown[] }[]): void {
  const labels = actions.map((a) => a.label);
  const shown =
    kind === 'info'
      ? vscode.window.showInformationMessage(message, ...labels)
      : kind === 'warning'
        ? vscode.window.showWarningMessage(message, ...labels)
        : vscode.window.showErrorMessage(message, ...labels);
  void shown.then((picked) => {
    const a = actions.find((x) => x.label === picked);
    if (a) void vscode.commands.executeCommand(a.command, ...(a.args ?? []));
  });
}

/** A failed team call in words: aal2 and the last-owner rule with their fixes, everything else as `explain` says. */
export function showTeamError(err: unknown, failed: string, team?: Pick<Team, 'id' | 'name'>): void {
  if (isCancellation(err)) return;
  switch (teamRefusal(err)) {
    case 'secondFactor':
      notify(
        'error',
        `${failed}: managing a team's members, or moving a project between teams, needs a second factor on this sign-in (two-factor authentication, aal2). Set it up or confirm it with a code, then try again.`,
        SECOND_FACTOR_ACTION,
      );
      return;
    case 'lastOwner':
      notify(
        'error',
        `${failed}: ${team ? team.name : 'a team'} must keep at least one owner. Make another member an owner first (Manage Team Members → Change Role), then try again.`,
        { label: 'Manage Team Members', command: 'cairn.manageTeam', args: team ? [{ teamId: team.id }] : [] },
      );
      return;
  }
  const e = explain(err);
  notify('error', `${failed}: ${e.message}`, ...e.actions);
}

/**
 * The team a command is about: the one named, the only one, or the user's pick. `manage` sorts the teams the
 * caller manages first and says why the others cannot be picked for this.
 */
async function pickTeam(client: DaemonClient, opts: TeamCommandOptions, title: string, placeHolder: string, manage = false): Promise<Team | undefined> {
  const teams = await client.request('teams/list', {});
  if (opts.teamId) {
    const team = teams.find((t) => t.id === opts.teamId);
    if (!team) notify('warning', 'Cairn: you are not a member of that team (any more).');
    return team;
  }
  if (teams.length === 0) {
    notify(
      'info',
      'Cairn: you are not a member of any team yet. Create one, or accept an invitation to the email you sign in with.',
      { label: 'Create Team', command: 'cairn.createTeam' },
      { label: 'Show Team Invitations', command: 'cairn.showInvitations' },
    );
    return undefined;
  }
  if (teams.length === 1) return teams[0];
  const order = (t: Team) => (manage && !canManage(t.role) ? 1 : 0);
  const picked = await vscode.window.showQuickPick(
    [...teams]
      .sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name))
      .map((t) => ({ label: t.name, description: manage && !canManage(t.role) ? `${t.role} · only owners and admins can do this` : t.role, team: t })),
    { title, placeHolder },
  );
  return picked?.team;
}

/** False (after saying so) when the caller is not an owner or admin of the team. */
function mayManage(team: Team, what: string): boolean {
  if (canManage(team.role)) return true;
  notify('warning', `Cairn: only owners and admins of ${team.name} can ${what} (you are ${withArticle(team.role)}).`);
  return false;
}

const NEED_TEAM_MODE = { withoutProject: 'teams live in a team project (Supabase)', toDo: 'to work with teams' };

/** "Cairn: Create Team": asks for a name, creates the team (the caller is its owner), offers the next steps. */
export async function createTeam(client: DaemonClient, parts: TeamParts): Promise<Team | undefined> {
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED_TEAM_MODE))) return undefined;
    const name = await vscode.window.showInputBox({
      title: 'Cairn: Create Team',
      prompt: 'Name of the new team. You will be its owner.',
      placeHolder: 'Platform',
      ignoreFocusOut: true,
      validateInput: validateTeamName,
    });
    if (name === undefined) return undefined;
    const team = await client.request('teams/create', { name: name.trim() });
    notify(
      'info',
      `Cairn: created the team “${team.name}”; you are its owner.`,
      { label: 'Invite to Team', command: 'cairn.inviteToTeam', args: [{ teamId: team.id }] },
      { label: 'Share Project with Team', command: 'cairn.shareProject', args: [{ teamId: team.id }] },
    );
    return team;
  } catch (err) {
    showTeamError(err, 'Cairn could not create the team');
    return undefined;
  }
}

/** "Cairn: Rename Team": a team the caller owns or administers, and its new name. */
export async function renameTeam(client: DaemonClient, parts: TeamParts, raw?: unknown): Promise<Team | undefined> {
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED_TEAM_MODE))) return undefined;
    const team = await pickTeam(client, optionsOf(raw), 'Cairn: Rename Team', 'Rename which team?', true);
    if (!team || !mayManage(team, 'rename it')) return undefined;
    const name = await vscode.window.showInputBox({
      title: `Cairn: Rename ${team.name}`,
      prompt: 'New name of the team',
      value: team.name,
      ignoreFocusOut: true,
      validateInput: validateTeamName,
    });
    if (name === undefined || name.trim() === team.name) return undefined;
    const renamed = await client.request('teams/rename', { teamId: team.id, name: name.trim() });
    notify('info', `Cairn: the team “${team.name}” is now “${renamed.name}”.`);
    return renamed;
  } catch (err) {
    showTeamError(err, 'Cairn could not rename the team');
    return undefined;
  }
}

/** "Cairn: Invite to Team": a team, an email, a role; the invitee joins only if they accept it. */
export async function inviteToTeam(client: DaemonClient, parts: TeamParts, raw?: unknown): Promise<Invitation | undefined> {
  let team: Team | undefined;
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED_TEAM_MODE))) return undefined;
    team = await pickTeam(client, optionsOf(raw), 'Cairn: Invite to Team', 'Invite to which team?', true);
    if (!team || !mayManage(team, 'invite people')) return undefined;
    const email = await vscode.window.showInputBox({
      title: `Cairn: Invite to ${team.name}`,
      prompt: 'Email address of the person to invite (the one they sign in to Cairn with)',
      placeHolder: 'name@example.com',
      ignoreFocusOut: true,
      validateInput: validateEmail,
    });
    if (email === undefined) return undefined;
    const role = await vscode.window.showQuickPick(roleChoices(team.role), {
      title: `Cairn: Invite to ${team.name}`,
      placeHolder: `Role of ${email.trim()} in ${team.name}`,
    });
    if (!role) return undefined;
    const invitation = await client.request('teams/invite', { teamId: team.id, email: email.trim(), role: role.role });
    notify('info', `Cairn: invited ${invitation.email} to ${team.name} as ${withArticle(invitation.role)}. They see it when they sign in to Cairn with that (confirmed) address, and join only if they accept it within 7 days.`);
    return invitation;
  } catch (err) {
    showTeamError(err, 'Cairn could not send the invitation', team);
    return undefined;
  }
}

type MemberPick = vscode.QuickPickItem & ({ member: TeamMember } | { invitation: Invitation } | object);

/**
 * "Cairn: Manage Team Members": the members (with role and email) and pending invitations of a team; a member
 * can get another role or be removed (after a modal), an invitation withdrawn. One action per run.
 */
export async function manageTeam(client: DaemonClient, parts: TeamParts, raw?: unknown): Promise<void> {
  let team: Team | undefined;
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED_TEAM_MODE))) return;
    team = await pickTeam(client, optionsOf(raw), 'Cairn: Manage Team Members', 'Whose members?', true);
    if (!team) return;
    const me = (await client.request('auth/status', {})).user?.id ?? null;
    const members = await client.request('teams/members', { teamId: team.id });
    // Only owners and admins read a team's invitations.
    const invitations = canManage(team.role) ? await client.request('teams/invitations', { teamId: team.id }) : [];
    const items: MemberPick[] = [
      { label: 'Members', kind: vscode.QuickPickItemKind.Separator },
      ...members.map((m) => ({ ...memberRow(m, me, formatDate), member: m })),
      ...(invitations.length > 0
        ? [{ label: 'Pending invitations', kind: vscode.QuickPickItemKind.Separator }, ...invitations.map((i) => ({ ...invitationRow(i, formatDate), invitation: i }))]
        : []),
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: `Cairn: Manage Team Members of ${team.name}`,
      placeHolder: canManage(team.role) ? 'Pick a member to change their role or remove them, or an invitation to withdraw it' : `Members of ${team.name} (only owners and admins can change them)`,
      matchOnDescription: true,
    });
    if (!picked) return;
    if ('invitation' in picked) await invitationAction(client, team, picked.invitation);
    else if ('member' in picked) await memberAction(client, parts, team, picked.member, members, me);
  } catch (err) {
    showTeamError(err, 'Cairn could not change the team', team);
  }
}

async function memberAction(client: DaemonClient, parts: TeamParts, team: Team, member: TeamMember, members: TeamMember[], me: string | null): Promise<void> {
  const who = memberName(member);
  const self = member.userId === me;
  if (!canManage(team.role)) {
    if (self) await vscode.commands.executeCommand('cairn.leaveTeam', { teamId: team.id });
    else notify('warning', `Cairn: only owners and admins of ${team.name} can change its members (you are ${withArticle(team.role)}).`);
    return;
  }
  const action = await vscode.window.showQuickPick(
    [
      { label: 'Change Role…', description: `${self ? 'you are' : `${who} is`} ${withArticle(member.role)}`, id: 'role' as const },
      self
        ? { label: 'Leave Team…', description: `you stop being a member of ${team.name}`, id: 'leave' as const }
        : { label: 'Remove from Team…', description: `${who} loses access to ${team.name} at once`, id: 'remove' as const },
    ],
    { title: `Cairn: ${who} in ${team.name}`, placeHolder: `What to do with ${self ? 'your membership' : who}?` },
  );
  if (!action) return;
  if (action.id === 'leave') {
    await vscode.commands.executeCommand('cairn.leaveTeam', { teamId: team.id });
    return;
  }
  if (action.id === 'role') {
    const role = await vscode.window.showQuickPick(
      roleChoices(team.role, member.role).filter((r) => r.role !== member.role),
      { title: `Cairn: role of ${who} in ${team.name}`, placeHolder: `${self ? 'You are' : `${who} is`} ${withArticle(member.role)} now` },
    );
    if (!role) return;
    if (member.role === 'owner' && isLastOwner(members, member.userId)) {
      explainLastOwner(team, self ? 'you are' : `${who} is`);
      return;
    }
    const updated = await client.request('teams/setRole', { teamId: team.id, userId: member.userId, role: role.role });
    notify('info', `Cairn: ${self ? 'you are' : `${who} is`} now ${withArticle(updated.role)} of ${team.name}.`);
    return;
  }
  const ok = await vscode.window.showWarningMessage(
    `Remove ${who} from ${team.name}?`,
    { modal: true, detail: `They lose access to the team's shared sessions and knowledge base at once. To come back they need a new invitation.` },
    'Remove',
  );
  if (ok !== 'Remove') return;
  await client.request('teams/removeMember', { teamId: team.id, userId: member.userId });
  parts.sessions.refresh();
  notify('info', `Cairn: removed ${who} from ${team.name}.`);
}

async function invitationAction(client: DaemonClient, team: Team, invitation: Invitation): Promise<void> {
  const action = await vscode.window.showQuickPick([{ label: 'Withdraw Invitation', description: `${invitation.email} can no longer accept it to join ${team.name}` }], {
    title: `Cairn: invitation of ${invitation.email} to ${team.name}`,
  });
  if (!action) return;
  await client.request('teams/withdrawInvitation', { invitationId: invitation.id });
  notify('info', `Cairn: withdrew the invitation of ${invitation.email} to ${team.name}.`);
}

/** `subject`: "you are" or "ana@example.com is". */
function explainLastOwner(team: Team, subject: string): void {
  notify(
    'warning',
    `Cairn: ${subject} the only owner of ${team.name}, and a team must keep at least one owner. Make another member an owner first (Manage Team Members → Change Role).`,
    { label: 'Manage Team Members', command: 'cairn.manageTeam', args: [{ teamId: team.id }] },
  );
}

/** "Cairn: Leave Team": after a modal; the last owner is told what to do first instead. */
export async function leaveTeam(client: DaemonClient, parts: TeamParts, raw?: unknown): Promise<boolean> {
  let team: Team | undefined;
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED_TEAM_MODE))) return false;
    team = await pickTeam(client, optionsOf(raw), 'Cairn: Leave Team', 'Leave which team?');
    if (!team) return false;
    if (team.role === 'owner') {
      const me = (await client.request('auth/status', {})).user?.id;
      const members = await client.request('teams/members', { teamId: team.id });
      if (me && isLastOwner(members, me)) {
        explainLastOwner(team, 'you are');
        return false;
      }
    }
    const ok = await vscode.window.showWarningMessage(
      `Leave ${team.name}?`,
      { modal: true, detail: "You lose access to the team's shared sessions, projects and knowledge base at once. To come back you need a new invitation." },
      'Leave',
    );
    if (ok !== 'Leave') return false;
    await client.request('teams/leave', { teamId: team.id });
    parts.sessions.refresh();
    notify('info', `Cairn: you left ${team.name}.`);
    return true;
  } catch (err) {
    showTeamError(err, 'Cairn could not leave the team', team);
    return false;
  }
}

/**
 * "Cairn: Share Project with Team": moves the project of the open folder into a team the caller manages, after
 * saying what that shares. Teammates opening the same repository land in it; others can choose it.
 */
export async function shareProject(client: DaemonClient, parts: TeamParts, root: string, raw?: unknown): Promise<boolean> {
  let team: Team | undefined;
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED_TEAM_MODE))) return false;
    const project = await client.request('workspace/resolveProject', { root });
    team = await pickTeam(client, optionsOf(raw), 'Cairn: Share Project with Team', `Move “${project.name}” into which team?`, true);
    if (!team || !mayManage(team, 'move projects into the team')) return false;
    if (project.teamId === team.id) {
      notify('info', `Cairn: “${project.name}” already belongs to ${team.name}.`);
      return true;
    }
    const question = shareQuestion(project, team, await client.request('teams/list', {}));
    const ok = await vscode.window.showWarningMessage(question.message, { modal: true, detail: question.detail }, 'Share');
    if (ok !== 'Share') return false;
    await client.request('teams/shareProject', { root, teamId: team.id });
    parts.sessions.refresh();
    notify(
      'info',
      `Cairn: “${project.name}” now belongs to ${team.name}. Teammates who open the same repository join it; others can pick it with “Cairn: Choose Project for This Folder”.`,
    );
    return true;
  } catch (err) {
    showTeamError(err, 'Cairn could not share the project', team);
    return false;
  }
}
