/**
 * Reads the `cairn.*` settings and the model key (SecretStorage) into the shape the daemon's `initialize` and
 * `daemon/configure` take. Keys never go to settings.json or a log; they reach the daemon in memory.
 */
import * as vscode from 'vscode';
import type { ParamsOf } from '../../daemon/src/protocol/index.js';

export const MODEL_KEY_SECRET = 'cairn.model.apiKey';

type Configure = ParamsOf<'daemon/configure'>;

export interface SupabaseSettings {
  url: string;
  anonKey: string;
}

export function supabaseSettings(): SupabaseSettings | null {
  const c = vscode.workspace.getConfiguration('cairn');
  const url = c.get<string>('supabase.url', '').trim();
  const anonKey = c.get<string>('supabase.anonKey', '').trim();
  return url ? { url, anonKey } : null;
}

function nonEmpty(v: string | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

export function daemonSettings(): NonNullable<Configure['settings']> {
  const c = vscode.workspace.getConfiguration('cairn');
  const baseUrl = nonEmpty(c.get<string>('model.baseUrl'));
  const provider = c.get<'local-hash' | 'openai' | 'model2vec'>('embeddings.provider', 'local-hash');
  return {
    chat: { baseUrl, model: nonEmpty(c.get<string>('model.name')) },
    embeddings: {
      provider,
      model: nonEmpty(c.get<string>('embeddings.model')),
      baseUrl: provider === 'openai' ? baseUrl : null,
    },
    excludes: c.get<string[]>('index.exclude', []).filter((s) => typeof s === 'string' && s.trim() !== ''),
    secretsAllow: c.get<string[]>('secrets.allow', []).filter((s) => typeof s === 'string' && s.trim() !== ''),
  };
}

/**
 * The model key of this window when the editor's secret storage did not keep it (seen in the web host, whose
 * storage answered "Method Not Allowed" while the store call resolved): used until the window reloads.
 */
let windowModelKey: string | null = null;

export function setWindowModelKey(key: string | null): void {
  windowModelKey = key;
}

export async function daemonSecrets(secrets: vscode.SecretStorage): Promise<NonNullable<Configure['secrets']>> {
  let stored: string | undefined;
  try {
    stored = await secrets.get(MODEL_KEY_SECRET);
  } catch {
    stored = undefined;
  }
  const key = nonEmpty(stored) ?? windowModelKey;
  return { chatApiKey: key, embeddingsApiKey: key };
}

/** True when a settings change concerns what the daemon is told. */
export function affectsDaemon(e: vscode.ConfigurationChangeEvent): boolean {
  return ['cairn.model', 'cairn.embeddings', 'cairn.index', 'cairn.secrets'].some((s) => e.affectsConfiguration(s));
}
