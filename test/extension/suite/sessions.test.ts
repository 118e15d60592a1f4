import * as assert from 'node:assert/strict';
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
});
