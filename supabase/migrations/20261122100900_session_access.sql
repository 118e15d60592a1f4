-- =====================================================================================================
-- What the caller may do in a session they can read, so a client can offer only what will work (a viewer's
-- chat shows the conversation without an input box): 'owner' (their own session, in a project they can
-- still write to), 'write' (a team session, role member or above) or 'read' (a team session as a viewer,
-- and a creator's own session once their role in the team is viewer). In a team project this follows the
-- caller's role now, not who started the session. Not visible (a removed member's own sessions there
-- included): P0002, as get_session.
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
  if not private.can_write_session(p_session_id) then
    return 'read';
  end if;
  return case when v_owner = v_uid then 'owner' else 'write' end;
end;
$$;
revoke all on function public.session_access(uuid) from public, anon;
grant execute on function public.session_access(uuid) to authenticated;
