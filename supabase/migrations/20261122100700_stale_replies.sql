-- =====================================================================================================
-- Replies left `streaming` by a crash, when the same user may run several daemons (team mode: two
-- machines). A live reply is saved at least every 30 seconds (its content as it grows, or a heartbeat), so
-- one untouched for longer than `p_stale_after_seconds` belongs to a daemon that is gone. Without the
-- argument every streaming reply of the caller is failed, as a lone embedded daemon does at start.
-- =====================================================================================================

drop function if exists public.fail_streaming_messages(text);

create function public.fail_streaming_messages(p_reason text default 'interrupted', p_stale_after_seconds integer default null)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_count integer;
begin
  if p_stale_after_seconds is not null and p_stale_after_seconds < 0 then
    raise exception using errcode = '22023', message = 'p_stale_after_seconds must not be negative';
  end if;
  update public.messages
  set status = 'failed', metadata = metadata || jsonb_build_object('error', coalesce(p_reason, 'interrupted'))
  where author_id = v_uid and status = 'streaming'
    and (p_stale_after_seconds is null or updated_at < now() - make_interval(secs => p_stale_after_seconds));
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

revoke all on function public.fail_streaming_messages(text, integer) from public, anon;
grant execute on function public.fail_streaming_messages(text, integer) to authenticated;
