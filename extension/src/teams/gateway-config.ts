/**
 * "Cairn: Configure Team Model Gateway" (owners and admins, with a second factor: aal2): the models members
 * may use through the team's gateway, the defaults for chat and indexing, and the budgets (tokens a month for
 * the team and for each member, requests a minute per member), starting from the current settings. The
 * provider's key is never typed here: it is a secret of the Edge Function (docs/team-mode.md).
 */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client.js';
import type { AuthService } from '../auth/service.js';
import { requireTeamMode } from './mode.js';
import { pickAdminTeam, showTeamFailure } from './gateway-usage.js';
import { describeGateway, parseLimit, parseModels, showLimit, validateLimit, validateModels, type GatewaySettings } from './gateway-config-format.js';

const TITLE = 'Cairn: Configure Team Model Gateway';
export const PROVIDER_KEY_NOTE =
  "The provider's key is not set in the editor: it is the Edge Function's secret CAIRN_PROVIDER_API_KEY (supabase secrets set, or the dashboard; see docs/team-mode.md).";

export async function configureGateway(client: DaemonClient, auth: AuthService, raw?: unknown): Promise<GatewaySettings | undefined> {
  const opts = (raw && typeof raw === 'object' ? raw : {}) as { teamId?: string };
  try {
    const need = { withoutProject: 'the model gateway belongs to a team, which lives in a team project', toDo: "to configure your team's model gateway" };
    if (!(await requireTeamMode(client, auth, need))) return undefined;
    const team = await pickAdminTeam(client, opts.teamId, TITLE, "Cairn: only a team's owners and admins configure its model gateway, and you are neither in any team.");
    if (!team) return undefined;
    const current = await client.request('teams/gateway', { teamId: team.id });

    const modelsText = await vscode.window.showInputBox({
      title: `${TITLE} (1/6)`,
      prompt: `Models members of ${team.name} may use through the gateway (chat and embeddings), separated by commas`,
      value: current?.allowedModels.join(', ') ?? 'gpt-4o-mini, text-embedding-3-small',
      ignoreFocusOut: true,
      validateInput: validateModels,
    });
    if (modelsText === undefined) return undefined;
    const models = parseModels(modelsText);

    const pickModel = async (step: number, placeHolder: string, none: string, first: string | null) => {
      const items = [...models.map((m) => ({ label: m, model: m as string | null })), { label: none, model: null as string | null }];
      // The current choice (or the suggested one) first, so Enter keeps it.
      const start = items.findIndex((i) => i.model === (first !== null && models.includes(first) ? first : null));
      if (start > 0) items.unshift(...items.splice(start, 1));
      return vscode.window.showQuickPick(items, { title: `${TITLE} (${step}/6)`, placeHolder, ignoreFocusOut: true });
    };
    // A first configuration suggests the first model for chat, and no change to how members index.
    const chat = await pickModel(2, 'The chat model members use by default', "No default: each member's own model, if allowed", current ? current.chatModel : models[0]!);
    if (!chat) return undefined;
    const embed = await pickModel(3, 'The embedding model members index with (the whole team, through the gateway)', 'None: members index with their own embedder', current?.embeddingModel ?? null);
    if (!embed) return undefined;

    const askLimit = async (step: number, prompt: string, was: number | null, min: number) => {
      const text = await vscode.window.showInputBox({
        title: `${TITLE} (${step}/6)`,
        prompt: `${prompt} (empty: no limit)`,
        value: showLimit(was),
        ignoreFocusOut: true,
        validateInput: (t) => validateLimit(t, min),
      });
      return text === undefined ? undefined : parseLimit(text);
    };
    const teamTokens = await askLimit(4, 'Tokens a month for the whole team', current?.teamMonthlyTokens ?? null, 0);
    if (teamTokens === undefined) return undefined;
    const memberTokens = await askLimit(5, 'Tokens a month for each member', current?.memberMonthlyTokens ?? null, 0);
    if (memberTokens === undefined) return undefined;
    const rate = await askLimit(6, 'Requests a minute for each member', current?.memberRequestsPerMinute ?? null, 1);
    if (rate === undefined) return undefined;

    const saved = await client.request('teams/setGateway', {
      teamId: team.id,
      enabled: true,
      allowedModels: models,
      chatModel: chat.model,
      embeddingModel: embed.model,
      teamMonthlyTokens: teamTokens,
      memberMonthlyTokens: memberTokens,
      memberRequestsPerMinute: rate,
    });
    void vscode.window.showInformationMessage(`Cairn: ${describeGateway(team.name, saved)} ${PROVIDER_KEY_NOTE}`);
    return saved;
  } catch (err) {
    showTeamFailure(err, 'Cairn could not configure the model gateway');
    return undefined;
  }
}
