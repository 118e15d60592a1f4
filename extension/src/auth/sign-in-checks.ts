/**
 * Checks before and during a team-mode sign-in, each failure said so that the user knows what to fix: the
 * settings, the project's reachability, the server's refusals and the shape of a TOTP code. No `vscode` here:
 * the settings come in as values.
 */
import type { SupabaseSettings } from '../settings.js';

export class SignInError extends Error {
  /** True when nothing is wrong: no team project is configured, so there is nothing to sign in to. */
  constructor(
    message: string,
    readonly information = false,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

/** The settings when they name a Supabase project one can sign in to; otherwise a SignInError saying what to set. */
export function usableSettings(s: SupabaseSettings | null): SupabaseSettings {
  if (!s) {
    throw new SignInError('Cairn: no sign-in is needed in embedded mode (your data stays on this machine). For team mode, set cairn.supabase.url and cairn.supabase.anonKey, then sign in.', true);
  }
  if (!/^https?:\/\/[^/\s]+/i.test(s.url)) throw new SignInError(`cairn.supabase.url is not a URL: “${s.url}”. It looks like https://<project>.supabase.co.`);
  if (!s.anonKey) throw new SignInError('cairn.supabase.anonKey is empty. Copy the anon (publishable) key from your Supabase project settings.');
  return s;
}

/** Turns a wrong URL or key into a message that names the setting to fix. */
export function friendlyAuthError(settings: SupabaseSettings, error: { message: string; status?: number; name?: string }): string {
  if (error.name === 'AuthRetryableFetchError' || error.status === 0 || /fetch failed|ECONNREFUSED|ENOTFOUND/i.test(error.message)) {
    return `could not reach Supabase at ${settings.url}. Check cairn.supabase.url and your network.`;
  }
  if (error.status === 401 && /api key|apikey|jwt/i.test(error.message)) {
    return `the anon key was refused by ${settings.url}. Check cairn.supabase.anonKey.`;
  }
  return error.message;
}

/** Fails fast with a clear message when the project URL does not answer or rejects the key. */
export async function checkReachable(settings: SupabaseSettings): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${settings.url.replace(/\/+$/, '')}/auth/v1/settings`, { headers: { apikey: settings.anonKey }, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new SignInError(`could not reach Supabase at ${settings.url}. Check cairn.supabase.url and your network.`);
  }
  if (res.status === 401 || res.status === 403) throw new SignInError(`the anon key was refused by ${settings.url}. Check cairn.supabase.anonKey.`);
  if (!res.ok) throw new SignInError(`${settings.url} does not look like a Supabase project (HTTP ${res.status} from /auth/v1/settings). Check cairn.supabase.url.`);
}

/** An input box's check of a TOTP code: null when it is 6 digits, else what is wrong. */
export function validateTotpCode(value: string): string | null {
  return /^\d{6}$/.test(value.trim()) ? null : 'The code is 6 digits.';
}
