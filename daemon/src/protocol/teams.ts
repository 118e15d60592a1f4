/** `teams` namespace of the Cairn protocol: teams, members, invitations, team projects and the audit log. */
import { z } from 'zod';
import { request } from './define.js';

/** What a usage row counts (api_usage.kind). */
export const usageKind = z.enum(['chat', 'embedding', 'summary', 'title']);

export const TeamRole = z.enum(['owner', 'admin', 'member', 'viewer']);

export const Team = z.object({
  id: z.guid(),
  name: z.string(),
  slug: z.string(),
  /** The caller's role in the team. */
  role: TeamRole,
  createdAt: z.string(),
});
export type Team = z.infer<typeof Team>;

export const TeamMember = z.object({
  userId: z.guid(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  role: TeamRole,
  since: z.string(),
});

export const Invitation = z.object({
  id: z.guid(),
  teamId: z.guid(),
  email: z.string(),
  role: TeamRole,
  invitedBy: z.guid().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().describe('Unanswered after this (7 days after it was sent), it can no longer be accepted; the team may invite again.'),
});

/** An invitation as its invitee sees it: what they need to decide. */
export const MyInvitation = z.object({
  id: z.guid(),
  teamId: z.guid(),
  teamName: z.string().describe('The team the invitation is to.'),
  role: TeamRole.describe('The role the invitee gets by accepting.'),
  invitedBy: z
    .object({
      id: z.guid(),
      email: z.string().nullable(),
      displayName: z.string().nullable(),
    })
    .nullable()
    .describe('Who invites (null when their account no longer exists).'),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export type MyInvitation = z.infer<typeof MyInvitation>;

export const AuditEntry = z.object({
  id: z.guid().describe('Random, so the gap between two ids counts nothing.'),
  actorId: z.guid().nullable(),
  action: z.enum(['insert', 'update', 'delete']),
  table: z.string(),
  recordId: z.string().nullable(),
  oldValues: z.record(z.string(), z.unknown()).nullable(),
  newValues: z.record(z.string(), z.unknown()).nullable(),
  at: z.string(),
});

/** The team model gateway's settings (supabase/functions/model-gateway; docs/team-mode.md). */
export const ModelGatewaySettings = z.object({
  teamId: z.guid(),
  enabled: z.boolean().describe('While false, members use their own model settings and the gateway refuses the team.'),
  allowedModels: z.array(z.string()).describe('Models members may ask the gateway for (chat and embeddings).'),
  chatModel: z.string().nullable().describe('The chat model members use by default (one of allowedModels), or null for their own choice if allowed.'),
  embeddingModel: z.string().nullable().describe('The embedding model members index with through the gateway, or null to keep their own embedder.'),
  teamMonthlyTokens: z.number().int().nullable().describe('Prompt + completion tokens per calendar month (UTC) for the whole team; null is no limit.'),
  memberMonthlyTokens: z.number().int().nullable().describe('The same for each member; null is no limit.'),
  memberRequestsPerMinute: z.number().int().nullable().describe('Requests per member in any 60 seconds; null is no limit.'),
});
export type ModelGatewaySettings = z.infer<typeof ModelGatewaySettings>;

export const GatewayUsageRow = z.object({
  userId: z.guid(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  model: z.string(),
  kind: usageKind.describe('chat completions or embeddings'),
  requests: z.number().int().describe('Requests the gateway admitted (refused ones are not counted).'),
  promptTokens: z.number().int().describe("Prompt tokens, from the provider's usage reports."),
  completionTokens: z.number().int().describe("Completion tokens, from the provider's usage reports."),
});
export type GatewayUsageRow = z.infer<typeof GatewayUsageRow>;

const TeamRef = z.object({ teamId: z.guid() });
const InvitationRef = z.object({ invitationId: z.guid().describe('The invitation, as teams/myInvitations lists it.') });
const MemberRef = TeamRef.extend({ userId: z.guid() });

const exampleTeam: Team = {
  id: '9b15be45-1b1e-436d-90f6-c31ff9c78ee2',
  name: 'Platform',
  slug: 'platform-41fb00',
  role: 'owner',
  createdAt: '2026-11-22T01:00:00.000Z',
};
const exampleUser = '22222222-2222-4222-8222-222222222222';
const exampleInvitation = '5c1e0f7a-2b3c-4d5e-8f9a-0b1c2d3e4f5a';

const exampleGatewaySettings: ModelGatewaySettings = {
  teamId: exampleTeam.id,
  enabled: true,
  allowedModels: ['gpt-4o-mini'],
  chatModel: 'gpt-4o-mini',
  embeddingModel: null,
  teamMonthlyTokens: null,
  memberMonthlyTokens: 2_000_000,
  memberRequestsPerMinute: 30,
};

export const teamsRequests = {
  'teams/list': request('teams/list', {
    summary: "The caller's teams, with the caller's role in each.",
    params: z.object({}).default({}),
    result: z.array(Team),
    errors: ['NotSignedIn'],
    example: { params: {}, result: [exampleTeam] },
  }),
  'teams/create': request('teams/create', {
    summary: 'Creates a team; the caller becomes its owner.',
    params: z.object({ name: z.string().min(1).max(100).describe("The team's name; its slug is generated by the server.") }),
    result: Team,
    errors: ['NotSignedIn', 'InvalidInput'],
    example: { params: { name: 'Platform' }, result: exampleTeam },
  }),
  'teams/rename': request('teams/rename', {
    summary: 'Renames a team (owner or admin).',
    params: TeamRef.extend({ name: z.string().min(1).max(100) }),
    result: Team,
    errors: ['PermissionDenied', 'InvalidInput'],
    example: { params: { teamId: exampleTeam.id, name: 'Platform team' }, result: { ...exampleTeam, name: 'Platform team' } },
  }),
  'teams/members': request('teams/members', {
    summary: 'Members of a team the caller belongs to, owners first.',
    params: TeamRef,
    result: z.array(TeamMember),
    errors: ['NotSignedIn'],
    example: {
      params: { teamId: exampleTeam.id },
      result: [{ userId: exampleUser, email: 'ana@example.com', displayName: 'ana', role: 'owner', since: exampleTeam.createdAt }],
    },
  }),
  'teams/invite': request('teams/invite', {
    summary:
      'Invites an email address with a role (owner or admin, with a second factor: aal2). The invitee sees it once signed in with that (confirmed) address, and joins only by accepting it; it expires after 7 days.',
    params: TeamRef.extend({ email: z.email(), role: TeamRole.default('member') }),
    result: Invitation,
    errors: ['PermissionDenied', 'InvalidInput', 'Conflict'],
    example: {
      params: { teamId: exampleTeam.id, email: 'ben@example.com', role: 'member' },
      result: { id: exampleInvitation, teamId: exampleTeam.id, email: 'ben@example.com', role: 'member', invitedBy: exampleUser, createdAt: exampleTeam.createdAt, expiresAt: '2026-11-29T01:00:00.000Z' },
    },
  }),
  'teams/invitations': request('teams/invitations', {
    summary: "A team's unanswered invitations (expired ones included, with their expiry), for its owners and admins.",
    params: TeamRef,
    result: z.array(Invitation),
    errors: ['NotSignedIn'],
    example: { params: { teamId: exampleTeam.id }, result: [] },
  }),
  'teams/myInvitations': request('teams/myInvitations', {
    summary:
      "Invitations waiting for the caller's answer: addressed to their confirmed email, unanswered and unexpired, with who invites, to which team and with which role. Nothing joins a team until the caller accepts.",
    params: z.object({}).default({}),
    result: z.array(MyInvitation),
    errors: ['NotSignedIn'],
    example: {
      params: {},
      result: [
        {
          id: exampleInvitation,
          teamId: exampleTeam.id,
          teamName: exampleTeam.name,
          role: 'member',
          invitedBy: { id: exampleUser, email: 'ana@example.com', displayName: 'Ana' },
          createdAt: exampleTeam.createdAt,
          expiresAt: '2026-11-29T01:00:00.000Z',
        },
      ],
    },
  }),
  'teams/acceptInvitation': request('teams/acceptInvitation', {
    summary:
      "Accepts one of the caller's invitations (their email must be confirmed): they join the team with the invited role. The invitation is used up.",
    params: InvitationRef,
    result: Team,
    errors: ['NotSignedIn', 'NotFound', 'InvalidInput', 'PermissionDenied'],
    example: { params: { invitationId: exampleInvitation }, result: { ...exampleTeam, role: 'member' } },
  }),
  'teams/declineInvitation': request('teams/declineInvitation', {
    summary: "Declines one of the caller's invitations: they do not join, and the team may invite them again.",
    params: InvitationRef,
    result: z.object({ declined: z.literal(true) }),
    errors: ['NotSignedIn', 'NotFound', 'InvalidInput', 'PermissionDenied'],
    example: { params: { invitationId: exampleInvitation }, result: { declined: true } },
  }),
  'teams/withdrawInvitation': request('teams/withdrawInvitation', {
    summary: 'Withdraws a pending invitation (owner or admin, aal2).',
    params: z.object({ invitationId: z.guid() }),
    result: z.object({ withdrawn: z.literal(true) }),
    errors: ['NotFound', 'PermissionDenied'],
    example: { params: { invitationId: '5c1e0f7a-2b3c-4d5e-8f9a-0b1c2d3e4f5a' }, result: { withdrawn: true } },
  }),
  'teams/setRole': request('teams/setRole', {
    summary: "Changes a member's role (owner or admin, aal2; only owners grant or take away the owner role; a team keeps one owner).",
    params: MemberRef.extend({ role: TeamRole }),
    result: TeamMember,
    errors: ['PermissionDenied', 'NotFound', 'InvalidInput'],
    example: {
      params: { teamId: exampleTeam.id, userId: exampleUser, role: 'viewer' },
      result: { userId: exampleUser, email: null, displayName: null, role: 'viewer', since: exampleTeam.createdAt },
    },
  }),
  'teams/removeMember': request('teams/removeMember', {
    summary: 'Removes a member (owner or admin, aal2). Their access to the team ends at once.',
    params: MemberRef,
    result: z.object({ removed: z.literal(true) }),
    errors: ['PermissionDenied', 'NotFound', 'InvalidInput'],
    example: { params: { teamId: exampleTeam.id, userId: exampleUser }, result: { removed: true } },
  }),
  'teams/leave': request('teams/leave', {
    summary: 'Leaves a team; the last owner cannot leave.',
    params: TeamRef,
    result: z.object({ left: z.literal(true) }),
    errors: ['NotFound', 'InvalidInput'],
    example: { params: { teamId: exampleTeam.id }, result: { left: true } },
  }),
  'teams/shareProject': request('teams/shareProject', {
    summary:
      "Moves the project of a workspace folder into a team, so teammates opening the same repository share its sessions and knowledge base; `teamId: null` makes it personal (its creator's) again. Takes the rights of both sides, with a second factor (aal2): the creator of a personal project, or an owner or admin of the team it leaves; and an owner or admin of the team it joins. Both teams' audit logs record the move.",
    params: z.object({ projectId: z.guid().optional(), root: z.string().optional(), teamId: z.guid().nullable() }),
    result: z.object({ projectId: z.guid(), teamId: z.guid().nullable() }),
    errors: ['PermissionDenied', 'NotFound', 'InvalidInput'],
    example: {
      params: { root: '/home/ana/src/cairn', teamId: exampleTeam.id },
      result: { projectId: '0b8e2f4c-1d3a-4e5f-8a7b-9c0d1e2f3a4b', teamId: exampleTeam.id },
    },
  }),
  'teams/auditLog': request('teams/auditLog', {
    summary: "The team's audit log, newest first (owners and admins only); page with `beforeId`, the id of the oldest entry shown.",
    params: TeamRef.extend({
      limit: z.number().int().min(1).max(1000).default(100),
      before: z.string().optional().describe('Only entries older than this time (a date filter; to page, use `beforeId`).'),
      beforeId: z.guid().optional().describe('The id of the oldest entry shown: the page continues right after it.'),
    }),
    result: z.array(AuditEntry),
    errors: ['PermissionDenied'],
    example: {
      params: { teamId: exampleTeam.id, limit: 1 },
      result: [
        {
          id: '7d3c1b2a-9e8f-4a6b-8c5d-2e1f0a9b8c7d',
          actorId: exampleUser,
          action: 'update',
          table: 'sessions',
          recordId: '6f1d3c2a-8b7e-4c1f-9a2d-0e5b7c9d1a23',
          oldValues: { visibility: 'private' },
          newValues: { visibility: 'team' },
          at: '2026-11-22T01:05:00.000Z',
        },
      ],
    },
  }),
  'teams/gateway': request('teams/gateway', {
    summary: "The team model gateway's settings as a member reads them, or null when the team has none. While it is enabled, the daemon sends this team's chat (and, with an embedding model set, indexing) through the gateway with the user's access token as the key.",
    params: TeamRef,
    result: ModelGatewaySettings.nullable(),
    errors: ['PermissionDenied'],
    example: {
      params: { teamId: exampleTeam.id },
      result: {
        teamId: exampleTeam.id,
        enabled: true,
        allowedModels: ['gpt-4o-mini', 'text-embedding-3-small'],
        chatModel: 'gpt-4o-mini',
        embeddingModel: 'text-embedding-3-small',
        teamMonthlyTokens: 50_000_000,
        memberMonthlyTokens: 5_000_000,
        memberRequestsPerMinute: 60,
      },
    },
  }),
  'teams/setGateway': request('teams/setGateway', {
    summary: "Sets the team model gateway's models and limits (owners and admins, with a second factor: aal2). The provider key is not here: it is a secret of the Edge Function, set with the Supabase CLI or dashboard.",
    params: ModelGatewaySettings.omit({ enabled: true }).extend({ enabled: z.boolean().default(true) }),
    result: ModelGatewaySettings,
    errors: ['PermissionDenied', 'InvalidInput'],
    example: { params: exampleGatewaySettings, result: exampleGatewaySettings },
  }),
  'teams/gatewayUsage': request('teams/gatewayUsage', {
    summary: "The team's usage through the model gateway by member and model since `since` (default: the start of this month, UTC), from the provider's usage reports; owners and admins only. Usage a member's daemon reports itself is not in it.",
    params: TeamRef.extend({ since: z.string().optional().describe('ISO time; default the first of this month, 00:00 UTC.') }),
    result: z.object({ since: z.string().describe('The start of the period reported.'), rows: z.array(GatewayUsageRow) }),
    errors: ['PermissionDenied'],
    example: {
      params: { teamId: exampleTeam.id },
      result: {
        since: '2026-12-01T00:00:00.000Z',
        rows: [
          { userId: exampleUser, email: 'ana@example.com', displayName: 'Ana', model: 'gpt-4o-mini', kind: 'chat', requests: 42, promptTokens: 51234, completionTokens: 8120 },
        ],
      },
    },
  }),
} as const;

export const teamsNotifications = {} as const;
