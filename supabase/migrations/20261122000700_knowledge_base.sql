-- =====================================================================================================
-- Knowledge base: sources (workspace files, documents, URLs, FAQ entries) and their chunks, with full-text
-- and vector search fused by reciprocal rank fusion. A source row exists per embedding model, so a model
-- change writes a second, independent generation while search keeps using the first; vectors of different
-- models (or dimensions) are never compared. Follows the project: readers read, writers index.
-- =====================================================================================================

create table public.kb_sources (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  kind text not null check (kind in ('file', 'document', 'url', 'faq')),
  -- Workspace-relative POSIX path for files, the URL for urls, a stable key for documents and FAQ entries.
  uri text not null check (char_length(uri) between 1 and 4096),
  title text check (title is null or char_length(title) <= 1000),
  language text check (language is null or char_length(language) <= 50),
  -- sha256 of the content; unchanged content is never re-chunked or re-embedded.
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  size_bytes bigint not null default 0 check (size_bytes >= 0),
  -- File modification time in ms since the epoch, for the cheap unchanged check; 0 when not a file.
  mtime_ms bigint not null default 0 check (mtime_ms >= 0),
  -- The model whose vectors this generation holds, e.g. 'cairn-local-hash-v1-384' or 'text-embedding-3-small'.
  embedding_model text not null check (char_length(embedding_model) between 1 and 200),
  embedding_dims integer not null check (embedding_dims between 1 and 4096),
  chunk_count integer not null default 0 check (chunk_count >= 0),
  indexed_by uuid default auth.uid() references auth.users (id) on delete set null,
  indexed_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, embedding_model, kind, uri),
  -- Target of the chunks' composite key, so a chunk can never sit in another project or model than its source.
  unique (id, project_id, embedding_model)
);
comment on table public.kb_sources is 'A file, document, URL or FAQ entry indexed into a project knowledge base, per embedding model.';

create trigger kb_sources_set_updated_at before update on public.kb_sources
  for each row execute function private.set_updated_at();

create table public.kb_chunks (
  id uuid primary key default gen_random_uuid(),
  source_id uuid not null,
  project_id uuid not null,
  embedding_model text not null,
  embedding_dims integer not null check (embedding_dims between 1 and 4096),
  -- Position within the source, 0-based.
  ordinal integer not null check (ordinal >= 0),
  -- 1-based inclusive line range in the source.
  start_line integer not null check (start_line >= 1),
  end_line integer not null,
  content text not null check (octet_length(content) <= 65536),
  -- sha256 of content: chunks whose text is unchanged keep (or borrow) their embeddings.
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  token_count integer not null default 0 check (token_count >= 0),
  fts tsvector generated always as (to_tsvector('english'::regconfig, content)) stored,
  -- Dimension varies by model, so the column is untyped; per-dimension partial HNSW indexes below.
  embedding extensions.vector,
  created_at timestamptz not null default now(),
  constraint kb_chunks_line_range check (end_line >= start_line),
  constraint kb_chunks_embedding_matches_dims check (embedding is null or extensions.vector_dims(embedding) = embedding_dims),
  foreign key (source_id, project_id, embedding_model)
    references public.kb_sources (id, project_id, embedding_model) on delete cascade,
  foreign key (project_id) references public.projects (id) on delete cascade,
  unique (source_id, ordinal)
);
comment on table public.kb_chunks is 'A searchable piece of a source: text, line range, full-text vector and embedding.';
create index kb_chunks_fts_idx on public.kb_chunks using gin (fts);
create index kb_chunks_reuse_idx on public.kb_chunks (project_id, embedding_model, content_hash);
-- HNSW per common dimension (cosine), used when the query casts to the same dimension and model.
create index kb_chunks_embedding_384_idx on public.kb_chunks
  using hnsw ((embedding::extensions.vector(384)) extensions.vector_cosine_ops) where embedding_dims = 384;
create index kb_chunks_embedding_768_idx on public.kb_chunks
  using hnsw ((embedding::extensions.vector(768)) extensions.vector_cosine_ops) where embedding_dims = 768;
create index kb_chunks_embedding_1024_idx on public.kb_chunks
  using hnsw ((embedding::extensions.vector(1024)) extensions.vector_cosine_ops) where embedding_dims = 1024;
create index kb_chunks_embedding_1536_idx on public.kb_chunks
  using hnsw ((embedding::extensions.vector(1536)) extensions.vector_cosine_ops) where embedding_dims = 1536;

-- -----------------------------------------------------------------------------------------------------
-- RLS
-- -----------------------------------------------------------------------------------------------------
alter table public.kb_sources enable row level security;
alter table public.kb_chunks enable row level security;

create policy "Users can read the knowledge base of projects they can read" on public.kb_sources
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
create policy "Users can add to the knowledge base of projects they can write to" on public.kb_sources
  for insert to authenticated
  with check (project_id in (select private.writable_project_ids()));
create policy "Users can update the knowledge base of projects they can write to" on public.kb_sources
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (project_id in (select private.writable_project_ids()));
create policy "Users can remove from the knowledge base of projects they can write to" on public.kb_sources
  for delete to authenticated
  using (project_id in (select private.writable_project_ids()));

create policy "Users can read chunks of projects they can read" on public.kb_chunks
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
create policy "Users can add chunks to projects they can write to" on public.kb_chunks
  for insert to authenticated
  with check (project_id in (select private.writable_project_ids()));
create policy "Users can update chunks of projects they can write to" on public.kb_chunks
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (project_id in (select private.writable_project_ids()));
create policy "Users can remove chunks of projects they can write to" on public.kb_chunks
  for delete to authenticated
  using (project_id in (select private.writable_project_ids()));

revoke all on table public.kb_sources from anon, authenticated;
revoke all on table public.kb_chunks from anon, authenticated;
grant select, insert, update, delete on table public.kb_sources to authenticated;
grant select, insert, update, delete on table public.kb_chunks to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- Helpers
-- -----------------------------------------------------------------------------------------------------
-- A path glob as an anchored regular expression: `**` any depth, `*` and `?` within one segment; a glob
-- without a slash matches the file name in any folder (as .gitignore does).
create or replace function private.glob_to_regex(p_glob text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := regexp_replace(p_glob, '([.+^${}()|\[\]\\])', '\\\1', 'g');
begin
  v := replace(v, '**/', chr(1));
  v := replace(v, '**', chr(2));
  v := replace(v, '*', '[^/]*');
  v := replace(v, '?', '[^/]');
  v := replace(v, chr(1), '(.*/)?');
  v := replace(v, chr(2), '.*');
  if position('/' in p_glob) = 0 then
    v := '(.*/)?' || v;
  end if;
  return '^' || ltrim(v, '/') || '$';
end;
$$;

-- An OR of the query's lexemes: a question in plain words ranks passages that share any of its terms.
create or replace function private.kb_tsquery(p_query text)
returns tsquery
language sql
immutable
set search_path = ''
as $$
  select case when count(*) = 0 then null
              else string_agg(quote_literal(t.lexeme), ' | ')::tsquery end
  from unnest(to_tsvector('english'::regconfig, coalesce(p_query, ''))) as t;
$$;

revoke all on function private.glob_to_regex(text) from public;
revoke all on function private.kb_tsquery(text) from public;
grant execute on function private.glob_to_regex(text) to authenticated, service_role;
grant execute on function private.kb_tsquery(text) to authenticated, service_role;

-- -----------------------------------------------------------------------------------------------------
-- SQL API: writing the index
-- -----------------------------------------------------------------------------------------------------
create or replace function public.kb_upsert_source(p_project_id uuid, p_source jsonb, p_chunks jsonb)
returns public.kb_sources
language plpgsql
set search_path = ''
as $$
declare
  v_src public.kb_sources;
  v_count integer;
begin
  perform private.require_uid();
  if not private.can_write_project(p_project_id) then
    raise exception using errcode = '42501', message = 'you cannot write to the knowledge base of that project';
  end if;
  if p_source is null or jsonb_typeof(p_source) <> 'object' then
    raise exception using errcode = '22023', message = 'source must be a JSON object';
  end if;
  if p_chunks is null or jsonb_typeof(p_chunks) <> 'array' then
    raise exception using errcode = '22023', message = 'chunks must be a JSON array';
  end if;
  if (p_source ->> 'kind') is null or (p_source ->> 'uri') is null or (p_source ->> 'embedding_model') is null
     or (p_source ->> 'embedding_dims') is null or (p_source ->> 'content_hash') is null then
    raise exception using errcode = '22023', message = 'source needs kind, uri, content_hash, embedding_model and embedding_dims';
  end if;

  insert into public.kb_sources as s (project_id, kind, uri, title, language, content_hash, size_bytes, mtime_ms,
                                      embedding_model, embedding_dims, indexed_by, indexed_at)
  values (
    p_project_id, p_source ->> 'kind', p_source ->> 'uri', p_source ->> 'title', p_source ->> 'language',
    p_source ->> 'content_hash', coalesce((p_source ->> 'size_bytes')::bigint, 0), coalesce((p_source ->> 'mtime_ms')::bigint, 0),
    p_source ->> 'embedding_model', (p_source ->> 'embedding_dims')::integer, auth.uid(), now()
  )
  on conflict (project_id, embedding_model, kind, uri) do update set
    title = excluded.title, language = excluded.language, content_hash = excluded.content_hash,
    size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms, embedding_dims = excluded.embedding_dims,
    indexed_by = excluded.indexed_by, indexed_at = excluded.indexed_at
  returning * into v_src;

  delete from public.kb_chunks where source_id = v_src.id;

  insert into public.kb_chunks (source_id, project_id, embedding_model, embedding_dims, ordinal, start_line, end_line,
                                content, content_hash, token_count, embedding)
  select v_src.id, p_project_id, v_src.embedding_model, v_src.embedding_dims, x.ordinal, x.start_line, x.end_line,
         x.content, x.content_hash, coalesce(x.token_count, 0), x.embedding::extensions.vector
  from jsonb_to_recordset(p_chunks) as x(ordinal integer, start_line integer, end_line integer, content text,
                                         content_hash text, token_count integer, embedding text);
  get diagnostics v_count = row_count;

  update public.kb_sources set chunk_count = v_count where id = v_src.id returning * into v_src;
  return v_src;
end;
$$;

create or replace function public.kb_upsert_sources(p_project_id uuid, p_sources jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_item jsonb;
  v_count integer := 0;
begin
  if p_sources is null or jsonb_typeof(p_sources) <> 'array' then
    raise exception using errcode = '22023', message = 'sources must be a JSON array of {source, chunks}';
  end if;
  for v_item in select * from jsonb_array_elements(p_sources) loop
    perform public.kb_upsert_source(p_project_id, v_item -> 'source', v_item -> 'chunks');
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;

create or replace function public.kb_delete_sources(
  p_project_id uuid,
  p_embedding_model text,
  p_uris text[],
  p_kind text default 'file'
)
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
  delete from public.kb_sources s
  where s.project_id = p_project_id
    and (p_embedding_model is null or s.embedding_model = p_embedding_model)
    and (p_kind is null or s.kind = p_kind)
    and s.uri = any (p_uris);
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

-- Drops a whole generation (after a model switch completed).
create or replace function public.kb_delete_model(p_project_id uuid, p_embedding_model text)
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
  delete from public.kb_sources s where s.project_id = p_project_id and s.embedding_model = p_embedding_model;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- SQL API: reading the index
-- -----------------------------------------------------------------------------------------------------
create or replace function public.kb_list_sources(p_project_id uuid, p_embedding_model text, p_kind text default null)
returns table (id uuid, kind text, uri text, content_hash text, size_bytes bigint, mtime_ms bigint,
               chunk_count integer, indexed_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select s.id, s.kind, s.uri, s.content_hash, s.size_bytes, s.mtime_ms, s.chunk_count, s.indexed_at
  from public.kb_sources s
  where s.project_id = p_project_id and s.embedding_model = p_embedding_model
    and (p_kind is null or s.kind = p_kind)
  order by s.kind, s.uri;
$$;

create or replace function public.kb_embeddings_by_hash(p_project_id uuid, p_embedding_model text, p_hashes text[])
returns table (content_hash text, embedding text)
language sql
stable
set search_path = ''
as $$
  select distinct on (c.content_hash) c.content_hash, c.embedding::text
  from public.kb_chunks c
  where c.project_id = p_project_id and c.embedding_model = p_embedding_model
    and c.content_hash = any (p_hashes) and c.embedding is not null
  order by c.content_hash;
$$;

create or replace function public.kb_status(p_project_id uuid)
returns table (embedding_model text, embedding_dims integer, kind text, sources bigint, chunks bigint,
               last_indexed_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select s.embedding_model, s.embedding_dims, s.kind, count(*), coalesce(sum(s.chunk_count), 0)::bigint, max(s.indexed_at)
  from public.kb_sources s
  where s.project_id = p_project_id
  group by s.embedding_model, s.embedding_dims, s.kind
  order by s.embedding_model, s.kind;
$$;

-- Hybrid search: the best full-text matches and the nearest vectors (same model only), each ranked, fused
-- by reciprocal rank fusion: score = sum(1 / (60 + rank)). Either part may be absent (no lexemes, or no
-- query embedding). Filters apply to both parts.
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

  return query execute format($q$
    with src as (
      select s.id, s.kind, s.uri, s.title, s.language
      from public.kb_sources s
      where s.project_id = $1 and s.embedding_model = $4
        and ($5::text is null or starts_with(s.uri, $5))
        and ($6::text is null or s.uri ~ $6)
        and ($7::text is null or s.language = $7)
        and ($8::text is null or s.kind = $8)
    ),
    fts as (
      select c.id, row_number() over (order by ts_rank_cd(c.fts, $2) desc, c.id) as r
      from public.kb_chunks c
      where $2 is not null and c.project_id = $1 and c.embedding_model = $4
        and c.fts @@ $2 and c.source_id in (select id from src)
      order by ts_rank_cd(c.fts, $2) desc, c.id
      limit $9
    ),
    vec as (
      select v.id, row_number() over (order by v.d, v.id) as r
      from (
        select c.id, c.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s) as d
        from public.kb_chunks c
        where %2$s and c.project_id = $1 and c.embedding_model = $4 and c.embedding_dims = %1$s
          and c.embedding is not null and c.source_id in (select id from src)
        order by c.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s)
        limit $9
      ) v
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
           case when $2 is not null and fu.fts_rank is not null
                then ts_headline('english'::regconfig, c.content, $2,
                                 'MaxFragments=1, MaxWords=40, MinWords=15, StartSel="", StopSel="", FragmentDelimiter=" … "')
                else left(c.content, 300) end,
           fu.score::double precision, fu.fts_rank, fu.vector_rank
    from fused fu
    join public.kb_chunks c on c.id = fu.id
    join src s on s.id = c.source_id
    order by fu.score desc, c.id
  $q$, coalesce(v_dims, 1), case when v_dims is null then 'false' else 'true' end)
  using p_project_id, v_tsq, p_query_embedding, p_embedding_model, p_path_prefix, v_regex, p_language, p_kind,
        v_pool, p_limit;
end;
$$;

revoke all on function public.kb_upsert_source(uuid, jsonb, jsonb) from public, anon;
revoke all on function public.kb_upsert_sources(uuid, jsonb) from public, anon;
revoke all on function public.kb_delete_sources(uuid, text, text[], text) from public, anon;
revoke all on function public.kb_delete_model(uuid, text) from public, anon;
revoke all on function public.kb_list_sources(uuid, text, text) from public, anon;
revoke all on function public.kb_embeddings_by_hash(uuid, text, text[]) from public, anon;
revoke all on function public.kb_status(uuid) from public, anon;
revoke all on function public.kb_search(uuid, text, text, text, integer, text, text, text, text) from public, anon;
grant execute on function public.kb_upsert_source(uuid, jsonb, jsonb) to authenticated;
grant execute on function public.kb_upsert_sources(uuid, jsonb) to authenticated;
grant execute on function public.kb_delete_sources(uuid, text, text[], text) to authenticated;
grant execute on function public.kb_delete_model(uuid, text) to authenticated;
grant execute on function public.kb_list_sources(uuid, text, text) to authenticated;
grant execute on function public.kb_embeddings_by_hash(uuid, text, text[]) to authenticated;
grant execute on function public.kb_status(uuid) to authenticated;
grant execute on function public.kb_search(uuid, text, text, text, integer, text, text, text, text) to authenticated;
