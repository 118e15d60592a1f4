/**
 * Team invitations as their invitee answers them. Joining a team is the invitee's own act: "Cairn: Show Team
 * Invitations" lists what waits for them (who invites, to which team, with which role) and asks Accept or
 * Decline; after a sign-in, new invitations are offered once per window in a notification with the same two
 * buttons. Nothing here answers on the user's behalf; a dismissed notification leaves the invitation pending.
 */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client.js';
import type { Ctx } from '../ctx.js';
import { describeError, log } from '../log.js';
import { isTeamMode, requireTeamMode, type TeamMode } from './mode.js';
import { showTeamError, type TeamParts } from './manage.js';
import { invitationMessage, myInvitationRow, ROLE_DESCRIPTIONS, withArticle, type MyInvitation, type Team } from './team-format.js';

const ACCEPT = 'Accept';
const DECLINE = 'Decline';

function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString();
}

/** Sends the invitee's answer and says what it did; the team joined, or undefined. */
async function answer(client: DaemonClient, parts: TeamParts, invitation: MyInvitation, choice: string | undefined): Promise<Team | undefined> {
  if (choice === ACCEPT) {
    const team = await client.request('teams/acceptInvitation', { invitationId: invitation.id });
    parts.sessions.refresh();
    void vscode.window
      .showInformationMessage(
        `Cairn: you joined ${team.name} as ${withArticle(team.role)}. A folder whose git remote is one of the team's projects now opens in it; Choose Project for This Folder maps any other.`,
        'Choose Project for This Folder',
      )
      .then((a) => a && vscode.commands.executeCommand('cairn.chooseProject'));
    return team;
  }
  if (choice === DECLINE) {
    await client.request('teams/declineInvitation', { invitationId: invitation.id });
    void vscode.window.showInformationMessage(`Cairn: you declined the invitation to ${invitation.teamName}. You are not a member; the team may invite you again.`);
  }
  return undefined;
}

/** "Cairn: Show Team Invitations": the caller's invitations, one picked, then a modal with Accept and Decline. */
export async function showInvitations(client: DaemonClient, parts: TeamParts): Promise<Team | undefined> {
  try {
    const need = { withoutProject: 'team invitations live in a team project (Supabase)', toDo: 'to see the invitations sent to you' };
    if (!(await requireTeamMode(client, parts.auth, need))) return undefined;
    const invitations = await client.request('teams/myInvitations', {});
    if (invitations.length === 0) {
      void vscode.window.showInformationMessage(
        `Cairn: no team invitation waits for ${parts.auth.current?.user.email ?? 'you'}. A team owner or admin invites the email address you sign in with; invitations last 7 days.`,
      );
      return undefined;
    }
    const invitation =
      invitations.length === 1
        ? invitations[0]
        : (
            await vscode.window.showQuickPick(
              invitations.map((i) => ({ ...myInvitationRow(i, formatDate), invitation: i })),
              { title: 'Cairn: Team Invitations', placeHolder: 'Pick an invitation to accept or decline it' },
            )
          )?.invitation;
    if (!invitation) return undefined;
    const choice = await vscode.window.showInformationMessage(
      invitationMessage(invitation, formatDate),
      { modal: true, detail: `${ROLE_DESCRIPTIONS[invitation.role]}. You join only if you accept; declining tells the team you said no.` },
      ACCEPT,
      DECLINE,
    );
    return await answer(client, parts, invitation, choice);
  } catch (err) {
    showTeamError(err, 'Cairn could not answer the invitation');
    return undefined;
  }
}

/**
 * After each sign-in in team mode, offers every invitation this window has not offered yet, in a notification
 * with Accept and Decline (dismissing it answers nothing: "Show Team Invitations" asks again).
 */
export class InvitationPrompts {
  private readonly offered = new Set<string>();
  private lastUser: string | null = null;

  constructor(private readonly ctx: Ctx, teamMode: TeamMode, private readonly parts: () => TeamParts) {
    ctx.pushExtension(
      teamMode.onDidChange((status) => {
        const user = status && isTeamMode(status) ? status.user!.id : null;
        if (user === this.lastUser) return;
        this.lastUser = user;
        if (user) void this.offer();
      }),
    );
  }

  private async offer(): Promise<void> {
    const client = this.ctx.client;
    if (!client) return;
    let invitations: MyInvitation[];
    try {
      invitations = await client.request('teams/myInvitations', {});
    } catch (err) {
      log().warn(`teams/myInvitations: ${describeError(err)}`);
      return;
    }
    for (const invitation of invitations) {
      if (this.offered.has(invitation.id)) continue;
      this.offered.add(invitation.id);
      void vscode.window.showInformationMessage(`Cairn: ${invitationMessage(invitation, formatDate)}`, ACCEPT, DECLINE).then(async (choice) => {
        try {
          await answer(client, this.parts(), invitation, choice);
        } catch (err) {
          showTeamError(err, 'Cairn could not answer the invitation');
        }
      });
    }
  }
}
