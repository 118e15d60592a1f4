/** Helpers for the suites that run inside the extension host. */
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CairnApi } from '../../../extension/src/extension.js';

export const extensionId = 'cairn-dev.cairn';

export async function cairn(): Promise<CairnApi> {
  const ext = vscode.extensions.getExtension<CairnApi>(extensionId);
  if (!ext) throw new Error('the extension under test is not loaded');
  const api = await ext.activate();
  if (!api) throw new Error('the extension failed to activate');
  return api;
}

export async function waitFor<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function ready(api: CairnApi, timeoutMs = 90_000) {
  return waitFor('the daemon connection', () => (api.ctx.state.kind === 'ready' && api.ctx.client ? api.ctx.client : null), timeoutMs);
}

/**
 * Records what the extension shows in notifications. The suites are part of the extension under development,
 * so they share its `vscode` API object; wrapping the window's message functions observes the real calls
 * (they still show) without replacing them.
 */
export function recordNotifications(): { messages: string[]; dispose(): void } {
  const w = vscode.window as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['showErrorMessage', 'showWarningMessage', 'showInformationMessage'] as const;
  const originals = names.map((n) => w[n]!);
  const messages: string[] = [];
  names.forEach((n, i) => {
    w[n] = (...a: unknown[]) => {
      messages.push(String(a[0]));
      return originals[i]!.apply(vscode.window, a);
    };
  });
  return {
    messages,
    dispose: () => names.forEach((n, i) => (w[n] = originals[i]!)),
  };
}

/**
 * What the extension wrote to its Output channel ("Cairn", a LogOutputChannel): VS Code keeps it as a .log file
 * in the extension's log folder, which is what "Cairn: Show Log" shows.
 */
export function logText(api: CairnApi): string {
  const dir = api.ctx.extension.logUri.fsPath;
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** A measured figure, printed by run.ts after the suites (e.g. activation time). */
export function recordFigure(name: string, value: string): void {
  const g = globalThis as { __cairnFigures?: Record<string, string> };
  (g.__cairnFigures ??= {})[name] = value;
}

/** The Supabase test project run.ts started (Auth, PostgREST, Realtime over PGlite). */
export const supabaseUrl = (): string => process.env.CAIRN_TEST_SUPABASE_URL!;
export const supabaseAnonKey = (): string => process.env.CAIRN_TEST_SUPABASE_ANON_KEY!;
/** The password the team suites sign their users up with. */
export const TEST_PASSWORD = 'correct horse battery';

/** Points the extension at a Supabase project (empty strings: none), as a user would in settings. */
export async function useProject(projectUrl: string, key: string): Promise<void> {
  const c = vscode.workspace.getConfiguration('cairn');
  await c.update('supabase.url', projectUrl, vscode.ConfigurationTarget.Workspace);
  await c.update('supabase.anonKey', key, vscode.ConfigurationTarget.Workspace);
}

/**
 * Confirms an address as its owner does by following the emailed link, through the Auth admin API with the
 * test project's service-role key (the suites' key; the extension and the daemon never hold one).
 */
export async function confirmEmail(email: string): Promise<void> {
  const key = process.env.CAIRN_TEST_SUPABASE_SERVICE_ROLE_KEY!;
  const headers = { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const listed = (await (await fetch(`${supabaseUrl()}/auth/v1/admin/users`, { headers })).json()) as { users: { id: string; email: string }[] };
  const user = listed.users.find((u) => u.email === email.toLowerCase());
  assert.ok(user, `an account for ${email}`);
  const confirmed = await fetch(`${supabaseUrl()}/auth/v1/admin/users/${user.id}`, { method: 'PUT', headers, body: JSON.stringify({ email_confirm: true }) });
  assert.equal(confirmed.status, 200, await confirmed.text());
}

/**
 * Signs up through the extension (which, with email confirmations on, says to follow the emailed link and
 * signs in nobody), confirms the address, and signs in; or only signs in (`email`). Waits until the daemon
 * acts as that user against the team project; returns its id.
 */
export async function signUpInEditor(api: CairnApi, email: string, notes: { messages: string[] }, method: 'signup' | 'email' = 'signup'): Promise<string> {
  if (method === 'signup') {
    const pending = await api.auth.signInInteractive({ method, email, password: TEST_PASSWORD });
    assert.ok(!pending, 'no session before the address is confirmed');
    assert.ok(
      notes.messages.some((m) => m === `Cairn: check ${email} for a confirmation link, then sign in.`),
      `the extension says to confirm the address (notifications: ${notes.messages.join(' | ')})`,
    );
    await confirmEmail(email);
  }
  const session = await api.auth.signInInteractive({ method: 'email', email, password: TEST_PASSWORD });
  assert.ok(session && typeof session === 'object', `${method === 'signup' ? 'sign-up' : 'sign-in'} of ${email} returned a session (notifications: ${notes.messages.join(' | ')})`);
  const client = await ready(api);
  let last: unknown = null;
  const status = await waitFor(`the daemon to act as ${email}`, async () => {
    const s = (last = await client.request('auth/status', {}));
    return s.store === 'supabase' && s.user?.email === email ? s : null;
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; auth/status: ${JSON.stringify(last)}; notifications: ${notes.messages.join(' | ')}`);
  });
  return status.user!.id;
}

/** A team suite's `after`: signs out if signed in and forgets the Supabase project, so later suites start clean. */
export async function leaveTeamProject(): Promise<void> {
  const api = await cairn();
  if (api.auth.current) await api.auth.signOut();
  await useProject('', '');
}

/**
 * Accepts the signed-in user's invitation to a team through the daemon, as Accept in the invitation's
 * notification does (teams.test.ts drives the buttons themselves), and waits for the sessions tree to know it.
 */
export async function joinInvitedTeam(api: CairnApi, teamId: string): Promise<void> {
  const client = await ready(api);
  const invitation = await waitFor(`an invitation to team ${teamId}`, async () =>
    (await client.request('teams/myInvitations', {})).find((i) => i.teamId === teamId),
  );
  await client.request('teams/acceptInvitation', { invitationId: invitation.id });
  api.sessions.refresh();
}

/** The pid in the daemon's discovery file. */
export function daemonPid(): number {
  return (JSON.parse(readFileSync(join(process.env.CAIRN_HOME!, 'daemon.json'), 'utf8')) as { pid: number }).pid;
}

/**
 * Restarts the daemon twice in a row: kills it, then kills its successor the moment the extension has
 * connected to it (its `initialize` answered, the reads each connect starts just sent), and waits for the
 * third. Returns the pids of the two killed.
 */
export async function restartDaemonTwice(api: CairnApi): Promise<number[]> {
  await ready(api);
  const pids = [daemonPid()];
  const killOnConnect = api.ctx.onDidConnect(() => {
    killOnConnect.dispose();
    const next = daemonPid();
    pids.push(next);
    process.kill(next, 'SIGKILL');
  });
  try {
    process.kill(pids[0]!, 'SIGKILL');
    await waitFor('the second daemon to be killed', () => pids.length === 2, 90_000);
    await waitFor('a third daemon', () => api.ctx.state.kind === 'ready' && !pids.includes(daemonPid()), 90_000);
  } finally {
    killOnConnect.dispose();
  }
  return pids;
}
