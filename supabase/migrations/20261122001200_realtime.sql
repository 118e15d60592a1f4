-- =====================================================================================================
-- Change feed for live updates of sessions, messages and access changes: Supabase Realtime reads the
-- `supabase_realtime` publication (RLS applied per subscriber, which lets exactly the people who lost access
-- see an access_changes row); the embedded and Postgres-URL stores LISTEN on `cairn_changes`, whose payload
-- carries only ids and routing keys (never content), so each listener re-reads rows as its own user.
-- =====================================================================================================

do $$
begin
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    alter publication supabase_realtime add table public.sessions, public.messages, public.access_changes;
  end if;
end;
$$;

create or replace function private.notify_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row record := case when tg_op = 'DELETE' then old else new end;
  v_record jsonb;
begin
  if tg_table_name = 'messages' then
    v_record := jsonb_build_object('id', v_row.id, 'session_id', v_row.session_id, 'seq', v_row.seq,
                                   'status', v_row.status, 'author_id', v_row.author_id);
  elsif tg_table_name = 'access_changes' then
    v_record := jsonb_build_object('id', v_row.id, 'team_id', v_row.team_id, 'reason', v_row.reason,
                                   'user_id', v_row.user_id, 'project_id', v_row.project_id,
                                   'session_id', v_row.session_id);
  else
    v_record := jsonb_build_object('id', v_row.id, 'project_id', v_row.project_id, 'owner_id', v_row.owner_id,
                                   'visibility', v_row.visibility, 'archived', v_row.archived_at is not null);
  end if;
  perform pg_notify('cairn_changes', jsonb_build_object('table', tg_table_name, 'op', tg_op, 'record', v_record)::text);
  return null;
end;
$$;
revoke all on function private.notify_change() from public;

create trigger sessions_notify_change after insert or update or delete on public.sessions
  for each row execute function private.notify_change();
create trigger messages_notify_change after insert or update on public.messages
  for each row execute function private.notify_change();
create trigger access_changes_notify_change after insert on public.access_changes
  for each row execute function private.notify_change();

-- Newest migration applied, for the daemon's "schema behind" check (the table is not readable otherwise).
create or replace function public.schema_version()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select max(version) from supabase_migrations.schema_migrations;
$$;
revoke all on function public.schema_version() from public;
grant execute on function public.schema_version() to anon, authenticated;
