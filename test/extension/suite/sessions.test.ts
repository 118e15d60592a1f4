import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { cairn, ready, waitFor } from './helpers.js';
import type { CairnApi } from '../../../extension/src/extension.js';

type TreeNode = Parameters<CairnApi['sessions']['getTreeItem']>[0];

/** Labels of the session rows as the tree shows them, group by group. */
async function shownSessions(api: CairnApi): Promise<{ label: string; id: string; context: string }[]> {
  const out: { label: string; id: string; context: string }[] = [];
  const walk = async (nodes: TreeNode[]) => {
    for (const n of nodes) {
      const item = api.sessions.getTreeItem(n);
      if (n.kind === 'session') out.push({ label: String(item.label), id: n.session.id, context: item.contextValue ?? '' });
      else await walk(await api.sessions.getChildren(n));
    }
  };
  await walk(await api.sessions.getChildren());
  return out;
}

describe('sessions view', function () {
  this.timeout(120_000);

  it('lists sessions newest first and follows rename, archive and delete live', async () => {
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const older = await client.request('sessions/create', { root, title: 'Older question' });
    await new Promise((r) => setTimeout(r, 20));
    const newer = await client.request('sessions/create', { root, title: 'Newer question' });
    // The daemon reports the new sessions (topic `sessions`); the tree reloads without a manual refresh.
    const rows = await waitFor('both sessions in the tree', async () => {
      const r = await shownSessions(api);
      return r.some((x) => x.id === older.id) && r.some((x) => x.id === newer.id) ? r : null;
    });
    assert.ok(rows.findIndex((x) => x.id === newer.id) < rows.findIndex((x) => x.id === older.id), 'most recent first');
    assert.equal(rows.find((x) => x.id === older.id)?.context, 'session.private.own', 'context menu offers share, rename, archive, delete');

    await vscode.commands.executeCommand('cairn.renameSession', older.id, 'Tax rebate rounding');
    await waitFor('the new title', async () => (await shownSessions(api)).some((x) => x.id === older.id && x.label === 'Tax rebate rounding'));

    await vscode.commands.executeCommand('cairn.archiveSession', older.id);
    await waitFor('the archived session to leave the list', async () => !(await shownSessions(api)).some((x) => x.id === older.id));

    await vscode.commands.executeCommand('cairn.deleteSession', newer.id, { confirm: false });
    await waitFor('the deleted session to leave the list', async () => !(await shownSessions(api)).some((x) => x.id === newer.id));
    await assert.rejects(client.request('sessions/get', { sessionId: newer.id }), /not|found/i);
  });

  it('opens a stored session in the chat view', async () => {
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const sent = await client.request('chat/send', { root, content: 'What is the zebra rota?' });
    await waitFor('the reply to be stored', async () => {
      const s = await client.request('sessions/get', { sessionId: sent.sessionId });
      return s.messages.some((m) => m.role === 'assistant' && m.status !== 'streaming');
    });
    await vscode.commands.executeCommand('cairn.openSession', sent.sessionId);
    const snap = api.chat.snapshot();
    assert.equal(snap.sessionId, sent.sessionId);
    assert.equal(snap.entries[0]?.content, 'What is the zebra rota?');
    assert.equal(snap.entries[1]?.role, 'assistant');
  });

  it('in embedded mode: Share is not offered and explains itself, Sign In informs, another folder\'s sessions carry its name', async () => {
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const menus = (api.ctx.extension.extension.packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } }).contributes.menus;
    for (const where of ['view/item/context', 'commandPalette']) {
      const share = menus[where]?.find((m) => m.command === 'cairn.shareSession');
      assert.match(share?.when ?? '', /\bcairn\.teamMode\b/, `${where} offers Share Session only in team mode`);
    }
    const shown: { kind: string; text: string }[] = [];
    const w = vscode.window as unknown as Record<string, (...a: unknown[]) => Thenable<unknown>>;
    const kinds = { showErrorMessage: 'error', showWarningMessage: 'warning', showInformationMessage: 'info' } as const;
    const originals = Object.fromEntries(Object.keys(kinds).map((k) => [k, w[k]!]));
    for (const [k, kind] of Object.entries(kinds)) {
      // Recorded and answered at once (no button picked), as if the user closed it.
      w[k] = (...a: unknown[]) => (shown.push({ kind, text: String(a[0]) }), Promise.resolve(undefined));
    }
    try {
      // Run anyway (a keybinding, an old habit): information that says why, not a red failure.
      const s = await client.request('sessions/create', { root, title: 'Not for sharing' });
      await vscode.commands.executeCommand('cairn.shareSession', s.id);
      await waitFor('the explanation', () => shown.length > 0);
      assert.equal(shown[0]?.kind, 'info', shown[0]?.text);
      assert.match(shown[0]!.text, /team project/);
      assert.equal((await client.request('sessions/get', { sessionId: s.id })).session.visibility, 'private');
      shown.length = 0;
      await vscode.commands.executeCommand('cairn.signIn');
      await waitFor('the sign-in answer', () => shown.length > 0);
      assert.equal(shown[0]?.kind, 'info', shown[0]?.text);
      assert.match(shown[0]!.text, /^Cairn: no sign-in is needed in embedded mode/);
      assert.doesNotMatch(shown[0]!.text, /Cairn: Cairn/);
    } finally {
      for (const k of Object.keys(kinds)) w[k] = originals[k]!;
    }
    // A session of another folder is listed under that folder's name, not "Project 1a2b3c4d".
    const other = mkdtempSync(join(tmpdir(), 'other-folder-'));
    const o = await client.request('sessions/create', { root: other, title: 'From the other folder' });
    const label = await waitFor('the other folder in the sessions view', async () => {
      for (const group of await api.sessions.getChildren()) {
        for (const n of await api.sessions.getChildren(group)) {
          if (n.kind === 'project' && n.sessions.some((x) => x.id === o.id)) return String(api.sessions.getTreeItem(n).label);
        }
      }
      return null;
    });
    assert.equal(label, basename(other));
  });
});
