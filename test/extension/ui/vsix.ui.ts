/**
 * The packaged extension: `vsce package` builds a .vsix that keeps the runtime the daemon needs (PGlite, the
 * migrations), code-server installs it, and the installed extension activates and indexes a workspace.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium as pwChromium, type Browser } from 'playwright-core';
import { chromium, chromiumArgs, codeServerDir, node24, repoRoot, startServer, stopDaemonAndRemove, workbenchUrl, type EditorServer } from '../support/toolchain.js';
import { makeWorkspace } from '../support/workspace.js';

const run = promisify(execFile);

describe('packaged extension (.vsix)', function () {
  this.timeout(300_000);
  let tmp: string;
  let server: EditorServer | null = null;
  let browser: Browser | null = null;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cairn-vsix-'));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await stopDaemonAndRemove(join(tmp, 'cairn-home'), tmp);
  });

  it('packages with vsce, installs into the editor and indexes a workspace from the installed copy', async () => {
    const vsix = join(tmp, 'cairn.vsix');
    // vsce needs Node >= 22: the toolchain's Node 24.
    await run(node24, [join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '-o', vsix], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    const { stdout: listing } = await run(node24, [join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    const files = listing.split('\n').filter(Boolean);
    for (const needed of ['dist/extension.cjs', 'dist/daemon.mjs', 'dist/webview/main.js', 'node_modules/@electric-sql/pglite/dist/pglite.wasm', 'daemon/src/store/bootstrap.sql']) {
      assert.ok(files.includes(needed), `${needed} is in the package`);
    }
    assert.ok(files.some((f) => f.startsWith('supabase/migrations/')), 'the migrations are in the package');
    for (const f of files) assert.doesNotMatch(f, /^(test|extension\/src|webview\/src|\.cache|bench)\/|\.map$|node_modules\/(?!@electric-sql\/pglite)/, `${f} should not ship`);
    const size = (await stat(vsix)).size;
    console.log(`      .vsix: ${(size / 1024 / 1024).toFixed(2)} MB, ${files.length} files`);

    const extensionsDir = join(tmp, 'vscode', 'ext');
    await run(node24, [join(codeServerDir, 'out', 'node', 'entry.js'), '--install-extension', vsix, '--extensions-dir', extensionsDir], {
      env: { ...process.env, HOME: join(tmp, 'home') },
    });

    const workspace = await makeWorkspace(join(tmp, 'workspace'), { 'workbench.startupEditor': 'none' });
    server = await startServer({ home: join(tmp, 'home'), data: join(tmp, 'vscode') });
    browser = await pwChromium.launch({ executablePath: chromium!, args: chromiumArgs });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(workbenchUrl(server.port, workspace, { installed: true, env: { CAIRN_HOME: join(tmp, 'cairn-home') } }));
    await page.locator('.activitybar .action-item a[aria-label^="Cairn"]').waitFor({ timeout: 90_000 });
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.fill('>Cairn: Index Workspace');
    await page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: /^Cairn: Index Workspace$/ }).first().click();
    await page.locator('.statusbar', { hasText: /Cairn indexed \d+ files/ }).waitFor({ timeout: 120_000 });
  });
});
