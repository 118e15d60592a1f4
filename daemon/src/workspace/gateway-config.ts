/**
 * A team project's model gateway as the user may read it (supabase/functions/model-gateway,
 * docs/team-mode.md), and the settings a project's knowledge base runs with. Lives below the knowledge base and
 * chat, which both ask it: settings are read through the SQL API as the user (RLS: members read their team's)
 * and kept for a short while per project. What a reply sends through the gateway is teams/gateway.ts.
 */
import type { RuntimeConfig } from '../config.js';
import type { SupabaseStore } from '../store/supabase.js';
import type { RpcRow, Store } from '../store/types.js';

export type GatewayRow = RpcRow<'get_model_gateway'>;

/** The gateway's OpenAI-compatible base URL for a team on a Supabase project. */
export function gatewayBaseUrl(projectUrl: string, teamId: string): string {
  return `${projectUrl.replace(/\/+$/, '')}/functions/v1/model-gateway/teams/${teamId}/v1`;
}

const TTL_MS = 30_000;
const cache = new Map<string, { at: number; row: GatewayRow | null }>();

/** Drops what is known of gateways (after a settings change, a sign-in or sign-out). */
export function forgetGateways(): void {
  cache.clear();
}

/**
 * The Supabase store acting for the user, if any. Told apart by shape rather than class, so the indexer, which
 * needs this, does not load supabase-js with the daemon (it is imported on first use).
 */
function teamStoreOf(store: Store): SupabaseStore | null {
  const s = store as Store & { freshAccessToken?: unknown; teamStore?: SupabaseStore | null };
  if (typeof s.freshAccessToken === 'function') return s as unknown as SupabaseStore;
  return 'teamStore' in s ? (s.teamStore ?? null) : null;
}

/** The project's team gateway as this user may read it (cached a short while), or null outside team mode. */
export async function gatewayOf(store: Store, projectId: string | null, signal?: AbortSignal): Promise<{ team: SupabaseStore; row: GatewayRow } | null> {
  const team = teamStoreOf(store);
  if (!team || !team.accessToken() || !projectId) return null;
  const key = `${team.projectUrl}|${team.user()?.id}|${projectId}`;
  let hit = cache.get(key);
  if (!hit || Date.now() - hit.at > TTL_MS) {
    const [row] = await store.rpc('get_model_gateway', { p_project_id: projectId }, signal ? { signal } : undefined);
    hit = { at: Date.now(), row: row ?? null };
    if (cache.size > 200) cache.clear();
    cache.set(key, hit);
  }
  return hit.row && hit.row.enabled && hit.row.allowed_models.length > 0 ? { team, row: hit.row } : null;
}

/**
 * The settings a project's knowledge base is indexed and searched with. When the project's team gateway names
 * an embedding model: that model, at its own dimension, through the gateway, with the user's access token as
 * the key, asked for before every request and refreshed before it expires (an index run outlives a token),
 * whatever the member configured for themselves. Otherwise the member's own settings.
 */
export async function projectConfig(store: Store, config: RuntimeConfig, projectId: string, signal?: AbortSignal): Promise<RuntimeConfig> {
  const gw = await gatewayOf(store, projectId, signal);
  if (!gw?.row.embedding_model) return config;
  const { team, row } = gw;
  // The team store is looked up at each request, not kept: kb/search keeps query embedders by model and URL,
  // so one made for this project outlives a sign-out or a sign-in as someone else, and must ask whoever is
  // signed in now.
  const token = async () => {
    const t = await teamStoreOf(store)?.freshAccessToken();
    if (!t) throw new Error('signed out of Supabase: sign in again to index through the team model gateway');
    return t;
  };
  return { ...config, embeddings: { provider: 'openai', model: row.embedding_model, baseUrl: gatewayBaseUrl(team.projectUrl, row.team_id), apiKey: token, dimensions: null } };
}
