-- =====================================================================================================
-- What the caller may do in a session they can read, so a client can offer only what will work (a viewer's
-- chat shows the conversation without an input box): 'owner', 'write' (a team session, role member or
-- above) or 'read' (a team session, role viewer). Not visible: P0002, as get_session.
-- =====================================================================================================

create or replace function public.session_access(p_session_id uuid)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_owner uuid;
begin
  select s.owner_id into v_owner from public.sessions s where s.id = p_session_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'session not found';
  end if;
  if v_owner = v_uid then
    return 'owner';
  end if;
  return case when private.can_write_session(p_session_id) then 'write' else 'read' end;
end;
$$;
revoke all on function public.session_access(uuid) from public, anon;
grant execute on function public.session_access(uuid) to authenticated;
