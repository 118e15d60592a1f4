/**
 * "Cairn: Create API Key" and "Cairn: Manage API Keys": personal keys for scripts and CI (the Edge Function
 * cairn-api, docs/api-keys.md). The server generates the key and keeps only its hash; the extension shows it
 * once and copies it to the clipboard. Revoking takes effect at the key's next request.
 */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client.js';
import type { AuthService } from '../auth/service.js';
import { supabaseSettings } from '../settings.js';
import { requireTeamMode } from './mode.js';
import { showTeamFailure } from './gateway-usage.js';
import { EXPIRY_CHOICES, apiUrl, expiryFrom, keyRow, keyState, validateKeyName, type ApiKey, type ProjectRef } from './api-key-format.js';

export interface ApiKeyParts {
  auth: AuthService;
}

const NEED = { withoutProject: 'API keys reach a team project (Supabase) through its cairn-api function', toDo: 'to manage API keys' };

const showFailure = showTeamFailure;

/** Name, projects, expiry; then the key, once, on the clipboard. Returns the new key's id. */
export async function createApiKey(client: DaemonClient, parts: ApiKeyParts): Promise<string | undefined> {
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED))) return undefined;
    const name = await vscode.window.showInputBox({
      title: 'Cairn: Create API Key (1/3)',
      prompt: 'What uses the key? It acts as you, with what you may read.',
      placeHolder: 'CI docs job',
      ignoreFocusOut: true,
      validateInput: validateKeyName,
    });
    if (name === undefined) return undefined;
    const { projects } = await client.request('workspace/listProjects', {});
    const every = { label: '$(globe) Every project I can read', description: 'now and later', project: null as ProjectRef | null };
    const picked = await vscode.window.showQuickPick(
      [every, ...projects.map((p) => ({ label: p.name, description: p.teamId ? 'team project' : 'personal', project: p as ProjectRef | null }))],
      { title: 'Cairn: Create API Key (2/3)', placeHolder: 'Projects the key may read', canPickMany: true, ignoreFocusOut: true },
    );
    if (!picked || picked.length === 0) return undefined;
    const projectIds = picked.some((p) => p.project === null) ? null : picked.map((p) => p.project!.id);
    const expiry = await vscode.window.showQuickPick(
      EXPIRY_CHOICES.map((c) => ({ label: c.label, days: c.days as number | null })),
      { title: 'Cairn: Create API Key (3/3)', placeHolder: 'When the key stops working', ignoreFocusOut: true },
    );
    if (!expiry) return undefined;
    const created = await client.request('auth/createApiKey', { name: name.trim(), projectIds, expiresAt: expiryFrom(new Date(), expiry.days) });
    await vscode.env.clipboard.writeText(created.key);
    const url = supabaseSettings()?.url;
    const again = await vscode.window.showInformationMessage(
      `API key "${created.name}" created and copied to the clipboard.`,
      {
        modal: true,
        detail:
          `This is the only time it is shown; Cairn keeps only its hash.\n\n${created.key}\n\n` +
          (url ? `Use it as: curl -H "Authorization: Bearer $CAIRN_API_KEY" ${apiUrl(url)}/projects` : 'Send it as "Authorization: Bearer <key>" to the cairn-api function.'),
      },
      'Copy Again',
    );
    if (again === 'Copy Again') await vscode.env.clipboard.writeText(created.key);
    return created.id;
  } catch (err) {
    showFailure(err, 'Cairn: could not create the API key');
    return undefined;
  }
}

/** The caller's keys with their state; picking an active one offers to revoke it. */
export async function manageApiKeys(client: DaemonClient, parts: ApiKeyParts): Promise<void> {
  try {
    if (!(await requireTeamMode(client, parts.auth, NEED))) return;
    const [keys, { projects }] = await Promise.all([client.request('auth/listApiKeys', {}), client.request('workspace/listProjects', {})]);
    const now = new Date();
    const create = { label: '$(add) Create API Key…', description: '', detail: undefined as string | undefined, key: null as ApiKey | null };
    const picked = await vscode.window.showQuickPick(
      [create, ...keys.map((k) => ({ ...keyRow(k, projects, now), key: k as ApiKey | null }))],
      { title: 'Cairn: API Keys', placeHolder: keys.length === 0 ? 'No API keys yet' : 'Pick a key to revoke it', matchOnDescription: true },
    );
    if (!picked) return;
    if (!picked.key) {
      await vscode.commands.executeCommand('cairn.createApiKey');
      return;
    }
    const key = picked.key;
    if (keyState(key, now) !== 'active') {
      void vscode.window.showInformationMessage(`Cairn: "${key.name}" is ${keyState(key, now)}; nothing to do.`);
      return;
    }
    const ok = await vscode.window.showWarningMessage(
      `Revoke the API key "${key.name}" (${key.prefix}…)?`,
      { modal: true, detail: 'Scripts and CI jobs using it are refused from their next request on. A revoked key cannot be restored.' },
      'Revoke',
    );
    if (ok !== 'Revoke') return;
    await client.request('auth/revokeApiKey', { keyId: key.id });
    void vscode.window.showInformationMessage(`Cairn: API key "${key.name}" revoked.`);
  } catch (err) {
    showFailure(err, 'Cairn: could not manage API keys');
  }
}
