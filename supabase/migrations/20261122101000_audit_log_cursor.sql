-- =====================================================================================================
-- The audit log pages by entry: `p_before_id` (the oldest entry a client has shown) continues exactly
-- after it in the log's order (created_at desc, id desc). Paging by time alone skipped entries that share
-- the oldest shown instant, as all entries of one transaction do.
-- =====================================================================================================

drop function if exists public.list_audit_log(uuid, integer, timestamptz);

create function public.list_audit_log(
  p_team_id uuid,
  p_limit integer default 100,
  p_before timestamptz default null,
  p_before_id bigint default null
)
returns setof public.audit_log
language plpgsql
stable
set search_path = ''
as $$
declare
  v_at timestamptz;
begin
  perform private.require_uid();
  if not private.has_team_role(p_team_id, 'admin') then
    raise exception using errcode = '42501', message = 'only team owners and admins can read the audit log';
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 1000';
  end if;
  if p_before_id is not null then
    select a.created_at into v_at from public.audit_log a where a.id = p_before_id and a.team_id = p_team_id;
    if not found then
      raise exception using errcode = '22023', message = 'before_id is not an entry of this team''s audit log';
    end if;
  end if;
  return query
    select a.* from public.audit_log a
    where a.team_id = p_team_id
      and (p_before is null or a.created_at < p_before)
      and (p_before_id is null or (a.created_at, a.id) < (v_at, p_before_id))
    order by a.created_at desc, a.id desc
    limit p_limit;
end;
$$;

revoke all on function public.list_audit_log(uuid, integer, timestamptz, bigint) from public, anon;
grant execute on function public.list_audit_log(uuid, integer, timestamptz, bigint) to authenticated;
