/**
 * A VS Code workbench in headless Chromium, opened on a fresh test workspace with the extension under
 * development, for the UI suites: they drive it like a person (command palette, QuickPick, the chat webview).
 */
import { mkdir, mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as pwChromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { chromium, chromiumArgs, installVsix, packageVsix, repoRoot, startServer, stopDaemonAndRemove, workbenchUrl, type EditorServer } from './toolchain.js';
import { makeWorkspace } from './workspace.js';
import { startTestServices, type TestServices } from './services.js';

export const resultsDir = join(repoRoot, 'test-results');

export interface Workbench {
  readonly page: Page;
  readonly workspace: string;
  readonly cairnHome: string;
  readonly services: TestServices;
  /**
   * The Supabase test servers' URL as `http://[::1]:port` (a loopback forwarder). The web workbench rewrites
   * URLs on 127.0.0.1/localhost through its port proxy, re-encoding their query; a real project URL is not
   * rewritten, and neither is [::1].
   */
  readonly supabaseUrl: string;
  /** Runs a command by its title through the command palette (F1), as a person would. */
  runCommand(title: string): Promise<void>;
  /** The chat view's content, two iframes deep. */
  chatFrame(): FrameLocator;
  /** The messages in the notification center (toasts may already have been hidden). */
  notificationTexts(): Promise<string[]>;
  /** Waits for a notification toast (as a user sees it pop up) whose text matches, and returns its text. */
  toast(text: RegExp, timeoutMs?: number): Promise<string>;
  setSetting(key: string, value: unknown): Promise<void>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface WorkbenchOptions {
  /**
   * Show notification toasts as users see them: the server runs without the smoke-test driver, so the
   * extension is packaged and installed, as a user installs it (the workbench then ignores a development path).
   */
  notifications?: boolean;
  /** Workspace settings over the test services' own. */
  settings?: Record<string, unknown>;
  /** More environment for the extension host, and so for the daemon it starts (e.g. a test-only start delay). */
  env?: Record<string, string>;
}

export async function openWorkbench(opts: WorkbenchOptions = {}): Promise<Workbench> {
  const tmp = await mkdtemp(join(tmpdir(), 'cairn-ui-'));
  const services = await startTestServices();
  let server: EditorServer | null = null;
  let browser: Browser | null = null;
  let forwarder: Server | null = null;
  let opened: Page | null = null;
  try {
    const target = new URL(services.env.CAIRN_TEST_SUPABASE_URL!);
    forwarder = createServer((socket) => {
      const upstream = connect(Number(target.port), '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((r) => forwarder!.listen(0, '::1', r));
    const supabaseUrl = `http://[::1]:${(forwarder.address() as { port: number }).port}`;
    const workspace = await makeWorkspace(join(tmp, 'workspace'), { ...services.settings, 'workbench.colorTheme': 'Default Dark Modern', ...opts.settings });
    const cairnHome = join(tmp, 'cairn-home');
    const extensionEnv = { CAIRN_HOME: cairnHome, ...services.env, ...opts.env };
    if (opts.notifications) {
      const vsix = join(tmp, 'cairn.vsix');
      await packageVsix(vsix);
      await installVsix(vsix, join(tmp, 'vscode', 'ext'), join(tmp, 'home'));
    }
    server = await startServer({ home: join(tmp, 'home'), data: join(tmp, 'vscode') }, opts.notifications ? extensionEnv : {}, { notifications: opts.notifications });
    browser = await pwChromium.launch({ executablePath: chromium!, args: chromiumArgs });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // The web workbench opens localhost URLs through the server's port proxy (`/proxy/<port>/…`), a route
    // code-server serves but the bare VS Code server does not; stand in for it, as code-server would.
    await context.route(/\/proxy\/\d+\//, (route) => {
      const u = new URL(route.request().url());
      const m = /^\/proxy\/(\d+)(\/.*)$/.exec(u.pathname);
      return m ? route.continue({ url: `http://127.0.0.1:${m[1]}${m[2]}${u.search}` }) : route.continue();
    });
    // Functions handed to page.evaluate are compiled by the test runner (tsx/esbuild), which wraps named
    // functions in its `__name` helper; the page has no such helper, so give it one that changes nothing.
    await context.addInitScript('globalThis.__name = globalThis.__name || ((target) => target);');
    const page = await context.newPage();
    opened = page;
    await page.goto(workbenchUrl(server.port, workspace, opts.notifications ? { installed: true } : { env: extensionEnv }));
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
      supabaseUrl,
      async runCommand(title) {
        const input = page.locator('.quick-input-widget input');
        const rows = page.locator('.quick-input-list .monaco-list-row');
        const focusedLabel = page.locator('.quick-input-list .monaco-list-row.focused .label-name');
        // Commands appear in the palette once the extension host has scanned the extension; retry until then.
        // The row whose label is exactly the title is picked (a longer command may be listed first).
        for (let attempt = 0; ; attempt++) {
          // Focus the workbench itself (an empty spot of the title bar): the palette closes when a webview
          // that had focus takes it back.
          await page.mouse.click(1120, 16);
          await page.keyboard.press('F1');
          try {
            await input.fill(`>${title}`, { timeout: 3000 });
            await rows.filter({ hasText: title }).first().waitFor({ timeout: 5000 });
            // Arrow down to the entry, as a person would, then Enter.
            for (let i = 0; i < 20; i++) {
              const focused = (await focusedLabel.allInnerTexts())[0]?.replace(/\s+/g, ' ').trim();
              if (focused === title) {
                await input.press('Enter');
                return;
              }
              await input.press('ArrowDown');
            }
            throw new Error(`no palette entry is exactly “${title}”`);
          } catch (err) {
            if (attempt >= 5) throw err;
            await page.keyboard.press('Escape');
          }
        }
      },
      chatFrame() {
        return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
      },
      async notificationTexts() {
        const center = page.locator('.notifications-center');
        if (!(await center.isVisible())) await wb.runCommand('Notifications: Show Notifications');
        await center.waitFor();
        const texts = await page.locator('.notifications-center .notification-list-item-message').allInnerTexts();
        await page.keyboard.press('Escape');
        return texts;
      },
      async toast(text, timeoutMs = 30_000) {
        const toast = page.locator('.notification-toast-container .notification-list-item-message', { hasText: text }).first();
        await toast.waitFor({ timeout: timeoutMs });
        return toast.innerText();
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
        forwarder?.close();
        await browser?.close();
        await server?.stop();
        await services.stop();
        await stopDaemonAndRemove(cairnHome, tmp);
      },
    };
    return wb;
  } catch (err) {
    // What the workbench showed instead, for whoever reads the failure.
    await mkdir(resultsDir, { recursive: true }).catch(() => undefined);
    await opened?.screenshot({ path: join(resultsDir, 'failed-open-workbench.png') }).catch(() => undefined);
    forwarder?.close();
    await browser?.close();
    await server?.stop();
    await services.stop();
    await stopDaemonAndRemove(join(tmp, 'cairn-home'), tmp);
    throw err;
  }
}
