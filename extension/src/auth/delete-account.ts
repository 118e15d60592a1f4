/**
 * "Cairn: Delete My Account" (`cairn.deleteAccount`): deletes the signed-in user's own account in the team
 * project, after a modal that says what goes and what stays and the user typing their email to confirm; then
 * signs out. Team mode only: the embedded store has one local user and no account to delete.
 */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client.js';
import { errorReason } from '../../../daemon/src/protocol/errors.js';
import { explain, isCancellation, SECOND_FACTOR_ACTION } from '../errors.js';
import { requireTeamMode } from '../teams/mode.js';
import type { AuthService } from './service.js';

export const DELETE_ACCOUNT_DETAIL =
  'This cannot be undone. Your private sessions, personal projects and agents, API keys and every team you are the only ' +
  'member of are deleted. Teams keep what you shared with them (shared sessions, messages, projects), shown as written by ' +
  'a deleted user. If you are the last owner of a team with other members, make someone else its owner first.';

/** Whether `typed` confirms `email` (case and surrounding spaces aside, as the daemon compares). */
export function confirmsEmail(typed: string, email: string): boolean {
  return typed.trim().toLowerCase() === email.trim().toLowerCase();
}

async function say(kind: 'info' | 'error', message: string, actions: { label: string; command: string }[] = []): Promise<void> {
  const show = kind === 'info' ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
  const picked = await show(message, ...actions.map((a) => a.label));
  const a = actions.find((x) => x.label === picked);
  if (a) await vscode.commands.executeCommand(a.command);
}

export async function deleteMyAccount(client: DaemonClient, auth: AuthService): Promise<boolean> {
  try {
    const need = { withoutProject: 'accounts live in a team project (Supabase); embedded mode has one local user and no account to delete', toDo: 'to delete your account' };
    if (!(await requireTeamMode(client, auth, need))) return false;
    const email = (await client.request('auth/status', {})).user?.email ?? null;
    if (!email) {
      void say('error', 'Cairn: this account has no email to confirm its deletion with.');
      return false;
    }
    const go = await vscode.window.showWarningMessage(`Delete your Cairn account ${email}?`, { modal: true, detail: DELETE_ACCOUNT_DETAIL }, 'Delete Account…');
    if (go !== 'Delete Account…') return false;
    const typed = await vscode.window.showInputBox({
      title: 'Cairn: Delete My Account',
      prompt: `Type your email (${email}) to delete your account. This cannot be undone.`,
      placeHolder: email,
      ignoreFocusOut: true,
      validateInput: (v) => (v === '' || confirmsEmail(v, email) ? null : 'Type the email of the signed-in account exactly.'),
    });
    if (typed === undefined || !confirmsEmail(typed, email)) return false;
    await client.request('auth/deleteAccount', { email: typed });
    // The daemon has switched back to the local store; forget the editor's session too.
    await auth.signOut();
    void say('info', `Cairn: your account ${email} was deleted.`);
    return true;
  } catch (err) {
    if (isCancellation(err)) return false;
    switch (errorReason(err)) {
      case 'lastOwner':
        void say('error', 'Cairn did not delete your account: you are the last owner of a team that has other members. Make another member its owner (Cairn: Manage Team), then try again.', [
          { label: 'Manage Team', command: 'cairn.manageTeam' },
        ]);
        return false;
      case 'secondFactor':
        void say('error', 'Cairn did not delete your account: your account has two-factor authentication, so this sign-in must be confirmed with a code first.', [SECOND_FACTOR_ACTION]);
        return false;
    }
    const e = explain(err);
    void say('error', `Cairn did not delete your account: ${e.message}`, e.actions);
    return false;
  }
}
