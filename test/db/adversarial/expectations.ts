// The expectation matrix: every table and every SQL function of `public`, by name. The suite generates its
// cases from the catalog, so a new table or function is attacked without anyone listing it; but the oracle can
// only judge what it knows, so a table or function that is missing here (or listed here and gone from the
// catalog) fails the suite until someone says what it is. Argument names a generator does not know fail too.
//
// TABLES: the scope of each table's rows, as adversary.scope (oracle.ts) computes it from a row.
// FUNCTIONS: `read` functions change no row for any caller (a change is a finding); `write` functions are
// judged change by change by the oracle. `optional` names a branch expected to bring a function that may not
// have landed yet.

export const TABLES: Record<string, string> = {
  teams: 'teamrow(team)',
  team_members: 'member(team, user)',
  team_invitations: 'invitation(team, email)',
  profiles: 'profile(user)',
  projects: 'team(team) or user(owner) for a personal project',
  agents: 'team(team) or user(owner) for a personal agent',
  sessions: 'user(owner, team) when private, else the project’s',
  messages: 'the session’s',
  tasks: 'the project’s',
  kb_sources: 'the project’s',
  kb_chunks: 'the project’s',
  kb_ann: 'the project’s',
  kb_ann_pending: 'the project’s',
  kb_terms: 'the project’s',
  kb_stats: 'the project’s',
  kb_active_models: 'the project’s',
  api_keys: 'user(owner)',
  api_usage: 'user(user)',
  model_gateways: 'team(team)',
  project_folders: 'user(user)',
  audit_log: 'derived: written by triggers; judged by what an entry shows its reader',
  access_changes: 'derived: written by triggers; judged by what an entry shows its reader',
};

export interface FunctionExpectation {
  kind: 'read' | 'write';
  optional?: string;
}

const read: FunctionExpectation = { kind: 'read' };
const write: FunctionExpectation = { kind: 'write' };

export const FUNCTIONS: Record<string, FunctionExpectation> = {
  schema_version: read,
  current_profile: read,
  // Teams and membership (rule 1: joining is the invitee's own act).
  create_team: write,
  rename_team: write,
  list_teams: read,
  list_team_members: read,
  set_member_role: write,
  remove_team_member: write,
  leave_team: write,
  // One's own account (its deletion is judged by what goes with the account: oracle.goesWithAccount).
  delete_my_account: write,
  invite_member: write,
  list_invitations: read,
  list_my_invitations: read,
  accept_invitation: write,
  decline_invitation: write,
  withdraw_invitation: write,
  // Projects (rule 2, rule 7).
  ensure_project: write,
  choose_project: write,
  list_projects: read,
  list_project_candidates: { kind: 'read', optional: 'wip/11-data' },
  set_project_team: write,
  // Agents, sessions, messages, tasks (rules 4, 5, 9).
  create_agent: write,
  update_agent: write,
  delete_agent: write,
  list_agents: read,
  create_session: write,
  get_session: read,
  list_sessions: read,
  session_access: read,
  rename_session: write,
  share_session: write,
  archive_session: write,
  delete_session: write,
  append_message: write,
  update_message: write,
  list_messages: read,
  fail_streaming_messages: write,
  create_task: write,
  update_task: write,
  list_tasks: read,
  // Knowledge base.
  kb_upsert_sources: write,
  kb_touch_sources: write,
  kb_delete_sources: write,
  kb_delete_model: write,
  kb_publish_vectors: write,
  kb_pending_vectors: read,
  kb_list_sources: read,
  kb_source_chunks: read,
  kb_embeddings_by_hash: read,
  kb_search: read,
  kb_status: read,
  kb_active_model: read,
  kb_activate_model: write,
  // Keys, usage, audit (rules 3, 8).
  create_api_key: write,
  list_api_keys: read,
  revoke_api_key: write,
  record_usage: write,
  list_audit_log: read,
  // The team model gateway: settings (admins, aal2), the usage report (admins), and the gateway's own
  // admission and settling, which only service_role may execute.
  get_model_gateway: read,
  set_model_gateway: write,
  model_gateway_usage: read,
  model_gateway_admit: write,
  model_gateway_settle: write,
};

/** What the catalog holds that the matrix does not name, and what the matrix names that the catalog lacks. */
export function matrixGaps(catalogTables: string[], catalogFunctions: string[], unknownArgs: string[]): string[] {
  const gaps: string[] = [];
  for (const t of catalogTables) if (!(t in TABLES)) gaps.push(`table public.${t} is not in TABLES (expectations.ts) nor in adversary.scope (oracle.ts)`);
  for (const t of Object.keys(TABLES)) if (!catalogTables.includes(t)) gaps.push(`TABLES names public.${t}, which the catalog does not have`);
  for (const f of catalogFunctions) if (!(f in FUNCTIONS)) gaps.push(`function public.${f} is not in FUNCTIONS (expectations.ts)`);
  for (const [f, e] of Object.entries(FUNCTIONS)) if (!e.optional && !catalogFunctions.includes(f)) gaps.push(`FUNCTIONS names public.${f}, which the catalog does not have`);
  for (const a of unknownArgs) gaps.push(`no values to try for argument ${a}: add a candidate in suite.ts`);
  return gaps;
}
