/**
 * Pure parts of the API key commands (no `vscode`): the expiry choices, a key's state and its row in the
 * list, and the curl line shown with a new key. Tested in test/extension-unit/api-key-format.test.ts.
 */
import type { ResultOf } from '../../../daemon/src/protocol/index.js';

export type ApiKey = ResultOf<'auth/listApiKeys'>[number];
export interface ProjectRef {
  id: string;
  name: string;
  teamId: string | null;
}

export const EXPIRY_CHOICES = [
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90, picked: true },
  { label: '1 year', days: 365 },
  { label: 'No expiry', days: null },
] as const;

/** The instant a key made `now` expires after `days` (null: never). */
export function expiryFrom(now: Date, days: number | null): string | null {
  return days === null ? null : new Date(now.getTime() + days * 86_400_000).toISOString();
}

export function validateKeyName(value: string): string | undefined {
  const v = value.trim();
  if (v.length === 0) return 'Give the key a name that says what uses it, e.g. "CI docs job".';
  if (v.length > 100) return 'At most 100 characters.';
  return undefined;
}

export type KeyState = 'active' | 'revoked' | 'expired';

export function keyState(k: Pick<ApiKey, 'revokedAt' | 'expiresAt'>, now: Date): KeyState {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && new Date(k.expiresAt).getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/** "shop, billing" or "every project you can read"; a project the user no longer reads shows as "1 other". */
export function scopeText(projectIds: string[] | null, projects: readonly ProjectRef[]): string {
  if (projectIds === null) return 'every project you can read';
  const names = projectIds.map((id) => projects.find((p) => p.id === id)?.name).filter((n): n is string => !!n);
  const others = projectIds.length - names.length;
  return [...names, ...(others > 0 ? [`${others} other${others === 1 ? '' : 's'}`] : [])].join(', ');
}

/** A key as a QuickPick row: name; prefix, state, scope; created, expiry, last use. */
export function keyRow(k: ApiKey, projects: readonly ProjectRef[], now: Date): { label: string; description: string; detail: string } {
  const state = keyState(k, now);
  const day = (iso: string) => new Date(iso).toLocaleDateString();
  const expiry = k.expiresAt ? `${state === 'expired' ? 'expired' : 'expires'} ${day(k.expiresAt)}` : 'no expiry';
  const used = k.lastUsedAt ? `last used ${new Date(k.lastUsedAt).toLocaleString()} (${k.uses} request${k.uses === 1 ? '' : 's'})` : 'never used';
  return {
    label: k.name,
    description: `${k.prefix}…${state === 'active' ? '' : ` · ${state}`} · ${scopeText(k.projectIds, projects)}`,
    detail: [`created ${day(k.createdAt)}`, state === 'revoked' ? `revoked ${day(k.revokedAt!)}` : expiry, used].join(' · '),
  };
}

/** The function's URL on a Supabase project: `<project URL>/functions/v1/cairn-api`. */
export function apiUrl(supabaseUrl: string): string {
  return `${supabaseUrl.replace(/\/+$/, '')}/functions/v1/cairn-api`;
}
