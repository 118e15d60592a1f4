/**
 * Who the daemon acts as now, from `auth/status`. The `initialize` answer is from before any sign-in hand-over,
 * so it goes stale when this window (or another one sharing the keychain) signs in or out: this re-reads at
 * every connect and after every hand-over, tells the status bar, and keeps the `cairn.teamMode` context key
 * (team commands in the Sessions view's menu) true while the daemon acts as a user of a team project.
 */
import * as vscode from 'vscode';
import type { ResultOf } from '../../../daemon/src/protocol/index.js';
import type { DaemonClient } from '../client.js';
import type { Ctx } from '../ctx.js';
import type { AuthService } from '../auth/service.js';
import { describeError, log } from '../log.js';
import { supabaseSettings } from '../settings.js';

export type ActingStatus = ResultOf<'auth/status'>;

export class TeamMode {
  private acting: ActingStatus | null = null;
  private reads = 0;
  private readonly changed = new vscode.EventEmitter<ActingStatus | null>();
  /** Fires with the new answer (null while disconnected). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: Ctx, auth: AuthService) {
    ctx.pushExtension(
      this.changed,
      ctx.onDidConnect(() => void this.refresh()),
      auth.onDidChangeDaemonUser(() => void this.refresh()),
      // Another window (or the CLI) signed the shared daemon in or out.
      ctx.onNotification('auth/changed', () => void this.refresh()),
      ctx.onDidChangeState((s) => s.kind !== 'ready' && this.set(null)),
    );
  }

  /** The daemon's last `auth/status` answer; null while disconnected or not read yet. */
  get status(): ActingStatus | null {
    return this.acting;
  }

  /** Re-reads `auth/status`; overlapping reads keep the latest answer only. */
  async refresh(): Promise<ActingStatus | null> {
    const client = this.ctx.client;
    if (!client) return null;
    const read = ++this.reads;
    try {
      const status = await client.request('auth/status', {});
      if (read === this.reads) this.set(status);
      return status;
    } catch (err) {
      log().warn(`auth/status: ${describeError(err)}`);
      return null;
    }
  }

  private set(status: ActingStatus | null): void {
    const same = JSON.stringify(status) === JSON.stringify(this.acting);
    this.acting = status;
    if (same) return;
    void vscode.commands.executeCommand('setContext', 'cairn.teamMode', isTeamMode(status));
    this.changed.fire(status);
  }
}

export function isTeamMode(status: ActingStatus | null): boolean {
  return status?.store === 'supabase' && status.signedIn && status.user !== null;
}

export interface TeamModeNeed {
  /** Completes "Cairn: … Set cairn.supabase.url …", e.g. "audit logs belong to teams, which live in a team project". */
  withoutProject: string;
  /** Completes "Cairn: sign in to your team project …", e.g. "to read a team audit log". */
  toDo: string;
}

/**
 * True when the daemon acts as a signed-in user of a team project; otherwise explains what is missing (the
 * settings, a sign-in, or a hand-over still under way) with the action that fixes it, and returns false.
 */
export async function requireTeamMode(client: DaemonClient, auth: AuthService, need: TeamModeNeed): Promise<boolean> {
  if (isTeamMode(await client.request('auth/status', {}))) return true;
  if (auth.current) {
    void vscode.window
      .showInformationMessage("Cairn: you are signed in, but the daemon is not acting in your team project yet: it is still switching, or the switch failed (see the log). Try again in a moment.", 'Show Log')
      .then((a) => a && vscode.commands.executeCommand('cairn.showLog'));
  } else if (!supabaseSettings()) {
    void vscode.window
      .showInformationMessage(`Cairn: ${need.withoutProject}. Set cairn.supabase.url and cairn.supabase.anonKey, then sign in.`, 'Open Settings')
      .then((a) => a && vscode.commands.executeCommand('workbench.action.openSettings', 'cairn.supabase'));
  } else {
    void vscode.window
      .showInformationMessage(`Cairn: sign in to your team project ${need.toDo}.`, 'Sign In')
      .then((a) => a && vscode.commands.executeCommand('cairn.signIn'));
  }
  return false;
}
