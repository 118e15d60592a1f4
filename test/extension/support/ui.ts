/** What the UI suites do the way a person would, shared by them: wait, type in the chat, set the key, pick a theme, read the editor's selection. */
import { readdir, readFile } from 'node:fs/promises';
import type { Locator } from 'playwright-core';
import type { Workbench } from './workbench.js';

export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The machine's busy share (0..1, all cores) over `ms`, from /proc/stat; null where there is no /proc. */
async function cpuBusy(ms: number): Promise<number | null> {
  const sample = async () => {
    const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: fields[3]! + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = await sample();
    await new Promise((r) => setTimeout(r, ms));
    const b = await sample();
    return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
  } catch {
    return null;
  }
}

/**
 * Waits until the machine is mostly idle (under `busy` of all cores for a second), at most `timeoutMs`: a window
 * that has just loaded (the extension host, language servers) takes cores a timed step would share. Returns the
 * busy share last seen, for the figure's reader.
 */
export async function machineSettled(busy = 0.35, timeoutMs = 20_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  let last: number | null = null;
  while (Date.now() < deadline) {
    last = await cpuBusy(1000);
    if (last === null || last < busy) break;
  }
  return last;
}

/** A daemon held at its spawn: `pid` once caught, `resume()` lets it start. */
export interface HeldDaemon {
  pid: Promise<number>;
  resume(): void;
}

/**
 * Catches the daemon the extension spawns for `cairnHome` (a process running `daemon.mjs` with that CAIRN_HOME,
 * read from /proc) and stops it (SIGSTOP) within milliseconds of its spawn, before it can publish its discovery
 * file: a daemon as slow to start as the test wants, with nothing test-only in the packaged build. `resume()`
 * continues it (SIGCONT) and stops the search if nothing was caught.
 */
export function holdDaemonAtSpawn(cairnHome: string, timeoutMs = 120_000): HeldDaemon {
  let caught: number | null = null;
  let stopped = false;
  const pid = (async () => {
    const deadline = Date.now() + timeoutMs;
    // Processes already running are not the daemon about to be spawned: each pass reads only newer ones.
    const earlier = new Set(await readdir('/proc'));
    while (!stopped && Date.now() < deadline) {
      for (const entry of await readdir('/proc')) {
        if (earlier.has(entry) || !/^\d+$/.test(entry)) continue;
        try {
          const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
          if (!cmdline.includes('daemon.mjs')) continue;
          const environ = (await readFile(`/proc/${entry}/environ`, 'utf8')).split('\0');
          if (!environ.includes(`CAIRN_HOME=${cairnHome}`)) continue;
          process.kill(Number(entry), 'SIGSTOP');
          caught = Number(entry);
          return caught;
        } catch {
          // The process ended, or is not ours to read: not the daemon.
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`no daemon for ${cairnHome} was spawned within ${timeoutMs} ms`);
  })();
  pid.catch(() => undefined);
  return {
    pid,
    resume() {
      stopped = true;
      if (caught !== null) process.kill(caught, 'SIGCONT');
    },
  };
}

export async function textOf(l: Locator): Promise<string> {
  return (await l.count()) > 0 ? l.first().innerText() : '';
}

/** Types a message into the chat and presses Enter; returns the last assistant entry. */
export async function sendChat(wb: Workbench, text: string): Promise<Locator> {
  const chat = wb.chatFrame();
  const box = chat.locator('#input textarea');
  await box.waitFor({ timeout: 60_000 });
  await box.fill(text);
  await box.press('Enter');
  await chat.locator('.entry.user', { hasText: text }).waitFor();
  return chat.locator('.entry.assistant').last();
}

/** Enters the model API key through "Cairn: Set Model API Key", as a user does. */
export async function setModelApiKey(wb: Workbench, key: string): Promise<void> {
  await wb.runCommand('Cairn: Set Model API Key');
  const keyBox = wb.page.locator('.quick-input-widget input[type="password"]');
  await keyBox.waitFor();
  await keyBox.fill(key);
  await keyBox.press('Enter');
}

/** Picks a colour theme through "Preferences: Color Theme". */
export async function setTheme(wb: Workbench, theme: 'Light Modern' | 'Dark Modern'): Promise<void> {
  const { page } = wb;
  await wb.runCommand('Preferences: Color Theme');
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  await input.fill(theme);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor();
  await input.press('Enter');
  await page.locator(theme === 'Light Modern' ? '.monaco-workbench.vs:not(.vs-dark)' : '.monaco-workbench.vs-dark').waitFor({ timeout: 20_000 });
}

/** Waits until the active editor has a selection ending on `line` (the status bar reads "Ln 11, Col 2 (96 selected)"). */
export async function waitForSelectionEnd(wb: Workbench, line: number): Promise<void> {
  const selection = wb.page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ });
  await until(`a selection ending on line ${line}`, async () => new RegExp(`Ln ${line}, Col \\d+.*selected`).test(await textOf(selection))).catch(async (err: Error) => {
    throw new Error(`${err.message}; the status bar says “${await textOf(selection)}”`);
  });
}

/** When the QuickPick first showed each thing, in ms after `watchQuickPick` (null: never). */
export interface QuickPickTimeline {
  /** A row whose text contains the progress message (e.g. "Searching…"). */
  message: number | null;
  /** The busy bar (VS Code shows it only after 800 ms of busy). */
  busy: number | null;
  /** A row whose text contains the expected result. */
  result: number | null;
}

/**
 * Watches the QuickPick in the page itself (a MutationObserver, so a row shown for one frame is seen too) and
 * returns a reader of when the progress message, the busy bar and a result row first showed.
 */
export async function watchQuickPick(wb: Workbench, texts: { message: string; result: string }): Promise<() => Promise<QuickPickTimeline>> {
  // A string, not a function: the test runner's transpiler would wrap named functions in a helper the page lacks.
  await wb.page.evaluate(`(() => {
    const t = ${JSON.stringify(texts)};
    window.__cairnQuickPick?.observer.disconnect();
    const t0 = performance.now();
    const timeline = { message: null, busy: null, result: null };
    const observer = new MutationObserver(() => {
      const rows = [...document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row')].map((r) => r.textContent ?? '');
      const at = Math.round(performance.now() - t0);
      if (timeline.message === null && rows.some((r) => r.includes(t.message))) timeline.message = at;
      if (timeline.result === null && rows.some((r) => r.includes(t.result))) timeline.result = at;
      if (timeline.busy === null && document.querySelector('.quick-input-widget .quick-input-progress.active')) timeline.busy = at;
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['class'] });
    window.__cairnQuickPick = { timeline, observer };
  })()`);
  return () => wb.page.evaluate(() => ({ ...(window as unknown as { __cairnQuickPick: { timeline: QuickPickTimeline } }).__cairnQuickPick.timeline }));
}
