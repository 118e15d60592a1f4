/**
 * A VS Code workbench in headless Chromium, opened on a fresh test workspace with the extension under
 * development, for the UI suites: they drive it like a person (command palette, QuickPick, the chat webview).
 */
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as pwChromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { chromium, chromiumArgs, repoRoot, startServer, workbenchUrl, type EditorServer } from './toolchain.js';
import { makeWorkspace } from './workspace.js';
import { startTestServices, type TestServices } from './services.js';

export const resultsDir = join(repoRoot, 'test-results');

export interface Workbench {
  readonly page: Page;
  readonly workspace: string;
  readonly cairnHome: string;
  readonly services: TestServices;
  /** Runs a command by its title through the command palette (F1), as a person would. */
  runCommand(title: string): Promise<void>;
  /** The chat view's content, two iframes deep. */
  chatFrame(): FrameLocator;
  /** Notification toasts currently shown. */
  notifications(): Locator;
  setSetting(key: string, value: unknown): Promise<void>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openWorkbench(): Promise<Workbench> {
  const tmp = await mkdtemp(join(tmpdir(), 'cairn-ui-'));
  const services = await startTestServices();
  let server: EditorServer | null = null;
  let browser: Browser | null = null;
  try {
    const workspace = await makeWorkspace(join(tmp, 'workspace'), { ...services.settings, 'workbench.colorTheme': 'Default Dark Modern' });
    const cairnHome = join(tmp, 'cairn-home');
    server = await startServer({ home: join(tmp, 'home'), data: join(tmp, 'vscode') });
    browser = await pwChromium.launch({ executablePath: chromium!, args: chromiumArgs });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(workbenchUrl(server.port, workspace, { env: { CAIRN_HOME: cairnHome, ...services.env } }));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.statusbar').waitFor();
    // The extension is registered once its view container shows in the activity bar.
    await page.locator('.activitybar .action-item a[aria-label^="Cairn"]').waitFor({ timeout: 60_000 });
    const settingsFile = join(workspace, '.vscode', 'settings.json');
    const wb: Workbench = {
      page,
      workspace,
      cairnHome,
      services,
      async runCommand(title) {
        const input = page.locator('.quick-input-widget input');
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
        // Commands appear in the palette once the extension host has scanned the extension; retry until then.
        for (let attempt = 0; ; attempt++) {
          await page.keyboard.press('F1');
          await input.waitFor();
          await input.fill(`>${title}`);
          try {
            await row.waitFor({ timeout: 5000 });
            break;
          } catch (err) {
            if (attempt >= 5) throw err;
            await page.keyboard.press('Escape');
          }
        }
        await input.press('Enter');
      },
      chatFrame() {
        return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
      },
      notifications() {
        return page.locator('.notifications-toasts .notification-toast');
      },
      async setSetting(key, value) {
        const current = JSON.parse(await readFile(settingsFile, 'utf8')) as Record<string, unknown>;
        current[key] = value;
        await writeFile(settingsFile, JSON.stringify(current, null, 2));
      },
      async screenshot(name) {
        const path = join(resultsDir, name);
        await page.screenshot({ path });
        return path;
      },
      async close() {
        await browser?.close();
        await server?.stop();
        await services.stop();
        await rm(tmp, { recursive: true, force: true });
      },
    };
    return wb;
  } catch (err) {
    await browser?.close();
    await server?.stop();
    await services.stop();
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
