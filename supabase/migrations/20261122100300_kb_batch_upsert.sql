-- =====================================================================================================
-- Knowledge base: kb_upsert_sources writes a batch of sources with their chunks in three set-based
-- statements (sources, old chunks out, new chunks in) rather than kb_upsert_source per item: workspace files
-- average a few chunks each, so per-statement cost would dominate a cold index. One transaction, so every
-- source of the batch lands whole or not at all.
-- =====================================================================================================

create or replace function public.kb_upsert_sources(p_project_id uuid, p_sources jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  perform private.require_uid();
  if not private.can_write_project(p_project_id) then
    raise exception using errcode = '42501', message = 'you cannot write to the knowledge base of that project';
  end if;
  if p_sources is null or jsonb_typeof(p_sources) <> 'array' then
    raise exception using errcode = '22023', message = 'sources must be a JSON array of {source, chunks}';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_sources) e
    where jsonb_typeof(e -> 'source') is distinct from 'object' or jsonb_typeof(e -> 'chunks') is distinct from 'array'
       or (e -> 'source' ->> 'kind') is null or (e -> 'source' ->> 'uri') is null
       or (e -> 'source' ->> 'embedding_model') is null or (e -> 'source' ->> 'embedding_dims') is null
       or (e -> 'source' ->> 'content_hash') is null
  ) then
    raise exception using errcode = '22023', message = 'each source needs kind, uri, content_hash, embedding_model and embedding_dims, and a chunks array';
  end if;
  if (select count(*) from jsonb_array_elements(p_sources)) <> (
    select count(distinct (e -> 'source' ->> 'kind', e -> 'source' ->> 'uri', e -> 'source' ->> 'embedding_model'))
    from jsonb_array_elements(p_sources) e
  ) then
    raise exception using errcode = '22023', message = 'a source appears twice in one batch';
  end if;

  with up as (
    insert into public.kb_sources as s (project_id, kind, uri, title, language, content_hash, size_bytes, mtime_ms,
                                        embedding_model, embedding_dims, chunk_count, indexed_by, indexed_at)
    select p_project_id, src ->> 'kind', src ->> 'uri', src ->> 'title', src ->> 'language', src ->> 'content_hash',
           coalesce((src ->> 'size_bytes')::bigint, 0), coalesce((src ->> 'mtime_ms')::bigint, 0),
           src ->> 'embedding_model', (src ->> 'embedding_dims')::integer, jsonb_array_length(e -> 'chunks'), auth.uid(), now()
    from jsonb_array_elements(p_sources) e, lateral (select e -> 'source' as src) x
    on conflict (project_id, embedding_model, kind, uri) do update set
      title = excluded.title, language = excluded.language, content_hash = excluded.content_hash,
      size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms, embedding_dims = excluded.embedding_dims,
      chunk_count = excluded.chunk_count, indexed_by = excluded.indexed_by, indexed_at = excluded.indexed_at
    returning s.id
  )
  select array_agg(id) into v_ids from up;

  delete from public.kb_chunks c where c.source_id = any (v_ids);

  insert into public.kb_chunks (source_id, project_id, embedding_model, embedding_dims, ordinal, start_line, end_line,
                                content, content_hash, token_count, symbols, scope, embedding)
  select s.id, p_project_id, s.embedding_model, s.embedding_dims, x.ordinal, x.start_line, x.end_line,
         x.content, x.content_hash, coalesce(x.token_count, 0), coalesce(x.symbols, '{}'), x.scope,
         x.embedding::extensions.vector
  from jsonb_array_elements(p_sources) e
  join public.kb_sources s
    on s.project_id = p_project_id and s.embedding_model = e -> 'source' ->> 'embedding_model'
   and s.kind = e -> 'source' ->> 'kind' and s.uri = e -> 'source' ->> 'uri'
  cross join lateral jsonb_to_recordset(e -> 'chunks') as x(ordinal integer, start_line integer, end_line integer,
                                                             content text, content_hash text, token_count integer,
                                                             symbols text[], scope text, embedding text);
  return coalesce(array_length(v_ids, 1), 0);
end;
$$;

revoke all on function public.kb_upsert_sources(uuid, jsonb) from public, anon;
grant execute on function public.kb_upsert_sources(uuid, jsonb) to authenticated;
