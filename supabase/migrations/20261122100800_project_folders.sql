-- =====================================================================================================
-- Which project a workspace folder is: never one the user did not choose. `ensure_project` maps a folder to
-- the user's explicit choice (`project_folders`, checked again on every use through RLS on projects, so
-- losing access falls back), else to the project this user already uses for that folder, else to their
-- personal project. A team project is never picked for a folder just because its git remote matches: when
-- the remote matches a project of a team the user has not used with this folder, ensure_project refuses
-- with SQLSTATE CR001 and `list_project_candidates` names the candidates (with their teams) so the client
-- asks; the answer (a team project, or "keep it personal") is remembered in `project_folders`. A git remote
-- is not proof of anything: anyone can create a project with any remote in a team of their own.
-- =====================================================================================================

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
      raise exception using errcode = '42501', message = 'only team members with role member or above can add team projects';
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
