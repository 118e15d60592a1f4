/**
 * The extension stays usable while the daemon starts (issue 18): the daemon is slowed at start-up by the
 * test-only CAIRN_TEST_STORE_OPEN_DELAY_MS (which the production bundle defines away), so it is still starting
 * when the user acts. The Search QuickPick opens at once and says that the query waits for the daemon; a
 * command that needs the daemon waits with a progress notification, then does its work instead of failing.
 * The workbench runs without the smoke-test driver, so the toasts are the ones a user sees.
 */
import * as assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { readDiscovery } from '../../../daemon/src/protocol/client/index.js';
import { openWorkbench, resultsDir, type Workbench } from '../support/workbench.js';

/** Long enough for the steps below to happen while the daemon is still starting, even on a loaded machine. */
const START_DELAY_MS = 30_000;

// Skipped: this suite opens the packaged .vsix (notifications: true), whose production bundle defines the test-only
// start delay (CAIRN_TEST_STORE_OPEN_DELAY_MS) away, so the daemon is up before the QuickPick can show that it waits.
// It needs a development build installed, or the delay set another way, before it can check what it says.
describe.skip('while the daemon starts', function () {
  this.timeout(240_000);
  let wb: Workbench;

  before(async function () {
    // Packaging and installing the .vsix takes minutes on a loaded machine.
    this.timeout(600_000);
    await mkdir(resultsDir, { recursive: true });
    wb = await openWorkbench({ notifications: true, env: { CAIRN_TEST_STORE_OPEN_DELAY_MS: String(START_DELAY_MS) } });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) {
      await wb.screenshot(`failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`).catch(() => undefined);
    }
  });
  after(async () => {
    await wb?.close();
  });

  it('opens the Search QuickPick at once, and Index Workspace waits with a progress notification, then indexes', async () => {
    const { page } = wb;
    /** Still starting: no daemon has published its discovery file yet. */
    const stillStarting = async (when: string) => {
      assert.equal(await readDiscovery(wb.cairnHome), null, `${when}: the daemon is not up yet`);
    };

    // The first Cairn command of the window activates the extension, which starts the daemon.
    const t0 = Date.now();
    await wb.runCommand('Cairn: Search Knowledge Base');
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'Cairn: Search Knowledge Base' }).waitFor({ timeout: 10_000 });
    const opened = Date.now() - t0;
    await stillStarting('with the QuickPick open');
    await input.pressSequentially('zebra rota', { delay: 20 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: "Waiting for Cairn's daemon to start" }).waitFor({ timeout: 5000 });
    await stillStarting('with the query waiting');
    await wb.screenshot('search-while-the-daemon-starts.png');
    await input.press('Escape');

    await wb.runCommand('Cairn: Index Workspace');
    const waiting = await wb.toast(/waiting for the daemon to start/, 10_000);
    await stillStarting('with the progress notification shown');
    await wb.screenshot('command-waits-for-the-daemon.png');
    console.log(`      Search QuickPick open ${opened} ms after the command (palette and activation included), daemon still starting; toast: "${waiting}"`);

    // Once the daemon is up the command goes on by itself and indexes, and nothing says it failed.
    await page.locator('.statusbar', { hasText: /Cairn indexed \d+ files/ }).waitFor({ timeout: START_DELAY_MS + 90_000 });
    const said = await wb.notificationTexts();
    assert.ok(!said.some((m) => /not available|could not index|failed/i.test(m)), `no failure was shown: ${said.join(' | ')}`);
  });
});
