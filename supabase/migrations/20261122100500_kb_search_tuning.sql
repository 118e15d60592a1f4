-- =====================================================================================================
-- Knowledge base: kb_search tuned on the 100k-chunk bench (bench/kb.bench.ts).
-- - Full text: without statistics (PGlite has no autovacuum) the planner read every chunk of the project
--   through the (project_id, ...) btree and tested `fts @@ query` on each, linear in the index size. The
--   candidate query hides project_id and embedding_model from that index and sequential scans are off, so
--   the GIN index finds the matches; at most 300 of them are ranked (an AND of common terms cost 82 ms of
--   GIN intersection at 100k chunks, so there is no separate all-terms branch).
-- - Vectors: HNSW recall@10 was 0.70 at 100k chunks with ef_search 100 (0.91 at 20k); it is now 400.
-- - ts_headline cost 2-3 ms per hit, so the snippet is the chunk's first 300 characters; the daemon cuts
--   the lines around the match out of `content`.
-- =====================================================================================================

create or replace function public.kb_search(
  p_project_id uuid,
  p_query text,
  p_query_embedding text,
  p_embedding_model text,
  p_limit integer default 10,
  p_path_prefix text default null,
  p_path_glob text default null,
  p_language text default null,
  p_kind text default null
)
returns table (chunk_id uuid, source_id uuid, kind text, uri text, title text, language text, start_line integer,
               end_line integer, content text, snippet text, score double precision, fts_rank integer,
               vector_rank integer)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_tsq tsquery := private.kb_tsquery(p_query);
  v_dims integer;
  v_pool integer;
  v_regex text := case when p_path_glob is null then null else private.glob_to_regex(p_path_glob) end;
  v_filtered boolean := p_path_prefix is not null or p_path_glob is not null or p_language is not null or p_kind is not null;
begin
  perform private.require_uid();
  if p_limit is null or p_limit not between 1 and 100 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 100';
  end if;
  if p_embedding_model is null then
    raise exception using errcode = '22023', message = 'embedding model is required';
  end if;
  if p_kind is not null and p_kind not in ('file', 'document', 'url', 'faq') then
    raise exception using errcode = '22023', message = 'kind must be file, document, url or faq';
  end if;
  v_pool := greatest(p_limit * 5, 50);
  if p_query_embedding is not null then
    v_dims := extensions.vector_dims(p_query_embedding::extensions.vector);
  end if;
  -- Recall: 40 candidates (the default) is too few for a pool of 50; relaxed iterative scans keep walking
  -- the graph until enough rows pass the project and filter conditions.
  perform set_config('hnsw.ef_search', greatest(v_pool * 4, 400)::text, true);
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  -- See the header: the GIN index, not a per-chunk test, must find full-text candidates.
  perform set_config('enable_seqscan', 'off', true);

  return query execute format($q$
    with src as materialized (
      select s.id, s.kind, s.uri, s.title, s.language
      from public.kb_sources s
      where s.project_id = $1 and s.embedding_model = $4
        and ($5::text is null or starts_with(s.uri, $5))
        and ($6::text is null or s.uri ~ $6)
        and ($7::text is null or s.language = $7)
        and ($8::text is null or s.kind = $8)
    ),
    cand as (
      select c.id from public.kb_chunks c
      where $2 is not null and coalesce(c.project_id, c.project_id) = $1 and coalesce(c.embedding_model, c.embedding_model) = $4 and c.fts @@ $2
        and (not $11 or c.source_id in (select id from src))
      limit 300
    ),
    fts as (
      select c.id, row_number() over (order by ts_rank_cd(c.fts, $2) desc, c.id) as r
      from cand join public.kb_chunks c on c.id = cand.id
      order by ts_rank_cd(c.fts, $2) desc, c.id
      limit $9
    ),
    ann as (
      select a.chunk_id as id,
             a.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s) as d
      from public.kb_ann a
      where %2$s and a.embedding_dims = %1$s and a.project_id = $1 and a.embedding_model = $4
        and (not $11 or a.source_id in (select id from src))
      order by a.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s)
      limit $9
    ),
    pending as (
      select c.id, c.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s) as d
      from public.kb_ann_pending p
      join public.kb_chunks c on c.id = p.chunk_id
      where %2$s and p.project_id = $1 and p.embedding_model = $4 and c.embedding_dims = %1$s
        and (not $11 or c.source_id in (select id from src))
      order by 2
      limit $9
    ),
    vec as (
      select u.id, row_number() over (order by u.d, u.id) as r
      from (select * from ann union all select * from pending) u
      order by u.d, u.id
      limit $9
    ),
    fused as (
      select coalesce(f.id, v.id) as id,
             coalesce(1.0 / (60 + f.r), 0) + coalesce(1.0 / (60 + v.r), 0) as score,
             f.r::integer as fts_rank, v.r::integer as vector_rank
      from fts f full join vec v on v.id = f.id
      order by 2 desc, 1
      limit $10
    )
    select c.id, c.source_id, s.kind, s.uri, s.title, s.language, c.start_line, c.end_line, c.content,
           left(c.content, 300),
           fu.score::double precision, fu.fts_rank, fu.vector_rank
    from fused fu
    join public.kb_chunks c on c.id = fu.id
    join src s on s.id = c.source_id
    order by fu.score desc, c.id
  $q$, coalesce(v_dims, 1), case when v_dims is null then 'false' else 'true' end)
  using p_project_id, v_tsq, p_query_embedding, p_embedding_model, p_path_prefix, v_regex, p_language, p_kind,
        v_pool, p_limit, v_filtered;
end;
$$;
