/**
 * What the team commands check and show, without `vscode`: a team name and an email checked as the daemon
 * will check them, the roles with what each may do, members, invitations and projects as QuickPick rows, and
 * the database's refusals recognised so they can be said in words. Unit-tested in Node
 * (test/extension-unit/team-format.test.ts).
 */
import type { ResultOf } from '../../../daemon/src/protocol/index.js';
import { errorReason, type ErrorReason } from '../../../daemon/src/protocol/errors.js';

export type Team = ResultOf<'teams/list'>[number];
export type TeamRole = Team['role'];
export type TeamMember = ResultOf<'teams/members'>[number];
export type Invitation = ResultOf<'teams/invitations'>[number];
export type MyInvitation = ResultOf<'teams/myInvitations'>[number];
export type Project = ResultOf<'workspace/listProjects'>['projects'][number];

/** The protocol's limit on a team name (`teams/create`), applied to the name as sent: trimmed. */
const TEAM_NAME_MAX = 100;

/** The check `teams/invite` applies at the daemon's boundary (zod's `z.email()`), so a typo is caught in the box. */
const EMAIL = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;

/** For an input box's `validateInput`: null when the name can be sent, else what is wrong. */
export function validateTeamName(value: string): string | null {
  const name = value.trim();
  if (name.length === 0) return 'A team needs a name.';
  if (name.length > TEAM_NAME_MAX) return `A team name has at most ${TEAM_NAME_MAX} characters (this one has ${name.length}).`;
  return null;
}

/** For an input box's `validateInput`: null when the address can be invited, else what is wrong. */
export function validateEmail(value: string): string | null {
  const email = value.trim();
  if (email.length === 0) return 'Enter the email address the person signs in with.';
  if (email.length > 320) return 'That address is too long for an email address.';
  return EMAIL.test(email) ? null : `“${email}” is not an email address (like name@example.com).`;
}

/** What each role may do in a team, as the database's policies decide it. */
export const ROLE_DESCRIPTIONS: Readonly<Record<TeamRole, string>> = {
  viewer: 'Reads shared sessions and the knowledge base; cannot post or change anything',
  member: "Chats in shared sessions and adds to the project's knowledge base",
  admin: 'Also invites and removes members, moves projects into the team, reads the audit log',
  owner: 'Everything, including making others owners; a team always keeps one',
};

/** In the order a person reads them: least to most power. */
export const ROLES: readonly TeamRole[] = ['viewer', 'member', 'admin', 'owner'];

export interface RoleChoice {
  label: string;
  description: string;
  role: TeamRole;
}

/**
 * The roles someone with `callerRole` may hand out: only owners grant the owner role (the database refuses
 * admins), so it is left out for them rather than offered and refused. `current` is marked.
 */
export function roleChoices(callerRole: TeamRole, current?: TeamRole): RoleChoice[] {
  return ROLES.filter((r) => r !== 'owner' || callerRole === 'owner').map((role) => ({
    label: role === current ? `${role} (current)` : role,
    description: ROLE_DESCRIPTIONS[role],
    role,
  }));
}

export function canManage(role: TeamRole): boolean {
  return role === 'owner' || role === 'admin';
}

/** `a member`, `an admin`, `an owner`. */
export function withArticle(role: string): string {
  return `${/^[aeiou]/i.test(role) ? 'an' : 'a'} ${role}`;
}

/** How a member is named to a person: their email, else their display name, else a short id. */
export function memberName(m: Pick<TeamMember, 'userId' | 'email' | 'displayName'>): string {
  return m.email ?? m.displayName ?? `${m.userId.slice(0, 8)}…`;
}

export interface MemberRow {
  label: string;
  description: string;
  detail: string;
}

/** A member as a QuickPick row: who, their role (and "you"), since when. */
export function memberRow(m: TeamMember, me: string | null, formatDate: (iso: string) => string): MemberRow {
  const self = m.userId === me;
  return {
    label: memberName(m),
    description: self ? `${m.role} · you` : m.role,
    detail: `member since ${formatDate(m.since)}${m.displayName && m.email && m.displayName !== m.email.split('@')[0] ? ` · ${m.displayName}` : ''}`,
  };
}

/** A pending invitation as a QuickPick row. */
export function invitationRow(i: Invitation, formatDate: (iso: string) => string, now: number = Date.now()): MemberRow {
  if (Date.parse(i.expiresAt) <= now) {
    return { label: i.email, description: `invited as ${i.role} · expired`, detail: `expired on ${formatDate(i.expiresAt)} unanswered; invite them again to send a new one` };
  }
  return {
    label: i.email,
    description: `invited as ${i.role}`,
    detail: `pending since ${formatDate(i.createdAt)}, until ${formatDate(i.expiresAt)}; they join if they accept it, signed in with this email`,
  };
}

/** Who sent an invitation, as the invitee reads it. */
export function inviterName(i: MyInvitation): string {
  if (!i.invitedBy) return 'A former member';
  const { email, displayName } = i.invitedBy;
  return email && displayName && displayName !== email.split('@')[0] ? `${displayName} (${email})` : (email ?? displayName ?? 'A member');
}

/** The sentence an invitee decides on: who invites, to which team, with which role, until when. */
export function invitationMessage(i: MyInvitation, formatDate: (iso: string) => string): string {
  return `${inviterName(i)} invites you to join the team ${i.teamName} as ${withArticle(i.role)} (until ${formatDate(i.expiresAt)}).`;
}

/** An invitation as a row of "Cairn: Show Team Invitations". */
export function myInvitationRow(i: MyInvitation, formatDate: (iso: string) => string): MemberRow {
  return {
    label: i.teamName,
    description: `as ${withArticle(i.role)} · from ${inviterName(i)}`,
    detail: `${ROLE_DESCRIPTIONS[i.role]}. Open until ${formatDate(i.expiresAt)}.`,
  };
}

/** The owners of a team (the database keeps at least one). */
export function isLastOwner(members: readonly TeamMember[], userId: string): boolean {
  const owners = members.filter((m) => m.role === 'owner');
  return owners.length === 1 && owners[0]!.userId === userId;
}

/**
 * The database's refusals that deserve more than its own words, by the reason the daemon's error carries (a
 * SQLSTATE of the SQL API, never the message's wording): a team operation that needs a second factor on this
 * sign-in (aal2), and one that would leave a team without an owner.
 */
export type TeamRefusal = Extract<ErrorReason, 'secondFactor' | 'lastOwner'>;

export function teamRefusal(err: unknown): TeamRefusal | null {
  const reason = errorReason(err);
  return reason === 'secondFactor' || reason === 'lastOwner' ? reason : null;
}

/**
 * The modal before "Share Project with Team": what moving the project into `target` shares and, when it
 * belongs to another team now, what that team loses (a move takes owner or admin rights on both sides).
 */
export function shareQuestion(project: Project, target: Pick<Team, 'id' | 'name'>, teams: readonly Pick<Team, 'id' | 'name'>[]): { message: string; detail: string } {
  const shares = `its members read its knowledge base and the sessions shared with the team (members and above also add to them). Private sessions stay private.`;
  if (!project.teamId) return { message: `Share “${project.name}” with ${target.name}?`, detail: `The project moves into the team: ${shares}` };
  const from = teams.find((t) => t.id === project.teamId)?.name ?? 'its team';
  return {
    message: `Move “${project.name}” from ${from} to ${target.name}?`,
    detail:
      `The project leaves ${from}: its members no longer read the project's shared sessions, knowledge base and tasks. In ${target.name}, ${shares} ` +
      `Moving takes an owner or admin of both teams, and both teams' audit logs record it.`,
  };
}

/** How a project is named with where it lives: `“cairn” (team Platform)` or `“notes” (personal)`. */
export function projectName(p: Project, teams: readonly Pick<Team, 'id' | 'name'>[]): string {
  return `“${p.name}” (${projectOwner(p, teams)})`;
}

function projectOwner(p: Project, teams: readonly Pick<Team, 'id' | 'name'>[]): string {
  if (!p.teamId) return 'personal';
  const team = teams.find((t) => t.id === p.teamId);
  return team ? `team ${team.name}` : 'a team';
}

export interface ProjectChoice {
  label: string;
  description: string;
  /** null: forget the choice and use the folder's own project (by git remote, else a personal one). */
  projectId: string | null;
  /** Keep the folder personal: its own personal project, remembered (projectId null). */
  personal?: true;
}

/**
 * The rows of "Choose Project for This Folder": the folder's own project first, then every project the user
 * can read, team projects by team name, then personal ones, the one the folder maps to now marked.
 */
export function projectChoices(projects: readonly Project[], teams: readonly Pick<Team, 'id' | 'name'>[], currentId: string | null): ProjectChoice[] {
  const owner = (p: Project) => projectOwner(p, teams);
  const sorted = [...projects].sort(
    (a, b) => Number(!a.teamId) - Number(!b.teamId) || owner(a).localeCompare(owner(b)) || a.name.localeCompare(b.name),
  );
  return [
    {
      label: "Use this folder's own project",
      description: 'forget a choice made here: the project you made for it, else a personal one',
      projectId: null,
    },
    { label: 'Keep this folder personal', description: 'its own personal project; nothing goes to a team', projectId: null, personal: true },
    ...sorted.map((p) => ({
      label: p.name,
      description: p.id === currentId ? `${owner(p)} · current` : owner(p),
      projectId: p.id,
    })),
  ];
}
