/**
 * The packaged extension: `vsce package` builds a .vsix that keeps the runtime the daemon needs (PGlite, the
 * migrations) and the user-facing README (extension/README.md, not the repository's developer README), code-server
 * installs it, its page in the Extensions view reads as a user guide, and the installed extension activates and
 * indexes a workspace.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium as pwChromium, type Browser } from 'playwright-core';
import { chromium, chromiumArgs, installVsix, listVsix, packageVsix, repoRoot, startServer, stopDaemonAndRemove, workbenchUrl, type EditorServer } from '../support/toolchain.js';
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
    await packageVsix(vsix);
    const files = await listVsix();
    assert.ok(!files.includes('README.md'), 'the developer README does not ship');
    const { stdout: readme } = await run('unzip', ['-p', vsix, 'extension/readme.md'], { maxBuffer: 16 * 1024 * 1024 });
    assert.match(readme, /## Getting started/, 'the package README is the user guide');
    assert.doesNotMatch(readme, /npm ci|bash \.ci\/run/, 'the package README has no developer instructions');
    const image = /!\[[^\]]*\]\(([^)]+)\)/.exec(readme)?.[1] ?? '';
    assert.match(image, /media\/screenshots\/chat\.png$/, 'the README shows the chat screenshot');
    for (const needed of ['media/screenshots/chat.png', 'dist/extension.cjs', 'dist/daemon.mjs', 'dist/webview/main.js', 'node_modules/@electric-sql/pglite/dist/pglite.wasm', 'node_modules/@vscode/tree-sitter-wasm/wasm/tree-sitter-typescript.wasm', 'daemon/src/store/bootstrap.sql']) {
      assert.ok(files.includes(needed), `${needed} is in the package`);
    }
    assert.ok(files.some((f) => f.startsWith('supabase/migrations/')), 'the migrations are in the package');
    for (const f of files) assert.doesNotMatch(f, /^(test|extension\/src|webview\/src|\.cache|bench)\/|\.map$|node_modules\/(?!@electric-sql\/pglite|@vscode\/tree-sitter-wasm)/, `${f} should not ship`);
    const size = (await stat(vsix)).size;
    console.log(`      .vsix: ${(size / 1024 / 1024).toFixed(2)} MB, ${files.length} files`);

    const extensionsDir = join(tmp, 'vscode', 'ext');
    await installVsix(vsix, extensionsDir, join(tmp, 'home'));

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

    // The extension's page in the Extensions view, as a user opens it: the user guide, not the developer README.
    await page.keyboard.press('F1');
    await input.fill('>Extensions: Show Installed Extensions');
    await page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: /^Extensions: Show Installed Extensions$/ }).first().click();
    await page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'Cairn' }).first().click();
    let shown = '';
    const deadline = Date.now() + 60_000;
    while (!shown.includes('Getting started') && Date.now() < deadline) {
      for (const frame of page.frames()) {
        const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        if (text.includes('Getting started')) shown = text;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(shown, /Getting started[\s\S]*Settings[\s\S]*Team mode/, 'the extension page shows the user guide');
    assert.doesNotMatch(shown, /npm ci|bash \.ci\/run/);
    await mkdir(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'extension-page.png') });
  });
});
