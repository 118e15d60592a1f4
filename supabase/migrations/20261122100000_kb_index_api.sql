-- =====================================================================================================
-- Knowledge base, indexer support: record a new file stat without rewriting chunks (a touched file whose
-- content is unchanged), and read back the chunks of documents, URLs and FAQ entries so a model switch can
-- re-embed them (their text exists only in the database). Both run as the caller, under the RLS of
-- kb_sources and kb_chunks.
-- =====================================================================================================

-- p_items: [{uri, size_bytes, mtime_ms}] of files of `p_embedding_model`; returns how many rows changed.
create or replace function public.kb_touch_sources(p_project_id uuid, p_embedding_model text, p_items jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_uid();
  if not private.can_write_project(p_project_id) then
    raise exception using errcode = '42501', message = 'you cannot write to the knowledge base of that project';
  end if;
  if p_items is null or jsonb_typeof(p_items) <> 'array' then
    raise exception using errcode = '22023', message = 'items must be a JSON array of {uri, size_bytes, mtime_ms}';
  end if;
  update public.kb_sources s
  set size_bytes = x.size_bytes, mtime_ms = x.mtime_ms
  from jsonb_to_recordset(p_items) as x(uri text, size_bytes bigint, mtime_ms bigint)
  where s.project_id = p_project_id and s.embedding_model = p_embedding_model and s.kind = 'file' and s.uri = x.uri;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

-- The sources of the given kinds of one generation, each with its chunks (text, lines, hashes, symbols; no vectors).
create or replace function public.kb_source_chunks(p_project_id uuid, p_embedding_model text, p_kinds text[])
returns table (source_id uuid, kind text, uri text, title text, language text, content_hash text,
               size_bytes bigint, mtime_ms bigint, chunks jsonb)
language sql
stable
set search_path = ''
as $$
  select s.id, s.kind, s.uri, s.title, s.language, s.content_hash, s.size_bytes, s.mtime_ms,
         coalesce((select jsonb_agg(jsonb_build_object('ordinal', c.ordinal, 'start_line', c.start_line,
                                                       'end_line', c.end_line, 'content', c.content,
                                                       'content_hash', c.content_hash, 'token_count', c.token_count,
                                                       'symbols', c.symbols, 'scope', c.scope)
                                    order by c.ordinal)
                   from public.kb_chunks c where c.source_id = s.id), '[]'::jsonb)
  from public.kb_sources s
  where s.project_id = p_project_id and s.embedding_model = p_embedding_model and s.kind = any (p_kinds)
  order by s.kind, s.uri;
$$;

revoke all on function public.kb_touch_sources(uuid, text, jsonb) from public, anon;
revoke all on function public.kb_source_chunks(uuid, text, text[]) from public, anon;
grant execute on function public.kb_touch_sources(uuid, text, jsonb) to authenticated;
grant execute on function public.kb_source_chunks(uuid, text, text[]) to authenticated;
