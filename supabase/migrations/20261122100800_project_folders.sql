-- =====================================================================================================
-- A folder mapped to a project by the user's choice. `ensure_project` maps a workspace folder by its git
-- remote (teammates opening the same repository share a project) or, for a plain folder, to a personal
-- project by path. A folder without a remote, or a fork whose remote differs, can be mapped to any project
-- the user can read; the choice is theirs alone and is checked again on every use (RLS on projects), so
-- losing access to the project falls back to the usual mapping.
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

revoke all on table public.project_folders from anon, authenticated;
grant select, insert, update, delete on table public.project_folders to authenticated;

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
  insert into public.project_folders (user_id, root_uri, project_id)
  values (v_uid, p_root_uri, p_project_id)
  on conflict (user_id, root_uri) do update set project_id = excluded.project_id;
  return v_row;
end;
$$;
revoke all on function public.choose_project(text, uuid) from public, anon;
grant execute on function public.choose_project(text, uuid) to authenticated;

-- As before, but a folder the user mapped by choice goes to that project while they can read it, and a
-- folder whose project its creator moved into a team keeps that project (it made a new personal one).
create or replace function public.ensure_project(
  p_root_uri text,
  p_name text,
  p_git_remote text default null,
  p_team_id uuid default null
)
returns public.projects
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_remote text := nullif(btrim(p_git_remote), '');
  v_row public.projects;
begin
  if p_team_id is not null and not private.has_team_role(p_team_id, 'member') then
    raise exception using errcode = '42501', message = 'only team members with role member or above can add team projects';
  end if;
  if p_team_id is null then
    select p.* into v_row from public.project_folders f join public.projects p on p.id = f.project_id
    where f.user_id = v_uid and f.root_uri = p_root_uri;
    if found then
      return v_row;
    end if;
  end if;
  if v_remote is not null then
    -- A team project for this repository wins, so teammates land in the same project.
    select * into v_row from public.projects p
    where p.git_remote = v_remote and p.team_id is not null and (p_team_id is null or p.team_id = p_team_id)
    order by p.created_at
    limit 1;
    if found then
      return v_row;
    end if;
  end if;
  if p_team_id is null then
    -- The project this user made for this folder, personal or since moved into a team they are still in
    -- (RLS hides it otherwise); or their personal project for the same repository.
    select * into v_row from public.projects p
    where p.owner_id = v_uid
      and (p.root_uri = p_root_uri or (p.team_id is null and v_remote is not null and p.git_remote = v_remote))
    order by (p.root_uri = p_root_uri) desc, (p.team_id is not null) desc, p.created_at
    limit 1;
    if found then
      return v_row;
    end if;
  end if;
  insert into public.projects (team_id, owner_id, name, root_uri, git_remote)
  values (p_team_id, v_uid, coalesce(nullif(btrim(p_name), ''), 'workspace'), p_root_uri, v_remote)
  returning * into v_row;
  return v_row;
end;
$$;
