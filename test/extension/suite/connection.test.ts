import * as assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cairn, logText, ready, recordFigure, recordNotifications, restartDaemonTwice, waitFor } from './helpers.js';

function discovery(): { pid: number; port: number } {
  return JSON.parse(readFileSync(join(process.env.CAIRN_HOME!, 'daemon.json'), 'utf8'));
}

describe('daemon connection', function () {
  this.timeout(120_000);

  it('starts the bundled daemon with the editor runtime and shows ready in the status bar', async () => {
    const api = await cairn();
    const t0 = Date.now();
    const client = await ready(api);
    recordFigure('activation (activate() to return)', `${api.activationMs.toFixed(1)} ms`);
    recordFigure('first daemon start, fresh CAIRN_HOME, to ready', `${Date.now() - t0} ms after activation`);
    const status = await client.request('daemon/status', {});
    assert.equal(status.store, 'embedded');
    assert.equal(status.home, process.env.CAIRN_HOME);
    assert.equal(discovery().pid, status.pid, 'the daemon wrote its discovery file in CAIRN_HOME');
    // Ready: a check, or (a fresh folder) the offer to index it.
    assert.match(api.status.text, /\$\((check|database)\) Cairn/);
    assert.ok(api.activationMs < 500, `activation took ${api.activationMs} ms`);
  });

  it('reconnects after the daemon is killed, and commands wait for it instead of failing', async () => {
    const api = await cairn();
    await ready(api);
    const before = discovery().pid;
    const states: string[] = [];
    const sub = api.ctx.onDidChangeState((s) => states.push(s.kind));
    try {
      process.kill(before, 'SIGKILL');
      await waitFor('the connection to drop', () => states.includes('down'), 10_000);
      assert.match(api.status.text, /\$\(error\)|\$\(loading/);
      // Run while the daemon is coming back: the command waits for it and works.
      const indexed = await vscode.commands.executeCommand<{ files: number } | null>('cairn.indexWorkspace');
      assert.ok(indexed && indexed.files >= 3, `indexing after the restart saw ${indexed?.files} files`);
      const after = discovery().pid;
      assert.notEqual(after, before, 'a new daemon process was started');
      assert.equal(api.ctx.state.kind, 'ready');
    } finally {
      sub.dispose();
    }
  });

  it('shows the index state in the status bar again after the daemon restarts twice in a row', async () => {
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    // Indexed (by the earlier tests, or here when run alone): the status bar says how much.
    await vscode.commands.executeCommand('cairn.indexWorkspace');
    const st = await client.request('kb/status', { root, stale: false });
    const files = st.models.find((m) => m.model === st.activeModel)?.byKind.file?.sources ?? 0;
    assert.ok(files >= 3, `the workspace is indexed (${files} files)`);
    const indexed = new RegExp(`Indexed: ${files} files`);
    await waitFor(`the status bar to show the index (${api.status.tooltip})`, () => api.status.text.startsWith('$(check)') && indexed.test(api.status.tooltip));
    // Twice in a row: the second daemon dies the moment the extension has connected to it.
    await restartDaemonTwice(api);
    await waitFor(
      `the status bar to show the index after two restarts (text ${api.status.text}; tooltip ${api.status.tooltip}; log: ${logText(api).split('\n').filter((l) => /index|connect|daemon/i.test(l)).slice(-8).join(' / ')})`,
      () => api.status.text.startsWith('$(check)') && indexed.test(api.status.tooltip),
      10_000,
    );
  });

  it('explains itself at once, offering Reconnect, when the daemon cannot start', async () => {
    const api = await cairn();
    await ready(api);
    const home = process.env.CAIRN_HOME!;
    const { pid } = discovery();
    // A CAIRN_HOME that is a file: the daemon cannot start there.
    const blocked = join(tmpdir(), `cairn-not-a-folder-${Date.now()}`);
    writeFileSync(blocked, 'not a folder');
    const notes = recordNotifications();
    process.env.CAIRN_HOME = blocked;
    try {
      process.kill(pid, 'SIGKILL');
      await waitFor('a failed start', () => api.ctx.state.kind === 'down' && !api.ctx.state.transient, 30_000);
      assert.match(api.status.text, /\$\(error\)/);
      const t0 = Date.now();
      await vscode.commands.executeCommand('cairn.searchKnowledgeBase');
      assert.ok(Date.now() - t0 < 5000, `the command took ${Date.now() - t0} ms to explain itself`);
      assert.ok(notes.messages.some((m) => /daemon is not available/.test(m)), notes.messages.join(' | '));
    } finally {
      process.env.CAIRN_HOME = home;
      notes.dispose();
      rmSync(blocked, { force: true });
    }
    api.ctx.reconnect();
    await ready(api);
  });
});
