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

describe('manifest', () => {
  it('points at files that exist: icons, walkthrough pages, the bundled daemon and webview', async () => {
    const ext = vscode.extensions.getExtension(extensionId)!;
    const pkg = ext.packageJSON as {
      icon: string;
      contributes: { viewsContainers: { activitybar: { icon: string }[] }; walkthroughs: { steps: { media: { markdown: string } }[] }[] };
    };
    const files = [
      pkg.icon,
      ...pkg.contributes.viewsContainers.activitybar.map((c) => c.icon),
      ...pkg.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.media.markdown)),
      'dist/daemon.mjs',
      'dist/webview/main.js',
      'dist/webview/main.css',
      'dist/webview/codicons/codicon.css',
    ];
    for (const f of files) {
      const stat = await vscode.workspace.fs.stat(vscode.Uri.joinPath(ext.extensionUri, f)).then(
        (s) => s,
        () => null,
      );
      assert.ok(stat && stat.size > 0, `${f} exists`);
    }
  });
});
