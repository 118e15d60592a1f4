/**
 * The team model gateway from the daemon's side (supabase/functions/model-gateway, docs/team-mode.md): in team
 * mode, when a project's team has an enabled gateway, chat goes to the gateway with the user's access token
 * as the API key, through the same ChatOpenAI, so the orchestrator does not change. Settings are read through
 * the SQL API as the user (RLS: members read their team's) and kept for a short while per project.
 */
import type { ModelChoice } from '../chat/model.js';
import type { RuntimeConfig } from '../config.js';
import type { ModelGatewaySettings } from '../protocol/teams.js';
import type { SupabaseStore } from '../store/supabase.js';
import type { RpcRow, Store } from '../store/types.js';

/** A team's gateway settings as `get_model_gateway` and `set_model_gateway` return them. */
export type GatewayRow = RpcRow<'get_model_gateway'>;

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function gatewaySettings(row: GatewayRow): ModelGatewaySettings {
  return {
    teamId: row.team_id,
    enabled: row.enabled,
    allowedModels: row.allowed_models,
    chatModel: row.chat_model,
    embeddingModel: row.embedding_model,
    teamMonthlyTokens: num(row.team_monthly_tokens),
    memberMonthlyTokens: num(row.member_monthly_tokens),
    memberRequestsPerMinute: row.member_requests_per_minute,
  };
}

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
async function gatewayOf(store: Store, projectId: string | null, signal?: AbortSignal): Promise<{ team: SupabaseStore; row: GatewayRow } | null> {
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
 * Where a reply in this project goes when its team has a gateway: the gateway's URL, the user's token, and a
 * model the team allows (the agent's or the configured one if allowed, else the team's default chat model,
 * else its first allowed model). Null outside team mode, for a personal project, or without an enabled
 * gateway (then the member's own model settings apply, as before).
 */
export async function gatewayChatChoice(store: Store, projectId: string | null, wanted: (string | null)[]): Promise<ModelChoice | null> {
  const gw = await gatewayOf(store, projectId);
  const token = await gw?.team.freshAccessToken();
  if (!gw || !token) return null;
  const { row, team } = gw;
  const model = wanted.find((m): m is string => !!m && row.allowed_models.includes(m)) ?? row.chat_model ?? row.allowed_models[0]!;
  return { baseUrl: gatewayBaseUrl(team.projectUrl, row.team_id), model, apiKey: token, keySet: true, viaGateway: true };
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
  const token = async () => {
    const t = await team.freshAccessToken();
    if (!t) throw new Error('signed out of Supabase: sign in again to index through the team model gateway');
    return t;
  };
  return { ...config, embeddings: { provider: 'openai', model: row.embedding_model, baseUrl: gatewayBaseUrl(team.projectUrl, row.team_id), apiKey: token, dimensions: null } };
}
