/**
 * The supabase-js client the extension signs in with (flowType pkce, detectSessionInUrl false): one persistent
 * client per project, its session in SecretStorage and refreshed on its own, and one per OAuth attempt with
 * private in-memory storage. No `vscode` here.
 */
import { createHash } from 'node:crypto';
import { createClient, type SupabaseClient, type SupportedStorage } from '@supabase/supabase-js';
import type { SupabaseSettings } from '../settings.js';

/** Where a project's session is kept: one key per project URL, shared by every window. */
export function storageKey(url: string): string {
  return `cairn.supabase.${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

export function makeClient(settings: SupabaseSettings, storage: SupportedStorage, persist: boolean): SupabaseClient {
  return createClient(settings.url, settings.anonKey, {
    auth: {
      flowType: 'pkce',
      detectSessionInUrl: false,
      persistSession: true,
      autoRefreshToken: persist,
      storage,
      storageKey: storageKey(settings.url),
    },
  });
}
