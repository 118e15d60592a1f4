-- =====================================================================================================
-- Projects (a workspace, personal or a team's) and agents (a system prompt, a model and tools).
-- Both follow their team: read by any member, written by role member or above; personal ones by their owner.
-- Which project a workspace folder is, by the user's choice only (project_folders, ensure_project), is at
-- the end of this file.
-- =====================================================================================================

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  -- The owning team; null for a personal project.
  team_id uuid references public.teams (id) on delete cascade,
  -- Who created it (set from auth.uid(), never written by a client); the owner of a personal project. A
  -- personal project goes with its owner's account; a team project stays with the team (owner_id null).
  owner_id uuid default auth.uid() references auth.users (id) on delete set null,
  name text not null check (char_length(name) between 1 and 200),
  -- Where the workspace lives on the creator's machine (file:// URI); informational for teammates.
  root_uri text check (root_uri is null or char_length(root_uri) <= 4096),
  -- Normalised git remote (host/org/repo): how teammates opening the same repository find the same project.
  git_remote text check (git_remote is null or char_length(git_remote) <= 1024),
  settings jsonb not null default '{}'::jsonb check (jsonb_typeof(settings) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.projects is 'A workspace: the scope of sessions, tasks and a knowledge base.';
create index projects_team_id_idx on public.projects (team_id);
create index projects_owner_id_idx on public.projects (owner_id);
create unique index projects_team_remote_key on public.projects (team_id, git_remote)
  where team_id is not null and git_remote is not null;
create index projects_git_remote_idx on public.projects (git_remote) where git_remote is not null;
create index projects_owner_root_idx on public.projects (owner_id, root_uri) where team_id is null;

create trigger projects_set_updated_at before update on public.projects
  for each row execute function private.set_updated_at();

-- Projects the acting user can read: their personal ones and their teams'.
create or replace function private.readable_project_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select p.id from public.projects p
  where (p.team_id is null and p.owner_id = auth.uid())
     or p.team_id in (select private.team_ids_with_role('viewer'));
$$;

-- Projects the acting user can write to: personal ones and teams' where their role is member or above.
create or replace function private.writable_project_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select p.id from public.projects p
  where (p.team_id is null and p.owner_id = auth.uid())
     or p.team_id in (select private.team_ids_with_role('member'));
$$;

create or replace function private.can_write_project(p_project_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from private.writable_project_ids() w where w = p_project_id);
$$;

revoke all on function private.readable_project_ids() from public;
revoke all on function private.writable_project_ids() from public;
revoke all on function private.can_write_project(uuid) from public;
grant execute on function private.readable_project_ids() to authenticated, service_role;
grant execute on function private.writable_project_ids() to authenticated, service_role;
grant execute on function private.can_write_project(uuid) to authenticated, service_role;

alter table public.projects enable row level security;

create policy "Users can read their personal projects and their teams' projects" on public.projects
  for select to authenticated
  using (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('viewer'))
  );

create policy "Users can create personal projects, and team projects as member or above" on public.projects
  for insert to authenticated
  with check (
    owner_id = (select auth.uid())
    and (team_id is null or team_id in (select private.team_ids_with_role('member')))
  );

create policy "Owners can update personal projects, team admins team projects" on public.projects
  for update to authenticated
  using (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('admin'))
  )
  with check (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('admin'))
  );

create policy "Owners can delete personal projects, team admins team projects" on public.projects
  for delete to authenticated
  using (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('admin'))
  );

-- Clients write only what a person decides; ids, owner and timestamps are the server's (owner_id from the
-- default auth.uid(), updated_at by trigger). Moving a project between teams is set_project_team's.
revoke all on table public.projects from anon, authenticated;
grant select, delete on table public.projects to authenticated;
grant insert (team_id, name, root_uri, git_remote, settings), update (team_id, name, settings)
  on table public.projects to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- Agents
-- -----------------------------------------------------------------------------------------------------
create table public.agents (
  id uuid primary key default gen_random_uuid(),
  -- The owning team; null for a personal agent.
  team_id uuid references public.teams (id) on delete cascade,
  -- Who created it (set from auth.uid(), never written by a client). A personal agent goes with its owner's
  -- account; a team agent stays with the team (owner_id null).
  owner_id uuid default auth.uid() references auth.users (id) on delete set null,
  name text not null check (char_length(btrim(name)) between 1 and 100),
  description text check (description is null or char_length(description) <= 2000),
  system_prompt text not null check (char_length(system_prompt) <= 100000),
  -- Model name for the OpenAI-compatible endpoint; null uses the client's configured model.
  model text check (model is null or char_length(model) <= 200),
  temperature real check (temperature is null or temperature between 0 and 2),
  -- Tools the agent may call.
  tools text[] not null default '{}'
    check (tools <@ array['search_knowledge_base', 'read_file', 'list_files', 'grep', 'create_task', 'update_task']::text[]),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.agents is 'A configured assistant: system prompt, model and the tools it may use.';
create index agents_team_id_idx on public.agents (team_id);
create unique index agents_personal_name_key on public.agents (owner_id, lower(name)) where team_id is null;
create unique index agents_team_name_key on public.agents (team_id, lower(name)) where team_id is not null;

create trigger agents_set_updated_at before update on public.agents
  for each row execute function private.set_updated_at();

alter table public.agents enable row level security;

create policy "Users can read their personal agents and their teams' agents" on public.agents
  for select to authenticated
  using (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('viewer'))
  );

create policy "Users can create personal agents, and team agents as member or above" on public.agents
  for insert to authenticated
  with check (
    owner_id = (select auth.uid())
    and (team_id is null or team_id in (select private.team_ids_with_role('member')))
  );

create policy "Owners can update personal agents, team members team agents" on public.agents
  for update to authenticated
  using (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('member'))
  )
  with check (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('member'))
  );

create policy "Owners can delete personal agents, team members team agents" on public.agents
  for delete to authenticated
  using (
    (team_id is null and owner_id = (select auth.uid()))
    or team_id in (select private.team_ids_with_role('member'))
  );

-- Ids, owner and timestamps are the server's; an agent does not move between teams.
revoke all on table public.agents from anon, authenticated;
grant select, delete on table public.agents to authenticated;
grant insert (team_id, name, description, system_prompt, model, temperature, tools),
  update (name, description, system_prompt, model, temperature, tools)
  on table public.agents to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- SQL API: projects
-- -----------------------------------------------------------------------------------------------------
create or replace function public.list_projects()
returns setof public.projects
language sql
stable
set search_path = ''
as $$
  select * from public.projects order by name, created_at;
$$;

-- Moves a project into a team, between teams, or back to its creator as a personal project, so teammates
-- share its sessions and knowledge base. It takes the rights of both sides, with a second factor (aal2): the
-- creator of a personal project, or an owner or admin of the team it belongs to; and an owner or admin of
-- the team it goes to (or, to make it personal, its creator). Both teams' audit logs record the move
-- (private.audit_project_move, 20261122001000_usage_keys_audit.sql).
create or replace function public.set_project_team(p_project_id uuid, p_team_id uuid)
returns public.projects
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_from public.projects;
  v_row public.projects;
begin
  select * into v_from from public.projects p where p.id = p_project_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'project not found';
  end if;
  if v_from.team_id is not distinct from p_team_id then
    return v_from;
  end if;
  if v_from.team_id is not null and not private.has_team_role(v_from.team_id, 'admin') then
    raise exception using errcode = 'CR004', message = 'only owners and admins of the team a project belongs to can move it out of that team';
  end if;
  if p_team_id is not null and not private.has_team_role(p_team_id, 'admin') then
    raise exception using errcode = 'CR004', message = 'only team owners and admins can move a project into the team';
  end if;
  if p_team_id is null and v_from.owner_id is distinct from v_uid then
    raise exception using errcode = '42501', message = 'only the creator of a team project can make it personal (theirs) again';
  end if;
  if not private.is_aal2() then
    raise exception using errcode = 'CR002', message = 'moving a project between teams requires a second factor (aal2)';
  end if;
  update public.projects set team_id = p_team_id where id = p_project_id returning * into v_row;
  return v_row;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- SQL API: agents
-- -----------------------------------------------------------------------------------------------------
create or replace function public.list_agents(p_project_id uuid default null)
returns setof public.agents
language sql
stable
set search_path = ''
as $$
  select a.* from public.agents a
  where p_project_id is null
     or a.team_id is null
     or a.team_id = (select p.team_id from public.projects p where p.id = p_project_id)
  order by lower(a.name);
$$;

create or replace function public.create_agent(
  p_name text,
  p_system_prompt text,
  p_description text default null,
  p_model text default null,
  p_temperature real default null,
  p_tools text[] default '{}',
  p_team_id uuid default null
)
returns public.agents
language plpgsql
set search_path = ''
as $$
declare
  v_row public.agents;
begin
  perform private.require_uid();
  if p_team_id is not null and not private.has_team_role(p_team_id, 'member') then
    raise exception using errcode = 'CR004', message = 'only team members with role member or above can create team agents';
  end if;
  insert into public.agents (team_id, name, description, system_prompt, model, temperature, tools)
  values (p_team_id, btrim(p_name), p_description, p_system_prompt, p_model, p_temperature, coalesce(p_tools, '{}'))
  returning * into v_row;
  return v_row;
exception
  when unique_violation then
    raise exception using errcode = '23505', message = format('an agent named %L already exists', p_name);
end;
$$;

create or replace function public.update_agent(p_agent_id uuid, p_patch jsonb)
returns public.agents
language plpgsql
set search_path = ''
as $$
declare
  v_row public.agents;
  v_key text;
begin
  perform private.require_uid();
  if p_patch is null or jsonb_typeof(p_patch) <> 'object' then
    raise exception using errcode = '22023', message = 'patch must be a JSON object';
  end if;
  for v_key in select jsonb_object_keys(p_patch) loop
    if v_key not in ('name', 'description', 'system_prompt', 'model', 'temperature', 'tools') then
      raise exception using errcode = '22023', message = format('unknown agent field %L', v_key);
    end if;
  end loop;
  update public.agents a set
    name = case when p_patch ? 'name' then btrim(p_patch ->> 'name') else a.name end,
    description = case when p_patch ? 'description' then p_patch ->> 'description' else a.description end,
    system_prompt = case when p_patch ? 'system_prompt' then p_patch ->> 'system_prompt' else a.system_prompt end,
    model = case when p_patch ? 'model' then p_patch ->> 'model' else a.model end,
    temperature = case when p_patch ? 'temperature' then (p_patch ->> 'temperature')::real else a.temperature end,
    tools = case when p_patch ? 'tools'
      then array(select jsonb_array_elements_text(p_patch -> 'tools')) else a.tools end
  where a.id = p_agent_id
  returning * into v_row;
  if not found then
    raise exception using errcode = 'P0002', message = 'agent not found';
  end if;
  return v_row;
end;
$$;

create or replace function public.delete_agent(p_agent_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_uid();
  delete from public.agents where id = p_agent_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'agent not found';
  end if;
end;
$$;

revoke all on function public.list_projects() from public, anon;
revoke all on function public.set_project_team(uuid, uuid) from public, anon;
revoke all on function public.list_agents(uuid) from public, anon;
revoke all on function public.create_agent(text, text, text, text, real, text[], uuid) from public, anon;
revoke all on function public.update_agent(uuid, jsonb) from public, anon;
revoke all on function public.delete_agent(uuid) from public, anon;
grant execute on function public.list_projects() to authenticated;
grant execute on function public.set_project_team(uuid, uuid) to authenticated;
grant execute on function public.list_agents(uuid) to authenticated;
grant execute on function public.create_agent(text, text, text, text, real, text[], uuid) to authenticated;
grant execute on function public.update_agent(uuid, jsonb) to authenticated;
grant execute on function public.delete_agent(uuid) to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- Which project a workspace folder is: never one the user did not choose. `ensure_project` maps a folder to
-- the user's explicit choice (`project_folders`, checked again on every use through RLS on projects, so
-- losing access falls back), else to the project this user already uses for that folder, else to their
-- personal project. A team project is never picked for a folder just because its git remote matches: when
-- the remote matches a project of a team the user has not used with this folder, ensure_project refuses
-- with SQLSTATE CR001 and `list_project_candidates` names the candidates (with their teams) so the client
-- asks; the answer (a team project, or "keep it personal") is remembered in `project_folders`. A git remote
-- is not proof of anything: anyone can create a project with any remote in a team of their own.
-- -----------------------------------------------------------------------------------------------------
create table public.project_folders (
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  -- The folder as the daemon names it (file:// URI on the user's machine).
  root_uri text not null check (char_length(root_uri) between 1 and 4096),
  project_id uuid not null references public.projects (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, root_uri)
);
comment on table public.project_folders is 'A workspace folder a user mapped to a project by choice.';
create index project_folders_project_id_idx on public.project_folders (project_id);

create trigger project_folders_set_updated_at before update on public.project_folders
  for each row execute function private.set_updated_at();

alter table public.project_folders enable row level security;

create policy "Users can read their own folder choices" on public.project_folders
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy "Users can map their folders to projects they can read" on public.project_folders
  for insert to authenticated
  with check (user_id = (select auth.uid()) and project_id in (select private.readable_project_ids()));

create policy "Users can remap their folders to projects they can read" on public.project_folders
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and project_id in (select private.readable_project_ids()));

create policy "Users can forget their folder choices" on public.project_folders
  for delete to authenticated
  using (user_id = (select auth.uid()));

-- The user is always the caller (the default auth.uid()); timestamps are the server's.
revoke all on table public.project_folders from anon, authenticated;
grant select, delete on table public.project_folders to authenticated;
grant insert (root_uri, project_id), update (project_id) on table public.project_folders to authenticated;

-- Maps the folder to a project the caller can read, or forgets the choice (p_project_id null, returns null).
create or replace function public.choose_project(p_root_uri text, p_project_id uuid default null)
returns public.projects
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_row public.projects;
begin
  if p_root_uri is null or char_length(p_root_uri) not between 1 and 4096 then
    raise exception using errcode = '22023', message = 'the folder must be named by a URI of 1 to 4096 characters';
  end if;
  if p_project_id is null then
    delete from public.project_folders where user_id = v_uid and root_uri = p_root_uri;
    return null;
  end if;
  select * into v_row from public.projects p where p.id = p_project_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'project not found';
  end if;
  insert into public.project_folders (root_uri, project_id)
  values (p_root_uri, p_project_id)
  on conflict (user_id, root_uri) do update set project_id = excluded.project_id;
  return v_row;
end;
$$;
revoke all on function public.choose_project(text, uuid) from public, anon;
grant execute on function public.choose_project(text, uuid) to authenticated;

-- The project of a workspace folder, in this order:
--   1. p_team_id given (the user's act: "this folder is this team's project"): that team's project for the
--      repository (or this user's project for the folder, once moved into the team), else a new team
--      project (role member or above); the choice is remembered.
--   2. p_personal (the user's answer "keep it personal"): their personal project for the folder or the
--      repository, else a new one; the choice is remembered.
--   3. the user's remembered choice for this folder, while they can read that project;
--   4. the project this user made for this folder (personal, or since moved into a team they are still in);
--   5. when a team project the user can read has the folder's git remote: SQLSTATE CR001, nothing mapped
--      (the client asks, with list_project_candidates, and answers with choose_project or p_personal);
--   6. their personal project for the repository, else a new personal project.
-- Never by age, and never a project of a team the user has not chosen for this folder.
create or replace function public.ensure_project(
  p_root_uri text,
  p_name text,
  p_git_remote text default null,
  p_team_id uuid default null,
  p_personal boolean default false
)
returns public.projects
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_remote text := nullif(btrim(p_git_remote), '');
  v_name text := coalesce(nullif(btrim(p_name), ''), 'workspace');
  v_row public.projects;
begin
  if p_root_uri is null or char_length(p_root_uri) not between 1 and 4096 then
    raise exception using errcode = '22023', message = 'the folder must be named by a URI of 1 to 4096 characters';
  end if;
  if p_team_id is not null and coalesce(p_personal, false) then
    raise exception using errcode = '22023', message = 'a folder maps to a team project or stays personal, not both';
  end if;

  if p_team_id is not null then
    if not private.has_team_role(p_team_id, 'member') then
      raise exception using errcode = 'CR004', message = 'only team members with role member or above can add team projects';
    end if;
    select * into v_row from public.projects p
    where p.team_id = p_team_id
      and ((v_remote is not null and p.git_remote = v_remote) or (p.owner_id = v_uid and p.root_uri = p_root_uri))
    order by (v_remote is not null and p.git_remote = v_remote) desc, p.id
    limit 1;
    if not found then
      insert into public.projects (team_id, name, root_uri, git_remote)
      values (p_team_id, v_name, p_root_uri, v_remote)
      returning * into v_row;
    end if;
  elsif not coalesce(p_personal, false) then
    select p.* into v_row from public.project_folders f join public.projects p on p.id = f.project_id
    where f.user_id = v_uid and f.root_uri = p_root_uri;
    if found then
      return v_row;
    end if;
    select * into v_row from public.projects p
    where p.owner_id = v_uid and p.root_uri = p_root_uri
    order by (p.team_id is not null) desc, p.id
    limit 1;
    if found then
      return v_row;
    end if;
    if v_remote is not null and exists (
      select 1 from public.projects p where p.team_id is not null and p.git_remote = v_remote
    ) then
      raise exception using
        errcode = 'CR001',
        message = 'this folder''s repository is a project of a team you have not used with this folder: choose it, or keep the folder personal',
        hint = 'list_project_candidates(p_git_remote) names them; answer with choose_project, or ensure_project(..., p_personal => true)';
    end if;
  end if;

  if p_team_id is null then
    select * into v_row from public.projects p
    where p.team_id is null and p.owner_id = v_uid
      and (p.root_uri = p_root_uri or (v_remote is not null and p.git_remote = v_remote))
    order by (p.root_uri = p_root_uri) desc, p.id
    limit 1;
    if not found then
      insert into public.projects (name, root_uri, git_remote)
      values (v_name, p_root_uri, v_remote)
      returning * into v_row;
    end if;
    if not coalesce(p_personal, false) then
      return v_row;
    end if;
  end if;
  insert into public.project_folders (root_uri, project_id)
  values (p_root_uri, v_row.id)
  on conflict (user_id, root_uri) do update set project_id = excluded.project_id;
  return v_row;
end;
$$;
revoke all on function public.ensure_project(text, text, text, uuid, boolean) from public, anon;
grant execute on function public.ensure_project(text, text, text, uuid, boolean) to authenticated;

-- The team projects the caller can read whose git remote is p_git_remote, with their teams' names: what the
-- client offers when ensure_project answers CR001. Only the caller's teams (RLS on projects and teams).
create or replace function public.list_project_candidates(p_git_remote text)
returns table (project_id uuid, project_name text, team_id uuid, team_name text)
language sql
stable
set search_path = ''
as $$
  select p.id, p.name, t.id, t.name
  from public.projects p
  join public.teams t on t.id = p.team_id
  where p.git_remote = nullif(btrim(p_git_remote), '')
  order by t.name, p.name, p.id;
$$;
revoke all on function public.list_project_candidates(text) from public, anon;
grant execute on function public.list_project_candidates(text) to authenticated;
