/**
 * The team model gateway from the daemon's side (supabase/functions/model-gateway, docs/team-mode.md): in team
 * mode, when a project's team has an enabled gateway, chat goes to the gateway with the user's access token
 * as the API key, through the same ChatOpenAI, so the orchestrator does not change. Settings are read through
 * the SQL API as the user (RLS: members read their team's) and kept for a short while per project.
 */
import type { ModelChoice } from '../chat/model.js';
import type { ModelGatewaySettings } from '../protocol/teams.js';
import { SupabaseStore } from '../store/supabase.js';
import { SwitchableStore } from '../store/switchable.js';
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

function teamStoreOf(store: Store): SupabaseStore | null {
  if (store instanceof SupabaseStore) return store;
  if (store instanceof SwitchableStore) return store.teamStore;
  return null;
}

/**
 * Where a reply in this project goes when its team has a gateway: the gateway's URL, the user's token, and a
 * model the team allows (the agent's or the configured one if allowed, else the team's default chat model,
 * else its first allowed model). Null outside team mode, for a personal project, or without an enabled
 * gateway (then the member's own model settings apply, as before).
 */
export async function gatewayChatChoice(store: Store, projectId: string | null, wanted: (string | null)[]): Promise<ModelChoice | null> {
  const team = teamStoreOf(store);
  const token = team?.accessToken();
  if (!team || !token || !projectId) return null;
  const key = `${team.projectUrl}|${team.user()?.id}|${projectId}`;
  let hit = cache.get(key);
  if (!hit || Date.now() - hit.at > TTL_MS) {
    const [row] = await store.rpc('get_model_gateway', { p_project_id: projectId });
    hit = { at: Date.now(), row: row ?? null };
    if (cache.size > 200) cache.clear();
    cache.set(key, hit);
  }
  const row = hit.row;
  if (!row || !row.enabled || row.allowed_models.length === 0) return null;
  const model = wanted.find((m): m is string => !!m && row.allowed_models.includes(m)) ?? row.chat_model ?? row.allowed_models[0]!;
  return { baseUrl: gatewayBaseUrl(team.projectUrl, row.team_id), model, apiKey: token, keySet: true, viaGateway: true };
}
