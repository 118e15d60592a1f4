/** What the UI suites do the way a person would, shared by them: wait, type in the chat, set the key, pick a theme, read the editor's selection. */
import type { Locator } from 'playwright-core';
import type { Workbench } from './workbench.js';

export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
