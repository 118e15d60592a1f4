import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const extensionId = 'cairn-dev.cairn';

describe('activation', () => {
  it('activates and registers every contributed command', async () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext, 'the extension under development is loaded');
    await ext.activate();
    assert.equal(ext.isActive, true);
    const all = new Set(await vscode.commands.getCommands(true));
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const missing = contributed.filter((c) => !all.has(c));
    assert.deepEqual(missing, [], 'every command in package.json has a handler');
  });
});
