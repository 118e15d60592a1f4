/**
 * Team management over the SQL API. Every rule (roles, aal2 for managing members, one owner kept) lives in
 * the database; these handlers only shape rows into protocol results.
 */
import { RpcError } from '../protocol/errors.js';
import type { HandlerRegistry, Subsystem } from '../rpc/registry.js';
import { jsonObject, type RpcRow, type Store } from '../store/types.js';
import { AuditEntry, TeamRole, usageKind } from '../protocol/teams.js';
import { forgetProjects, resolveProject } from '../workspace/project.js';
import { gatewaySettings } from './gateway.js';
import { forgetGateways } from '../workspace/gateway-config.js';

type MemberRow = RpcRow<'list_team_members'>;
type InvitationRow = RpcRow<'list_invitations'>;
type MyInvitationRow = RpcRow<'list_my_invitations'>;

type Role = 'owner' | 'admin' | 'member' | 'viewer';

function monthStart(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}


const iso = (t: string | Date): string => new Date(t).toISOString();

const toMember = (r: Pick<MemberRow, 'user_id' | 'role' | 'created_at'> & { email: string | null; display_name: string | null }) => ({
  userId: r.user_id,
  email: r.email,
  displayName: r.display_name,
  role: TeamRole.parse(r.role),
  since: iso(r.created_at),
});

const toInvitation = (r: InvitationRow) => ({
  id: r.id,
  teamId: r.team_id,
  email: r.email,
  role: TeamRole.parse(r.role),
  invitedBy: r.invited_by,
  createdAt: iso(r.created_at),
  expiresAt: iso(r.expires_at),
});

const toMyInvitation = (r: MyInvitationRow) => ({
  id: r.id,
  teamId: r.team_id,
  teamName: r.team_name,
  role: TeamRole.parse(r.role),
  invitedBy: r.invited_by ? { id: r.invited_by, email: r.inviter_email, displayName: r.inviter_name } : null,
  createdAt: iso(r.created_at),
  expiresAt: iso(r.expires_at),
});

const toTeam = (t: RpcRow<'list_teams'>) => ({
  id: t.id,
  name: t.name,
  slug: t.slug,
  role: TeamRole.parse(t.role ?? 'viewer'),
  createdAt: iso(t.created_at),
});

async function teamWithRole(store: Store, teamId: string) {
  const teams = await store.rpc('list_teams');
  const team = teams.find((t) => t.id === teamId);
  if (!team || !team.role) throw new RpcError('NotFound', 'team not found');
  return toTeam(team);
}

export function registerTeamHandlers(registry: HandlerRegistry): void {
  registry.handle('teams/list', async (_p, { store }) => {
    return (await store.rpc('list_teams')).map(toTeam);
  });
  registry.handle('teams/create', async (p, { store }) => {
    const row = await store.rpc('create_team', { p_name: p.name });
    return teamWithRole(store, row.id);
  });
  registry.handle('teams/rename', async (p, { store }) => {
    await store.rpc('rename_team', { p_team_id: p.teamId, p_name: p.name });
    return teamWithRole(store, p.teamId);
  });
  registry.handle('teams/members', async (p, { store }) =>
    (await store.rpc('list_team_members', { p_team_id: p.teamId })).map(toMember),
  );
  registry.handle('teams/invite', async (p, { store }) =>
    toInvitation(await store.rpc('invite_member', { p_team_id: p.teamId, p_email: p.email, p_role: p.role })),
  );
  registry.handle('teams/invitations', async (p, { store }) =>
    (await store.rpc('list_invitations', { p_team_id: p.teamId })).map(toInvitation),
  );
  registry.handle('teams/myInvitations', async (_p, { store }) => (await store.rpc('list_my_invitations')).map(toMyInvitation));
  registry.handle('teams/acceptInvitation', async (p, { store }) => {
    const joined = await store.rpc('accept_invitation', { p_invitation_id: p.invitationId });
    return teamWithRole(store, joined.team_id);
  });
  registry.handle('teams/declineInvitation', async (p, { store }) => {
    await store.rpc('decline_invitation', { p_invitation_id: p.invitationId });
    return { declined: true as const };
  });
  registry.handle('teams/withdrawInvitation', async (p, { store }) => {
    await store.rpc('withdraw_invitation', { p_invitation_id: p.invitationId });
    return { withdrawn: true as const };
  });
  registry.handle('teams/setRole', async (p, { store }) => {
    const row = await store.rpc('set_member_role', { p_team_id: p.teamId, p_user_id: p.userId, p_role: p.role });
    const members = await store.rpc('list_team_members', { p_team_id: p.teamId });
    return toMember(members.find((m) => m.user_id === p.userId) ?? { ...row, email: null, display_name: null });
  });
  registry.handle('teams/removeMember', async (p, { store }) => {
    await store.rpc('remove_team_member', { p_team_id: p.teamId, p_user_id: p.userId });
    return { removed: true as const };
  });
  registry.handle('teams/leave', async (p, { store }) => {
    await store.rpc('leave_team', { p_team_id: p.teamId });
    return { left: true as const };
  });
  registry.handle('teams/shareProject', async (p, { store }) => {
    const projectId = p.projectId ?? (p.root ? (await resolveProject(store, p.root)).id : null);
    if (!projectId) throw new RpcError('InvalidInput', 'give projectId or root');
    const row = await store.rpc('set_project_team', {
      p_project_id: projectId,
      p_team_id: p.teamId,
    });
    forgetProjects(store);
    return { projectId: row.id, teamId: row.team_id };
  });
  registry.handle('teams/gateway', async (p, { store }) => {
    const [row] = await store.rpc('get_model_gateway', { p_team_id: p.teamId });
    return row ? gatewaySettings(row) : null;
  });
  registry.handle('teams/setGateway', async (p, { store }) => {
    const row = await store.rpc('set_model_gateway', {
      p_team_id: p.teamId,
      p_allowed_models: p.allowedModels,
      p_team_monthly_tokens: p.teamMonthlyTokens,
      p_member_monthly_tokens: p.memberMonthlyTokens,
      p_member_requests_per_minute: p.memberRequestsPerMinute,
      p_enabled: p.enabled,
      p_chat_model: p.chatModel,
      p_embedding_model: p.embeddingModel,
    });
    forgetGateways();
    return gatewaySettings(row);
  });
  registry.handle('teams/gatewayUsage', async (p, { store }) => {
    const since = p.since ? new Date(p.since) : monthStart();
    if (Number.isNaN(since.getTime())) throw new RpcError('InvalidParams', 'since is not a valid time');
    const rows = await store.rpc('model_gateway_usage', { p_team_id: p.teamId, p_since: since.toISOString() });
    return {
      since: since.toISOString(),
      rows: rows.map((r) => ({
        userId: r.user_id,
        email: r.email,
        displayName: r.display_name,
        model: r.model,
        kind: usageKind.parse(r.kind),
        requests: Number(r.requests),
        promptTokens: Number(r.prompt_tokens),
        completionTokens: Number(r.completion_tokens),
      })),
    };
  });
  registry.handle('teams/auditLog', async (p, { store }) => {
    const rows = await store.rpc('list_audit_log', {
      p_team_id: p.teamId,
      p_limit: p.limit,
      p_before: p.before ?? null,
      p_before_id: p.beforeId ?? null,
    });
    return rows.map((r) => ({
      id: r.id,
      actorId: r.actor_id,
      action: AuditEntry.shape.action.parse(r.action),
      table: r.table_name,
      recordId: r.record_id,
      oldValues: jsonObject(r.old_values),
      newValues: jsonObject(r.new_values),
      at: iso(r.created_at),
    }));
  });
}

export const registerTeams: Subsystem = async (registry) => {
  registerTeamHandlers(registry);
  return { dispose: async () => {} };
};
