/**
 * The status bar's index state is that of the project the daemon acts for (issue 14). A restarted daemon
 * answers from its local store until this window's team sign-in is handed over to it, so the state read at
 * connect can belong to the local store (or fail, when the read spans the switch): it must be read again once
 * the daemon acts for the user, or the status bar shows the wrong project's index, or none, until the next
 * reconnect. Runs against the Supabase test servers that run.ts starts.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { cairn, leaveTeamProject, logText, ready, recordNotifications, restartDaemonTwice, signUpInEditor, supabaseAnonKey, supabaseUrl, useProject, waitFor } from './helpers.js';
import type { CairnApi } from '../../../extension/src/extension.js';

const shown = (api: CairnApi) =>
  `text “${api.status.text}”, tooltip “${api.status.tooltip.replace(/\n/g, ' / ')}”, acting ${JSON.stringify(api.teamMode.status && [api.teamMode.status.store, api.teamMode.status.user?.email])}; ` +
  `log: ${logText(api).split('\n').filter((l) => /index|auth|session|daemon|status/i.test(l)).slice(-6).join(' / ')}`;

describe('status bar: the index state of the project the daemon acts for', function () {
  this.timeout(300_000);
  after(() => leaveTeamProject());

  it("shows the team project's index state after a sign-in and after the daemon restarts twice in a row, never the local store's", async () => {
    const api = await cairn();
    await ready(api);
    // The local store has this folder indexed.
    const local = await vscode.commands.executeCommand<{ files: number } | null>('cairn.indexWorkspace');
    assert.ok(local && local.files >= 3, `indexed locally (${local?.files} files)`);
    await waitFor(`the local index in the status bar (${shown(api)})`, () => new RegExp(`Indexed: ${local.files} files`).test(api.status.tooltip));

    // Signed in to a team project, the folder maps to a new personal project there, with nothing indexed yet.
    await useProject(supabaseUrl(), supabaseAnonKey());
    const email = `indexstate${Date.now()}@example.test`;
    const notes = recordNotifications();
    try {
      await signUpInEditor(api, email, notes);
    } finally {
      notes.dispose();
    }
    const notIndexed = () => api.status.command === 'cairn.indexWorkspace' && /index this workspace/.test(api.status.text);
    await waitFor(`the status bar to say the team project is not indexed after the sign-in (${shown(api)})`, notIndexed, 30_000);

    await restartDaemonTwice(api);
    const actingAgain = async () => {
      const c = await ready(api);
      await waitFor(`the new daemon to act as ${email}`, async () => (await c.request('auth/status', {})).user?.email === email, 60_000);
      return c;
    };
    await actingAgain();
    await waitFor(`the status bar to say the team project is not indexed after two restarts (${shown(api)})`, notIndexed, 30_000);

    // Indexed in the team project, its state shows after two restarts too: its own run, not the local one.
    const team = await vscode.commands.executeCommand<{ files: number } | null>('cairn.indexWorkspace');
    assert.ok(team && team.files >= 3, `indexed in the team project (${team?.files} files)`);
    await restartDaemonTwice(api);
    const again = await actingAgain();
    const st = await again.request('kb/status', { root: api.ctx.workspaceRoot()!, stale: false });
    const lastRun = st.models.find((m) => m.model === st.activeModel)?.lastIndexedAt;
    assert.ok(lastRun, 'the team project has a last run');
    await waitFor(
      `the team project's index in the status bar after two restarts (${shown(api)}; read ${JSON.stringify(api.status.indexState)}, team run ${lastRun})`,
      () => api.status.text.startsWith('$(check)') && new RegExp(`Indexed: ${team.files} files`).test(api.status.tooltip) && api.status.indexState?.lastIndexedAt === lastRun,
      30_000,
    );
  });
});
