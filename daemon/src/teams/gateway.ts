/**
 * The team model gateway from the daemon's side (supabase/functions/model-gateway, docs/team-mode.md): in team
 * mode, when a project's team has an enabled gateway, chat goes to the gateway with the user's access token
 * as the API key, through the same ChatOpenAI, so the orchestrator does not change. The gateway's settings are
 * read by workspace/gateway-config.ts (which the knowledge base uses too).
 */
import type { ModelChoice } from '../chat/model.js';
import type { ModelGatewaySettings } from '../protocol/teams.js';
import type { Store } from '../store/types.js';
import { gatewayBaseUrl, gatewayOf, type GatewayRow } from '../workspace/gateway-config.js';

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
