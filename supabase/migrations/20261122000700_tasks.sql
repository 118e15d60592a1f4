-- =====================================================================================================
-- Tasks: work items in a project, created by people or by agents (the create_task / update_task tools).
-- They follow their project: read by whoever reads the project, written by whoever writes to it.
-- =====================================================================================================

create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  -- The conversation it came from, if any; the task outlives the session.
  session_id uuid references public.sessions (id) on delete set null,
  -- Who created it: auth.uid(), never written by a client.
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  title text not null check (char_length(btrim(title)) between 1 and 300),
  description text check (description is null or char_length(description) <= 20000),
  status text not null default 'todo' check (status in ('todo', 'in_progress', 'done', 'cancelled')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.tasks is 'A work item in a project, possibly created by an agent from a session.';
create index tasks_project_status_idx on public.tasks (project_id, status, created_at desc);
create index tasks_session_id_idx on public.tasks (session_id);

create trigger tasks_set_updated_at before update on public.tasks
  for each row execute function private.set_updated_at();

alter table public.tasks enable row level security;

create policy "Users can read the tasks of projects they can read" on public.tasks
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));

-- A task may only link a session its writer can read, so no task points into another tenant's conversation.
create policy "Users can create tasks in projects they can write to" on public.tasks
  for insert to authenticated
  with check (
    project_id in (select private.writable_project_ids()) and created_by = (select auth.uid())
    and (session_id is null or session_id in (select private.readable_session_ids()))
  );

create policy "Users can update tasks in projects they can write to" on public.tasks
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (
    project_id in (select private.writable_project_ids())
    and (session_id is null or session_id in (select private.readable_session_ids()))
  );

create policy "Users can delete tasks in projects they can write to" on public.tasks
  for delete to authenticated
  using (project_id in (select private.writable_project_ids()));

-- Ids, creator and timestamps are the server's; a task stays in its project and with its session.
revoke all on table public.tasks from anon, authenticated;
grant select, delete on table public.tasks to authenticated;
grant insert (project_id, session_id, title, description, status), update (title, description, status)
  on table public.tasks to authenticated;

create or replace function public.create_task(
  p_project_id uuid,
  p_title text,
  p_description text default null,
  p_session_id uuid default null
)
returns public.tasks
language plpgsql
set search_path = ''
as $$
declare
  v_row public.tasks;
begin
  perform private.require_uid();
  if p_title is null or char_length(btrim(p_title)) not between 1 and 300 then
    raise exception using errcode = '22023', message = 'task title must be 1 to 300 characters';
  end if;
  if not private.can_write_project(p_project_id) then
    raise exception using errcode = '42501', message = 'you cannot create tasks in that project';
  end if;
  if p_session_id is not null and not exists (select 1 from public.sessions s where s.id = p_session_id) then
    raise exception using errcode = 'P0002', message = 'session not found';
  end if;
  insert into public.tasks (project_id, session_id, title, description)
  values (p_project_id, p_session_id, btrim(p_title), p_description)
  returning * into v_row;
  return v_row;
exception
  when foreign_key_violation then
    raise exception using errcode = 'P0002', message = 'session not found';
end;
$$;

create or replace function public.update_task(p_task_id uuid, p_patch jsonb)
returns public.tasks
language plpgsql
set search_path = ''
as $$
declare
  v_row public.tasks;
  v_key text;
begin
  perform private.require_uid();
  if p_patch is null or jsonb_typeof(p_patch) <> 'object' then
    raise exception using errcode = '22023', message = 'patch must be a JSON object';
  end if;
  for v_key in select jsonb_object_keys(p_patch) loop
    if v_key not in ('title', 'description', 'status') then
      raise exception using errcode = '22023', message = format('unknown task field %L', v_key);
    end if;
  end loop;
  if p_patch ? 'status' and (p_patch ->> 'status') not in ('todo', 'in_progress', 'done', 'cancelled') then
    raise exception using errcode = '22023', message = 'status must be todo, in_progress, done or cancelled';
  end if;
  if not exists (select 1 from public.tasks t where t.id = p_task_id) then
    raise exception using errcode = 'P0002', message = 'task not found';
  end if;
  update public.tasks t set
    title = case when p_patch ? 'title' then btrim(p_patch ->> 'title') else t.title end,
    description = case when p_patch ? 'description' then p_patch ->> 'description' else t.description end,
    status = case when p_patch ? 'status' then p_patch ->> 'status' else t.status end
  where t.id = p_task_id
  returning * into v_row;
  if not found then
    raise exception using errcode = '42501', message = 'you can read this task but not change it';
  end if;
  return v_row;
end;
$$;

create or replace function public.list_tasks(p_project_id uuid, p_status text default null)
returns setof public.tasks
language sql
stable
set search_path = ''
as $$
  select t.* from public.tasks t
  where t.project_id = p_project_id and (p_status is null or t.status = p_status)
  order by t.created_at desc
  limit 500;
$$;

revoke all on function public.create_task(uuid, text, text, uuid) from public, anon;
revoke all on function public.update_task(uuid, jsonb) from public, anon;
revoke all on function public.list_tasks(uuid, text) from public, anon;
grant execute on function public.create_task(uuid, text, text, uuid) to authenticated;
grant execute on function public.update_task(uuid, jsonb) to authenticated;
grant execute on function public.list_tasks(uuid, text) to authenticated;
