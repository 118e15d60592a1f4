/**
 * The built chat webview (dist/webview) in headless Chromium, without an editor: a reply with long inline paths,
 * a long URL and cited locations must not make the chat scroll sideways, and Send must stay in view, at the
 * narrowest sidebar (170 px) and a usual one (300 px); the cited locations become links. The same checks run in
 * the real editor in test/extension/ui/first-hour.ui.ts; this one runs in seconds. Needs `npm run build` and
 * Debian's Chromium (skipped without it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium as pw, type Browser } from 'playwright-core';

const webview = resolve(import.meta.dirname, '..', '..', 'dist', 'webview');
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const reply = [
  'The setting is read in `packages/platform/configuration/src/browser/configurationServiceWithAVeryLongFileName.ts` ',
  'and documented at https://docs.example.com/reference/configuration/workspace-settings/very/long/path/without/breaks/index.html. ',
  'It calls `resolveConfigurationValueForTheCurrentWorkspaceFolderOrFallBackToTheUserDefaults()`.\n\n',
  'Sources: src/billing/invoice.ts:7-11, docs/guide.md:5, `src/auth/session.ts:1-3`',
].join('');

describe('chat webview layout (headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let dir: string;

  before(function () {
    if (!chromium || !existsSync(join(webview, 'main.js'))) this.skip();
  });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-webview-'));
    // The webview's page as the extension serves it, with the VS Code API it expects stubbed to record messages.
    writeFileSync(
      join(dir, 'chat.html'),
      `<!DOCTYPE html><html><head><link rel="stylesheet" href="file://${webview}/main.css"></head><body><div id="app"></div>
<script>window.sent = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState() {}, setState() {} });</script>
<script src="file://${webview}/main.js"></script></body></html>`,
    );
    browser = await pw.launch({ executablePath: chromium!, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const width of [170, 300]) {
    it(`fits ${width} px without scrolling sideways, Send in view, and each cited location opens through openLocation`, async () => {
      const page = await browser.newPage({ viewport: { width, height: 700 } });
      try {
        await page.goto(`file://${join(dir, 'chat.html')}`);
        await page.evaluate((content) => {
          const entries = [
            { id: 'u1', role: 'user', content: 'Which long paths read the setting?', status: 'complete', tools: [] },
            { id: 'a1', role: 'assistant', content, status: 'complete', tools: [] },
          ];
          window.postMessage({ type: 'snapshot', body: { sessionId: 's1', title: null, entries, agentId: 'default', connected: true, access: 'owner', error: null, indexed: true } }, '*');
        }, reply);
        await page.locator('a.location').first().waitFor();
        const fit = await page.evaluate(() => {
          const log = document.getElementById('log')!;
          const send = document.getElementById('send')!.getBoundingClientRect();
          return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, log: log.scrollWidth - log.clientWidth, send: { left: send.left, right: send.right, width: send.width } };
        });
        assert.ok(fit.page <= 0 && fit.log <= 0, `the chat is wider than ${width} px: page +${fit.page} px, log +${fit.log} px`);
        assert.ok(fit.send.width > 0 && fit.send.left >= 0 && fit.send.right <= width, `Send is at ${fit.send.left}–${fit.send.right} px in ${width} px`);

        assert.deepEqual(await page.locator('a.location').allInnerTexts(), ['src/billing/invoice.ts:7-11', 'docs/guide.md:5', 'src/auth/session.ts:1-3']);
        await page.locator('a.location', { hasText: 'docs/guide.md:5' }).click();
        await page.locator('a.location', { hasText: 'src/auth/session.ts:1-3' }).focus();
        await page.keyboard.press('Enter');
        const sent = await page.evaluate(() => (window as unknown as { sent: { type: string; body: unknown }[] }).sent.filter((m) => m.type === 'openLocation').map((m) => m.body));
        assert.deepEqual(sent, [
          { path: 'docs/guide.md', startLine: 5, endLine: 5 },
          { path: 'src/auth/session.ts', startLine: 1, endLine: 3 },
        ]);
      } finally {
        await page.close();
      }
    });
  }

  it('offers "Index this workspace" in an empty chat only while the folder has no index', async () => {
    const page = await browser.newPage({ viewport: { width: 300, height: 500 } });
    try {
      await page.goto(`file://${join(dir, 'chat.html')}`);
      const show = (indexed: boolean | null) =>
        page.evaluate((i) => window.postMessage({ type: 'snapshot', body: { sessionId: null, title: null, entries: [], agentId: 'default', connected: true, access: 'owner', error: null, indexed: i } }, '*'), indexed);
      await show(false);
      await page.locator('#index-workspace').click();
      const actions = await page.evaluate(() => (window as unknown as { sent: { type: string; body: { command?: string } }[] }).sent.filter((m) => m.type === 'runAction').map((m) => m.body.command));
      assert.deepEqual(actions, ['cairn.indexWorkspace']);
      await show(true);
      await page.locator('#index-workspace').waitFor({ state: 'detached' });
      assert.doesNotMatch(await page.locator('.empty').innerText(), /Index/);
    } finally {
      await page.close();
    }
  });
});
