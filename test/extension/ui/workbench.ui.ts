/**
 * UI suites: the workbench driven like a person, through the command palette, the QuickPick, the chat view
 * (two iframes deep) and the browser for OAuth. Screenshots land in test-results/.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { createClient } from '@supabase/supabase-js';
import { Secret, TOTP } from 'otpauth';
import WebSocket from 'ws';
import { DaemonClient, ensureDaemon, processState, readDiscovery } from '../../../daemon/src/protocol/client/index.js';
import { openWorkbench, resultsDir, type Workbench } from '../support/workbench.js';
import { MODEL_API_KEY } from '../support/services.js';
import { node24, repoRoot, stopDaemonAndRemove } from '../support/toolchain.js';
import { machineSettled, sendChat as sendChatIn, setModelApiKey, setTheme, until, waitForSelectionEnd, watchQuickPick, type QuickPickTimeline } from '../support/ui.js';

/**
 * Nora, a teammate outside the editor: her account made confirmed through the Auth admin API (the suite's
 * stand-in for her following the emailed link), a second factor, a team, and an invitation of `email`.
 */
async function teamInviting(env: Record<string, string>, email: string): Promise<string> {
  const options = { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket } };
  const nora = { email: `nora${Date.now()}@example.test`, password: 'correct horse battery' };
  const admin = createClient(env.CAIRN_TEST_SUPABASE_URL!, env.CAIRN_TEST_SUPABASE_SERVICE_ROLE_KEY!, options);
  const created = await admin.auth.admin.createUser({ ...nora, email_confirm: true });
  if (created.error) throw created.error;
  const db = createClient(env.CAIRN_TEST_SUPABASE_URL!, env.CAIRN_TEST_SUPABASE_ANON_KEY!, options);
  const signedIn = await db.auth.signInWithPassword(nora);
  if (signedIn.error) throw signedIn.error;
  const factor = await db.auth.mfa.enroll({ factorType: 'totp' });
  if (factor.error) throw factor.error;
  const code = new TOTP({ secret: Secret.fromBase32(factor.data.totp.secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
  const verified = await db.auth.mfa.challengeAndVerify({ factorId: factor.data.id, code });
  if (verified.error) throw verified.error;
  const name = `Nora's team ${Date.now().toString(36)}`;
  const team = await db.rpc('create_team', { p_name: name });
  if (team.error) throw team.error;
  const invited = await db.rpc('invite_member', { p_team_id: (team.data as { id: string }).id, p_email: email, p_role: 'member' });
  if (invited.error) throw invited.error;
  return name;
}

/** Spawn → `initialize` answered for the extension's daemon bundle, run by the editor's Node, on a home of its own. */
async function bareDaemonStarts(): Promise<{ existing: number; afterKill: number }> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-bare-'));
  const spawnSpec = { execPath: node24, args: [join(repoRoot, 'dist', 'daemon.mjs')] };
  const start = async () => {
    const t0 = performance.now();
    const info = await ensureDaemon(home, { spawn: spawnSpec, timeoutMs: 60_000 });
    const client = await DaemonClient.connect(info);
    await client.request('initialize', { clientName: 'baseline' });
    return { ms: Math.round(performance.now() - t0), pid: info.pid, client };
  };
  const stop = async (c: DaemonClient) => {
    const closed = new Promise((r) => c.onClose(r));
    await c.request('shutdown', {});
    await closed;
    await until('the daemon to exit', async () => !(await readDiscovery(home)), 15_000);
  };
  try {
    await stop((await start()).client); // a new home: the database is made
    const existing = await start();
    process.kill(existing.pid, 'SIGKILL');
    await until('the killed daemon to be gone', async () => processState(existing.pid) === 'gone' || processState(existing.pid) === 'Z', 10_000);
    const afterKill = await start();
    await stop(afterKill.client);
    return { existing: existing.ms, afterKill: afterKill.ms };
  } finally {
    await stopDaemonAndRemove(home, home);
  }
}

describe('workbench UI', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    mkdirSync(resultsDir, { recursive: true });
    wb = await openWorkbench();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) {
      await wb.screenshot(`failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`).catch(() => undefined);
    }
  });
  after(async () => {
    await wb?.close();
  });

  async function search(query: string, beforeTyping?: () => Promise<unknown>): Promise<Locator> {
    await wb.runCommand('Cairn: Search Knowledge Base');
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor();
    await beforeTyping?.();
    await input.pressSequentially(query, { delay: 20 });
    return input;
  }

  const sendChat = (text: string) => sendChatIn(wb, text);

  it('indexes, then "Cairn: Search Knowledge Base" finds a function as you type and opens it at its lines', async () => {
    const { page } = wb;
    await wb.runCommand('Cairn: Index Workspace');
    await page.locator('.statusbar', { hasText: /Cairn indexed \d+ files/ }).waitFor({ timeout: 120_000 });

    // The first search after start can take seconds: the QuickPick says it is searching before any result.
    let timeline: (() => Promise<QuickPickTimeline>) | undefined;
    const input = await search('computeQuarterlyTaxRebate', async () => (timeline = await watchQuickPick(wb, { message: 'Searching…', result: 'src/billing/invoice.ts' })));
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'src/billing/invoice.ts' }).first();
    await row.waitFor({ timeout: 15_000 });
    const seen = await timeline!();
    console.log(`      first search: "Searching…" shown at ${seen.message} ms, busy bar at ${seen.busy ?? '-'} ms, first result at ${seen.result} ms (after the QuickPick opened)`);
    assert.ok(seen.message !== null && seen.result !== null && seen.message < seen.result, `the QuickPick said it was searching before the results (${JSON.stringify(seen)})`);
    assert.match(await row.innerText(), /lines \d+–\d+/);
    await wb.screenshot('search-quickpick-dark.png');

    const info = await readDiscovery(wb.cairnHome);
    assert.ok(info, 'the extension started a daemon in CAIRN_HOME');
    const client = await DaemonClient.connect(info);
    const [hit] = await client.request('kb/search', { root: wb.workspace, query: 'computeQuarterlyTaxRebate', limit: 1 });
    await client.close();
    assert.equal(hit?.path, 'src/billing/invoice.ts');

    await input.press('Enter');
    await page.locator('.tab.active', { hasText: 'invoice.ts' }).waitFor();
    // The editor selected the passage down to its last line.
    await waitForSelectionEnd(wb, hit!.endLine);
  });

  it('streams a chat reply into the webview token by token, and Stop stops it', async () => {
    const { page } = wb;
    await setModelApiKey(wb, MODEL_API_KEY);

    await wb.runCommand('Cairn: New Chat');
    const reply = await sendChat('Please answer slowly');
    const body = reply.locator('.body');
    await until('the first words', async () => /word3\b/.test(await body.innerText()));
    const early = await body.innerText();
    assert.equal(await wb.chatFrame().locator('.banner').isVisible(), false, 'no "not connected" banner while connected');
    assert.equal(await wb.chatFrame().locator('#stop').isVisible(), true, 'Stop shows while the reply streams');
    await wb.screenshot('chat-midstream-dark.png');
    await until('more words', async () => (await body.innerText()).length > early.length + 20);
    await wb.chatFrame().locator('#stop').click();
    await reply.locator('.status-note', { hasText: 'Stopped.' }).waitFor({ timeout: 10_000 });
    assert.ok(!(await body.innerText()).includes('The end.'));
    assert.equal(await wb.chatFrame().locator('#stop').isVisible(), false, 'Stop hides once the reply ended');
  });

  it('renders markdown with highlighted code, and inserts a code block at the cursor', async () => {
    const { page } = wb;
    await wb.runCommand('Cairn: New Chat');
    await wb.chatFrame().locator('.empty').waitFor();
    await wb.runCommand('File: New Untitled Text File');
    await page.locator('.tab.active', { hasText: 'Untitled' }).waitFor();
    const reply = await sendChat('Where is the tax rebate computed?');
    const code = reply.locator('.code-block code.hljs');
    await code.waitFor({ timeout: 30_000 });
    assert.match(await code.innerText(), /const rebate = invoice\.amountCents \* 0\.07;/);
    assert.ok((await code.locator('.hljs-keyword').count()) > 0, 'the code is highlighted');
    assert.ok((await reply.locator('.body code', { hasText: 'computeQuarterlyTaxRebate' }).count()) > 0, 'inline code rendered');
    await reply.locator('.code-action[data-action="insert"]').click();
    await until('the code in the editor', async () => /const rebate = invoice\.amountCents/.test((await page.locator('.editor-instance .view-lines').allInnerTexts()).join('\n').replace(/\u00a0/g, ' ')));
  });

  it('shows tool calls compactly, and the chat survives the view being hidden', async () => {
    const { page } = wb;
    await wb.runCommand('Cairn: New Chat');
    await wb.chatFrame().locator('.empty').waitFor();
    const reply = await sendChat('Who picks the release captain? Look it up.');
    const tool = reply.locator('.tool', { hasText: 'search_knowledge_base' });
    await tool.waitFor({ timeout: 30_000 });
    assert.match(await tool.locator('summary').innerText(), /search_knowledge_base\(query: zebra rota release captain\)/);
    await reply.locator('.body', { hasText: 'zebra rota (see docs/guide.md)' }).waitFor({ timeout: 30_000 });
    await until('the tool call to finish', async () => (await tool.getAttribute('class'))?.includes('done') === true);
    await tool.locator('summary').click();
    assert.match(await tool.locator('.result').innerText(), /docs\/guide\.md/, 'the result is there when expanded');

    // Hide the Cairn views (switch to the Explorer), then come back: the conversation is still there.
    await wb.runCommand('View: Show Explorer');
    await page.locator('.sidebar .composite.title', { hasText: /explorer/i }).waitFor();
    await page.locator('.activitybar .action-item a[aria-label^="Cairn"]').click();
    const again = wb.chatFrame().locator('.entry.assistant').last();
    await again.locator('.body', { hasText: 'zebra rota (see docs/guide.md)' }).waitFor({ timeout: 15_000 });
    assert.equal(await wb.chatFrame().locator('.entry.user').last().innerText().then((t) => t.includes('Who picks the release captain?')), true);
  });

  it('looks right in the light theme (chat mid-stream and the search QuickPick)', async () => {
    const { page } = wb;
    await setTheme(wb, 'Light Modern');
    await wb.runCommand('Cairn: New Chat');
    const reply = await sendChat('Once more, slowly please');
    await until('the first words', async () => /word3\b/.test(await reply.locator('.body').innerText()));
    await wb.screenshot('chat-midstream-light.png');
    await wb.chatFrame().locator('#stop').click();
    await reply.locator('.status-note', { hasText: 'Stopped.' }).waitFor({ timeout: 10_000 });

    const input = await search('zebra rota');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'docs/guide.md' }).first().waitFor({ timeout: 15_000 });
    await wb.screenshot('search-quickpick-light.png');
    await input.press('Escape');
  });

  // Once in a full UI run under load (2026-12-07) the window showed no Cairn status item after the kill and no new
  // daemon came within 90 s; alone it passed (4.1 s after a reload, 4.5 s without). One retry until that run is
  // understood: a second failure still fails the suite.
  it('reconnects as fast after a window reload as without one when the daemon is killed (no 60 s wait on a dead lock holder)', async () => {
    const { page } = wb;
    // The Cairn status bar item once connected: a check, or (not indexed) the offer to index.
    const cairnReady = page.locator('.statusbar-item', { has: page.locator('.codicon-check, .codicon-database') }).filter({ hasText: /Cairn/ });
    const busyAtKill: string[] = [];
    async function killAndTimeReconnect(): Promise<number> {
      const before = await readDiscovery(wb.cairnHome);
      assert.ok(before, 'a daemon is running');
      // Both kills start on a quiet machine: right after a reload the new window (extension host, language
      // servers) takes the cores the new daemon needs, which the reconnect itself does not cost.
      const busy = await machineSettled();
      busyAtKill.push(busy === null ? '?' : `${Math.round(busy * 100)}%`);
      process.kill(before.pid, 'SIGKILL');
      const t0 = Date.now();
      await until('the status bar to leave ready', async () => (await cairnReady.count()) === 0, 10_000);
      await until('a new daemon, and the status bar ready again', async () => {
        const now = await readDiscovery(wb.cairnHome);
        return !!now && now.pid !== before.pid && (await cairnReady.count()) > 0;
      }, 90_000);
      return Date.now() - t0;
    }
    const cairnIcon = page.locator('.activitybar .action-item a[aria-label^="Cairn"]');
    // Opening the Cairn views activates the extension (as the earlier tests' commands did).
    await cairnIcon.click();
    await cairnReady.first().waitFor({ timeout: 90_000 });
    // Baseline in this run: the daemon this window started dies.
    const baseline = await killAndTimeReconnect();
    // Reload: a new extension host; the daemon the old one started lives on, re-parented (to PID 1 here, which
    // may leave it a zombie once killed), and this window reconnects to it.
    await wb.runCommand('Developer: Reload Window');
    await cairnIcon.waitFor({ timeout: 60_000 });
    if ((await cairnReady.count()) === 0) await cairnIcon.click();
    await cairnReady.first().waitFor({ timeout: 90_000 });
    const afterReload = await killAndTimeReconnect();
    // The daemon's own share, in this run: the same bundle started by the same runtime outside the editor.
    const bare = await bareDaemonStarts();
    console.log(
      `      reconnect after kill -9: ${afterReload} ms after a window reload, ${baseline} ms without (target < 3000 ms on an idle machine; ` +
        `cores busy at the kills: ${busyAtKill.join(', ')}); bare daemon spawn → initialize answered: ${bare.existing} ms (existing home), ${bare.afterKill} ms (after kill -9)`,
    );
    // The bug made this 63 s (a zombie taken for a live lock holder, then the 60 s start timeout). The speed
    // itself is the figure above, not a timed assertion: a loaded machine moves it.
    assert.ok(afterReload < baseline + 10_000, `after the reload it took ${afterReload} ms, without a reload ${baseline} ms`);
  }).retries(1);

  it('signs in with GitHub in the browser and comes back through the URI handler; a team invitation waits with Accept and Decline', async () => {
    const { page } = wb;
    const teamName = await teamInviting(wb.services.env, 'octocat@users.noreply.github.com');
    await wb.setSetting('cairn.supabase.url', wb.supabaseUrl);
    await wb.setSetting('cairn.supabase.anonKey', wb.services.env.CAIRN_TEST_SUPABASE_ANON_KEY);
    // The workbench reads settings.json when its file watcher fires: until then Sign In still sees embedded mode.
    await new Promise((r) => setTimeout(r, 5000));
    await wb.runCommand('Cairn: Sign In');
    const popup = page.context().waitForEvent('page', { timeout: 30_000 });
    const github = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Continue with GitHub' });
    await github.waitFor();
    await github.click();
    // VS Code may ask before opening an external website; a person clicks "Open".
    const open = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Open$/ });
    const opened = await Promise.race([popup.then(() => 'tab' as const), open.waitFor({ timeout: 30_000 }).then(() => 'dialog' as const)]);
    if (opened === 'dialog') await open.click();
    const browserTab = await popup;
    const visited: string[] = [];
    browserTab.on('framenavigated', (f) => f === browserTab.mainFrame() && visited.push(f.url()));
    await browserTab.waitForLoadState().catch(() => undefined);
    await until('the browser to come back to the editor', async () => [browserTab.url(), ...visited].some((u) => u.includes('/callback?') && u.includes('vscode-')), 15_000).catch(() => {
      throw new Error(`the browser went to: ${[browserTab.url(), ...visited].join(' -> ')}`);
    });
    await page.locator('.statusbar', { hasText: 'octocat@users.noreply.github.com' }).waitFor({ timeout: 30_000 });
    assert.ok((await wb.notificationTexts()).some((t) => t.includes('signed in as octocat@users.noreply.github.com')));
    await wb.screenshot('signed-in-dark.png');

    // Signing in joined nothing: the invitation is offered, with who invites, the team and the role.
    const info = await readDiscovery(wb.cairnHome);
    assert.ok(info);
    const client = await DaemonClient.connect(info);
    try {
      const offer = page.locator('.notifications-toasts .notification-toast', { hasText: `invites you to join the team ${teamName} as a member` });
      if (!(await offer.isVisible())) await wb.runCommand('Notifications: Show Notifications');
      const shown = page.locator('.notification-list-item', { hasText: `invites you to join the team ${teamName} as a member` }).first();
      await shown.waitFor({ timeout: 30_000 });
      assert.match(await shown.innerText(), /nora\d+@example\.test invites you/);
      assert.deepEqual(await client.request('teams/list', {}), [], 'not a member before answering');
      await wb.screenshot('team-invitation-dark.png');
      const buttons = await shown.locator('.monaco-button').allInnerTexts();
      assert.deepEqual(buttons.map((b) => b.trim()).filter((b) => b === 'Accept' || b === 'Decline'), ['Accept', 'Decline']);
      await shown.locator('.monaco-button', { hasText: /^Accept$/ }).click();
      await until('the team joined', async () => (await client.request('teams/list', {})).some((t) => t.name === teamName && t.role === 'member'));
      await until('the joined message', async () => (await wb.notificationTexts()).some((t) => t.includes(`you joined ${teamName} as a member`)));
    } finally {
      await client.close();
    }
  });
});
