/*
 * THE SCOPE ORACLE of the adversarial suite: who may read and who may change which rows, decided from the
 * tenant-isolation rules (numbered in adversarial.test.ts's RULES) and ARCHITECTURE.md's invariants (consent
 * and current membership; attribution is the server's; nobody reads through a side door). The suite flags anything beyond it.
 *
 * Every row belongs to one scope, computed from its own columns and its parents (adversary.scope below):
 *   team(T)        content of team T: its projects and everything in them (shared sessions and their
 *                  messages, tasks, knowledge base, vectors), its agents.
 *   teamrow(T)     the team itself (name, slug).
 *   member(T, U)   U's membership of T.
 *   invitation(T)  a pending invitation of an email address to T.
 *   profile(U)     U's profile (name, email).
 *   user(U[, T])   U's private rows: personal projects and agents, private sessions and their messages (T
 *                  when the session lives in team T's project), API keys, folder choices.
 *   usage(U, T)    U's usage, charged to team T or to nobody.
 *   derived        audit_log and access_changes, written by triggers only; who may read an entry is
 *                  decided by what it contains (the markers and ids below), not by the entry.
 *
 * Reads. An actor may see a marker or an id of scope
 *   team(T), member(T, _)  only while a member of T, in any role (a removed member sees nothing of T);
 *   teamrow(T)             as a member of T, or as the invitee of a pending invitation to T (rule 1: the
 *                          invitee is shown which team invites), or as a former member (told of the removal);
 *   invitation(T)          as owner or admin of T, or as the invitee;
 *   profile(U)             as U, as a current teammate of U (or a former one: the team keeps its history with
 *                          its authors' names), as the invitee of an invitation U sent; U's
 *                          email also to the owners and admins of a team that invited it;
 *   user(U, …)             as U only (rule 3: not the team's owners, not through the audit log). A leaver
 *                          still reads their own private sessions in a team project: their own words;
 *   usage(U, T)            as U, and as owner or admin of T (the team's usage report).
 * A row's id (not its content) is also known to a former member of its team, who saw it while a member.
 * Anything else found in a result, an error's message/detail/hint/context, or an audit entry the case wrote
 * is a leak, unless the caller supplied it (ids and texts in the case's own arguments). A hidden row must be
 * indistinguishable from a missing one (rule 8): the same statement with the hidden row's id and with an
 * unused id must end alike (same success, or the same SQLSTATE and message, ids aside).
 *
 * Writes. A case's changes (every row inserted, updated or deleted, cascades included) must each be allowed:
 *   team(T)          by owners, admins and members of T now (a viewer, a demoted member or a removed
 *                    member changes nothing: rule 4);
 *   teamrow(T)       by owners and admins of T; a new team by its creator;
 *   member(T, U)     inserted only by U themself, holding a pending invitation to T or creating T (rule 1:
 *                    joining is always the invitee's own act); changed by owners and admins of T; deleted
 *                    by them or by U (leaving);
 *   invitation(T)    by owners and admins of T; accepted (changed or deleted) by the invitee;
 *   profile(U)       by U;
 *   user(U[, T])     by U, and in team T's project only while U is an owner, admin or member of T;
 *   usage(U, T)      by U;
 *   derived          inserted by triggers as a consequence; never changed or deleted.
 * Deleting one's own account (delete_my_account) deletes the actor's own rows of every scope above and a
 * team whose only member they are (goesWithAccount), and nothing of anyone else.
 * An update must be allowed in the row's scope before and after (moving a row moves it between scopes).
 * Moving a project between teams needs an owner of the source team and an owner or admin of the target
 * team, and writes an audit entry in both teams (rule 7). Cascades of an allowed delete (rows whose parent
 * was deleted in the same case, foreign keys set to null) and bookkeeping the database keeps (updated_at,
 * counters) follow the change that caused them. Anon, a token without `sub`, and a user in no team change
 * nothing outside their own private rows.
 * Attribution (rule 9, rule 2): a client's direct write never changes created_by, owner_id, author_id,
 * invited_by, indexed_by (but to the actor: it names the last indexer), accepted_by, actor_id, user_id,
 * created_at, seq, or a profile's email, and a row it
 * inserts names the actor (or nobody) in those columns, now() as its time, and no seq of its choosing.
 * Nobody writes a message with role `system` (rule 5).
 */
import type { ActorName, Role, TeamKey, World, UserName } from './world.js';
import { TEAMS } from './world.js';

export interface Scope {
  kind: 'team' | 'teamrow' | 'member' | 'invitation' | 'profile' | 'email' | 'user' | 'usage' | 'derived';
  team?: string | null;
  user?: string | null;
  email?: string | null;
}

/** Columns a client never sets (rule 9; created_at is rule 2's bookkeeping). */
export const ATTRIBUTION_USERS = ['created_by', 'owner_id', 'author_id', 'invited_by', 'indexed_by', 'accepted_by', 'actor_id', 'user_id'];
export const ATTRIBUTION_OTHER = ['created_at', 'seq'];
/** Attribution columns that name the last writer: the server sets them to the actor on each write. */
export const LAST_WRITER = ['indexed_by'];
/** Bookkeeping the database keeps in step (a posted message touches its session). */
export const BOOKKEEPING = ['updated_at', 'last_message_at', 'message_count', 'chunk_count'];

export class Oracle {
  private readonly teamKey = new Map<string, TeamKey>();
  private readonly userName = new Map<string, UserName>();

  constructor(readonly world: World) {
    for (const t of TEAMS) this.teamKey.set(world.teams[t].id, t);
    for (const [name, u] of Object.entries(world.users)) this.userName.set(u.id, name as UserName);
  }

  userId(actor: ActorName): string | null {
    return actor === 'anon' || actor === 'nosub' ? null : this.world.users[actor].id;
  }

  role(actor: ActorName, team: string | null | undefined): Role | null {
    if (!team || actor === 'anon' || actor === 'nosub') return null;
    const key = this.teamKey.get(team);
    return key ? (this.world.roles[key][actor] ?? null) : null;
  }

  private invited(actor: ActorName, team: string | null | undefined): boolean {
    const key = team ? this.teamKey.get(team) : undefined;
    if (!key || actor === 'anon' || actor === 'nosub') return false;
    return this.world.invitations[key].includes(this.world.users[actor].email);
  }

  private formerly(actor: ActorName, team: string | null | undefined): boolean {
    const key = team ? this.teamKey.get(team) : undefined;
    return Boolean(key && actor !== 'anon' && actor !== 'nosub' && this.world.former[key].includes(actor));
  }

  private shareTeam(actor: ActorName, user: string): boolean {
    const name = this.userName.get(user);
    if (!name || actor === 'anon' || actor === 'nosub') return false;
    // A former teammate stays known to the team (their name on what they wrote) and knows it.
    const inTeam = (t: TeamKey, u: UserName) => Boolean(this.world.roles[t][u]) || this.world.former[t].includes(u);
    return TEAMS.some((t) => (this.world.roles[t][actor] && inTeam(t, name)) || (this.world.roles[t][name] && inTeam(t, actor)));
  }

  canRead(actor: ActorName, s: Scope): boolean {
    const me = this.userId(actor);
    const role = this.role(actor, s.team);
    switch (s.kind) {
      case 'team':
      case 'member':
        return role !== null;
      case 'teamrow':
        return role !== null || this.invited(actor, s.team) || this.formerly(actor, s.team);
      case 'invitation':
        return role === 'owner' || role === 'admin' || (me !== null && this.world.users[actor as UserName].email === s.email);
      case 'profile':
      case 'email': {
        if (!s.user || !me) return false;
        if (s.user === me || this.shareTeam(actor, s.user)) return true;
        const email = this.world.users[this.userName.get(s.user) as UserName]?.email;
        // The invitee sees who invites them (the inviter of a pending invitation to A is A.owner).
        if (this.world.invitations.A.includes(this.world.users[actor as UserName].email) && s.user === this.world.users['A.owner'].id) return true;
        if (s.kind === 'email' && email)
          return TEAMS.some((t) => this.world.invitations[t].includes(email) && ['owner', 'admin'].includes(this.world.roles[t][actor as UserName] ?? ''));
        return false;
      }
      case 'user':
        return me !== null && s.user === me;
      case 'usage':
        return (me !== null && s.user === me) || role === 'owner' || role === 'admin';
      case 'derived':
        return true;
    }
  }

  /**
   * Whether `actor` may see the id of a row of scope `s` (not its content): what it may read, and the ids of
   * a team's rows to a former member, who saw them while in the team.
   */
  canKnowId(actor: ActorName, s: Scope): boolean {
    return this.canRead(actor, s) || ((s.kind === 'team' || s.kind === 'member') && this.formerly(actor, s.team));
  }

  /** Whether `actor` may make a change of kind `op` to a row of scope `s`; `newTeams` are teams the case created by `actor`. */
  canWrite(actor: ActorName, s: Scope, op: 'insert' | 'update' | 'delete', newTeams: Set<string>): boolean {
    const me = this.userId(actor);
    if (!me) return false;
    const own = s.team ? newTeams.has(s.team) : false;
    const role = own ? 'owner' : this.role(actor, s.team);
    const writer = role === 'owner' || role === 'admin' || role === 'member';
    const manager = role === 'owner' || role === 'admin';
    switch (s.kind) {
      case 'team':
        return writer;
      case 'teamrow':
        return own || (op !== 'insert' && manager);
      case 'member':
        if (op === 'insert') return s.user === me && (own || this.invited(actor, s.team));
        if (op === 'delete') return s.user === me || manager;
        return manager;
      case 'invitation':
        return manager || (op !== 'insert' && this.world.users[actor as UserName].email === s.email);
      case 'profile':
      case 'email':
        return op === 'update' && s.user === me;
      case 'user':
        return s.user === me && (!s.team || writer);
      case 'usage':
        return s.user === me;
      case 'derived':
        return op === 'insert';
    }
  }

  /**
   * Whether a row of scope `s` goes when `actor` deletes their own account (delete_my_account): their own
   * rows (profile, memberships, private rows, usage) and a team whose only member they are; nothing else.
   */
  goesWithAccount(actor: ActorName, s: Scope): boolean {
    const me = this.userId(actor);
    if (!me) return false;
    if (s.kind === 'teamrow') {
      const key = s.team ? this.teamKey.get(s.team) : undefined;
      const members = key ? Object.keys(this.world.roles[key]) : [];
      return members.length === 1 && members[0] === actor;
    }
    return s.kind !== 'team' && s.kind !== 'invitation' && s.kind !== 'derived' && s.user === me;
  }

  /** A token's scope: a marker code or a world id. */
  markerScope(code: string): Scope | 'free' | null {
    if (code.startsWith('w')) return 'free';
    const team = /^(team|tname)([abc])$/.exec(code);
    if (team) {
      const id = this.world.teams[team[2]!.toUpperCase() as TeamKey].id;
      return { kind: team[1] === 'team' ? 'team' : 'teamrow', team: id };
    }
    const user = /^(priv|prof|mail)([a-z0-9]+)$/.exec(code);
    if (user) {
      const found = Object.values(this.world.users).find((u) => u.code === user[2]);
      if (!found) return null;
      return { kind: user[1] === 'priv' ? 'user' : user[1] === 'prof' ? 'profile' : 'email', user: found.id };
    }
    return null;
  }
}

/** Helpers installed in the test database as its owner (schema `adversary`, no grants to the API roles). */
export const INSTRUMENTATION = `
create schema adversary;
create unlogged table adversary.changes (n bigint generated always as identity, tbl text, op text, old jsonb, new jsonb);
create function adversary.capture() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into adversary.changes (tbl, op, old, new)
  values (tg_table_name, tg_op, case when tg_op <> 'INSERT' then to_jsonb(old) - 'fts' - 'embedding' end,
          case when tg_op <> 'DELETE' then to_jsonb(new) - 'fts' - 'embedding' end);
  return null;
end $$;
create function adversary.project_scope(p uuid) returns jsonb language sql stable set search_path = '' as $$
  select case when pr.team_id is not null then jsonb_build_object('kind', 'team', 'team', pr.team_id)
              else jsonb_build_object('kind', 'user', 'user', pr.owner_id) end
    from public.projects pr where pr.id = p
$$;
create function adversary.session_scope(s uuid) returns jsonb language sql stable set search_path = '' as $$
  select case when se.visibility = 'private'
              then jsonb_build_object('kind', 'user', 'user', se.owner_id, 'team', (select team_id from public.projects where id = se.project_id))
              else adversary.project_scope(se.project_id) end
    from public.sessions se where se.id = s
$$;
create function adversary.scope(tbl text, r jsonb) returns jsonb language plpgsql stable set search_path = '' as $$
declare
  v_team jsonb := to_jsonb(r ->> 'team_id');
begin
  return case tbl
    when 'teams' then jsonb_build_object('kind', 'teamrow', 'team', r ->> 'id')
    when 'team_members' then jsonb_build_object('kind', 'member', 'team', r ->> 'team_id', 'user', r ->> 'user_id')
    when 'team_invitations' then jsonb_build_object('kind', 'invitation', 'team', r ->> 'team_id', 'email', r ->> 'email')
    when 'profiles' then jsonb_build_object('kind', 'profile', 'user', r ->> 'id')
    when 'projects' then case when r ->> 'team_id' is not null then jsonb_build_object('kind', 'team', 'team', v_team)
                              else jsonb_build_object('kind', 'user', 'user', r ->> 'owner_id') end
    when 'agents' then case when r ->> 'team_id' is not null then jsonb_build_object('kind', 'team', 'team', v_team)
                            else jsonb_build_object('kind', 'user', 'user', r ->> 'owner_id') end
    when 'sessions' then case when r ->> 'visibility' = 'private'
                              then jsonb_build_object('kind', 'user', 'user', r ->> 'owner_id', 'team',
                                     (select team_id from public.projects where id = (r ->> 'project_id')::uuid))
                              else adversary.project_scope((r ->> 'project_id')::uuid) end
    when 'messages' then adversary.session_scope((r ->> 'session_id')::uuid)
    when 'tasks' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'kb_sources' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'kb_chunks' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'kb_ann' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'kb_ann_pending' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'kb_terms' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'kb_stats' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'kb_active_models' then adversary.project_scope((r ->> 'project_id')::uuid)
    when 'api_keys' then jsonb_build_object('kind', 'user', 'user', r ->> 'owner_id')
    when 'api_usage' then jsonb_build_object('kind', 'usage', 'user', r ->> 'user_id', 'team', r ->> 'team_id')
    when 'project_folders' then jsonb_build_object('kind', 'user', 'user', r ->> 'user_id')
    when 'model_gateways' then jsonb_build_object('kind', 'team', 'team', r ->> 'team_id')
    when 'audit_log' then jsonb_build_object('kind', 'derived')
    when 'access_changes' then jsonb_build_object('kind', 'derived')
  end;
end $$;
`;

/** The capture trigger on one table (named to fire after the schema's own triggers). */
export const captureTrigger = (table: string) =>
  `create trigger zzz_adversary_capture after insert or update or delete on public.${table} for each row execute function adversary.capture();`;
