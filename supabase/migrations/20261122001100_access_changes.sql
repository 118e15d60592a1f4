-- =====================================================================================================
-- Access changes: how a teammate learns live that what they may see or do changed.
--
-- Realtime applies RLS to each change before sending it, so a change that takes a row *out* of someone's
-- view (a session unshared, a project moved out of the team, the person removed from the team) reaches
-- nobody who lost it, and a role change touches no row they watch. Triggers record each such change here as
-- a small row the people concerned may still read, and the table is in the change feed
-- (20261122001200_realtime.sql): their daemons
-- re-read what they were showing, drop what is gone and refresh what they may do. Rows carry keys only,
-- never content, and are kept for a day.
-- =====================================================================================================

create table public.access_changes (
  -- Random, as every id a client sees: a global counter would count other teams' changes.
  id uuid primary key default gen_random_uuid(),
  -- The team whose members (or one of them) lost access. No foreign key: a deleted team's removals are
  -- recorded while the team row goes away.
  team_id uuid not null,
  reason text not null check (reason in ('member_removed', 'role_changed', 'session_unshared', 'project_unshared')),
  -- member_removed, role_changed: who was removed (or left), or whose role changed. Only they read the row.
  user_id uuid,
  -- project_unshared: the project that left the team.
  project_id uuid,
  -- session_unshared: the session that became private or moved out of the team's project.
  session_id uuid,
  created_at timestamptz not null default now(),
  constraint access_changes_keys check (
    (reason in ('member_removed', 'role_changed') and user_id is not null)
    or (reason = 'session_unshared' and session_id is not null and user_id is null)
    or (reason = 'project_unshared' and project_id is not null and user_id is null)
  )
);
comment on table public.access_changes is
  'Changes that took rows out of some users'' view, recorded so their clients can drop them live (kept a day).';
create index access_changes_created_at_idx on public.access_changes (created_at);

alter table public.access_changes enable row level security;

create policy "Members can read the changes of their own access" on public.access_changes
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy "Team members can read what left their team's view" on public.access_changes
  for select to authenticated
  using (user_id is null and team_id in (select private.team_ids_with_role('viewer')));

revoke all on table public.access_changes from anon, authenticated;
grant select on table public.access_changes to authenticated;

-- Records one access change and forgets those older than a day (clients only need them while live).
create or replace function private.record_access_change(
  p_team_id uuid, p_reason text, p_user_id uuid default null, p_project_id uuid default null, p_session_id uuid default null)
returns void
language sql
security definer
set search_path = ''
as $$
  delete from public.access_changes where created_at < now() - interval '1 day';
  insert into public.access_changes (team_id, reason, user_id, project_id, session_id)
  values (p_team_id, p_reason, p_user_id, p_project_id, p_session_id);
$$;
revoke all on function private.record_access_change(uuid, text, uuid, uuid, uuid) from public;

-- One trigger function for the tables whose changes alter what someone may see or do (as private.audit()
-- serves every audited table): a member removed or leaving, a member's role, a session unshared or moved
-- out of its team's project, a project moved out of its team.
create or replace function private.record_access_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_team uuid;
begin
  case tg_table_name
    when 'team_members' then
      if tg_op = 'DELETE' then
        perform private.record_access_change(old.team_id, 'member_removed', p_user_id => old.user_id);
      elsif new.role is distinct from old.role then
        perform private.record_access_change(new.team_id, 'role_changed', p_user_id => new.user_id);
      end if;
    when 'sessions' then
      if old.visibility = 'team' and (new.visibility <> 'team' or new.project_id is distinct from old.project_id) then
        select p.team_id into v_team from public.projects p where p.id = old.project_id;
        if v_team is not null then
          perform private.record_access_change(v_team, 'session_unshared', p_session_id => old.id);
        end if;
      end if;
    when 'projects' then
      if old.team_id is not null and new.team_id is distinct from old.team_id then
        perform private.record_access_change(old.team_id, 'project_unshared', p_project_id => old.id);
      end if;
  end case;
  return null;
end;
$$;
revoke all on function private.record_access_changes() from public;

create trigger team_members_access_change_on_delete after delete on public.team_members
  for each row execute function private.record_access_changes();
create trigger team_members_access_change_on_role after update of role on public.team_members
  for each row execute function private.record_access_changes();
create trigger sessions_access_change_on_unshare after update of visibility, project_id on public.sessions
  for each row execute function private.record_access_changes();
create trigger projects_access_change_on_unshare after update of team_id on public.projects
  for each row execute function private.record_access_changes();
