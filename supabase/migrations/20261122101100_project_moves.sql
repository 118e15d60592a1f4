-- =====================================================================================================
-- A project moving between teams (or out of one) is recorded in the audit log of both: the team it goes to (by the
-- general audit trigger, which files a row under the team it belongs to now) and the team it leaves,
-- whose owners and admins would otherwise never read that their project, its shared sessions and its
-- knowledge base went elsewhere. See public.set_project_team for who may move a project.
-- =====================================================================================================

create or replace function private.audit_project_move()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- The team it leaves; a team being deleted takes its log with it.
  if old.team_id is not null and exists (select 1 from public.teams t where t.id = old.team_id) then
    insert into public.audit_log (team_id, actor_id, action, table_name, record_id, old_values, new_values)
    values (old.team_id, auth.uid(), 'update', 'projects', old.id::text, to_jsonb(old), to_jsonb(new));
  end if;
  return null;
end;
$$;
revoke all on function private.audit_project_move() from public;

create trigger projects_audit_move_out after update of team_id on public.projects
  for each row when (old.team_id is not null and old.team_id is distinct from new.team_id)
  execute function private.audit_project_move();
