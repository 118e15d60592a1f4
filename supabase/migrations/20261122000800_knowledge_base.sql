-- =====================================================================================================
-- Knowledge base: sources (workspace files, documents, URLs, FAQ entries) and their chunks, with an
-- identifier-aware full-text vector per chunk and per path, and embeddings; the write path the indexer
-- uses and the vector queue. Search and its term statistics are 20261122000900_kb_search.sql. A source row
-- exists per embedding model, so a model change writes a second, independent generation while search keeps
-- using the first; vectors of different models (or dimensions) are never compared. Which generation search
-- reads is the project's active model (kb_active_models, one row per project, so every machine of a team
-- searches the same one): the first model written becomes active, and the indexer activates a new model once
-- it covers every file (kb_activate_model). Follows the project: readers read, writers index.
--
-- Writing a chunk into an HNSW index is the cost of indexing in PGlite (WASM), so kb_chunks has no vector
-- index: a statement-level trigger queues each new chunk in kb_ann_pending, and the daemon moves queued
-- vectors into kb_ann, which carries the per-dimension HNSW indexes, in small batches in the background
-- (kb_publish_vectors). Search reads the HNSW neighbours from kb_ann plus an exact scan of the queue, so a
-- chunk is searchable the moment its file's transaction commits. bench/kb.bench.ts measures both paths.
-- =====================================================================================================

-- Text as the full-text parser should see it: camelCase boundaries split into words (snake_case is split by
-- the parser), and dots, slashes and colons made separators (`reply.send`, `lib/reply.js`).
create or replace function private.kb_words(p_text text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select regexp_replace(regexp_replace(coalesce(p_text, ''), '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g'),
                        '[./\\:#]', ' ', 'g');
$$;

-- Words for full-text search, identifier-aware: `invoiceTotalCents` gives the english stems invoic, total,
-- cent and the whole identifier `invoicetotalcents`; `snake_case_name` its parts and `snake_case_name`. Each
-- word also gives its exact lower-case form where that differs from its stem (`subscribers` beside `subscrib`,
-- `emitted` beside `emit`), so the exact form a question uses counts above a mere shared stem, and words the
-- english stop list drops that mean something in code (`until`, `while`, `before`, `once`, `only`, `from`)
-- are kept as exact forms. Only plain function words (private.kb_stop_words) are left out.
-- Chunks, paths and queries all go through this function.
create or replace function private.kb_stop_words()
returns text[]
language sql
immutable
parallel safe
set search_path = ''
as $$
  select array['a', 'an', 'the', 'and', 'or', 'of', 'to', 'in', 'is', 'it', 'its', 'be', 'are', 'was', 'were', 'been',
               'being', 'am', 'this', 'that', 'these', 'those', 'as', 'at', 'by', 'for', 'with', 'i', 'me', 'my', 'we',
               'our', 'you', 'your', 'he', 'him', 'his', 'she', 'her', 'they', 'them', 'their', 'what', 'which', 'who',
               'whom', 'do', 'does', 'did', 'have', 'has', 'had', 'so', 'than', 'there', 'here', 's', 't', 'can', 'will',
               'just', 'should', 'would', 'could', 'how', 'why', 'where', 'when', 'if', 'but', 'some', 'such', 'too',
               'very', 'itself', 'myself', 'yourself', 'ourselves', 'themselves', 'himself', 'herself', 'get', 'got'];
$$;

-- Each step runs once per call (variables, not subqueries the planner may copy): the text-search parser is
-- most of the cost of indexing a chunk, and it parses the words twice (english stems, then simple forms).
-- Whole identifiers are read from the original text and given position 1: text like `foo_bar:1 fooBar:1`
-- cast to a tsvector (their characters need no quoting; the cast merges repeats).
create or replace function private.kb_lexemes(p_text text, p_weight "char" default 'D')
returns tsvector
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  v_words text := private.kb_words(p_text);
  v_stems tsvector := to_tsvector('english'::regconfig, v_words);
begin
  return setweight(
    v_stems
    || ts_delete(to_tsvector('simple'::regconfig, v_words), tsvector_to_array(v_stems) || private.kb_stop_words())
    || coalesce((select string_agg(lower(m[1]) || ':1', ' ')
                 from regexp_matches(p_text,
                                     '([[:alpha:]_$][[:alnum:]_$]*(?:[[:lower:][:digit:]][[:upper:]]|[[:alnum:]]_[[:alnum:]])[[:alnum:]_$]*)', 'g') m
                 where char_length(m[1]) <= 200)::tsvector, ''::tsvector),
    p_weight);
end;
$$;
-- A chunk's words: its symbols weighted A, its content D. (array_to_string is only stable in general; for
-- text[] it is immutable, which a generated column needs.)
create or replace function private.kb_chunk_lexemes(p_content text, p_symbols text[])
returns tsvector
language sql
immutable
parallel safe
set search_path = ''
as $$
  select private.kb_lexemes(array_to_string(p_symbols, ' '), 'A') || private.kb_lexemes(p_content, 'D');
$$;

revoke all on function private.kb_words(text) from public;
revoke all on function private.kb_stop_words() from public;
revoke all on function private.kb_lexemes(text, "char") from public;
revoke all on function private.kb_chunk_lexemes(text, text[]) from public;
grant execute on function private.kb_words(text) to authenticated, service_role;
grant execute on function private.kb_stop_words() to authenticated, service_role;
grant execute on function private.kb_lexemes(text, "char") to authenticated, service_role;
grant execute on function private.kb_chunk_lexemes(text, text[]) to authenticated, service_role;

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
  -- The path's words for ranking: the file name's weighted A, the whole path's D.
  path_fts tsvector generated always as (
    private.kb_lexemes(regexp_replace(uri, '^.*/', ''), 'A') || private.kb_lexemes(uri, 'D')
  ) stored,
  chunk_count integer not null default 0 check (chunk_count >= 0),
  -- Who last indexed it: auth.uid(), set by the server (trigger below) whatever a client writes.
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

-- Indexing is attributed to whoever wrote the row, never to someone a client names: on insert, and on an
-- update that touches indexed_by, it becomes auth.uid(). Clients only (a foreign key's set null still applies).
create or replace function private.kb_sources_set_indexed_by()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('authenticated', 'anon')
     and (tg_op = 'INSERT' or new.indexed_by is distinct from old.indexed_by) then
    new.indexed_by := auth.uid();
  end if;
  return new;
end;
$$;
revoke all on function private.kb_sources_set_indexed_by() from public;

create trigger kb_sources_set_indexed_by before insert or update on public.kb_sources
  for each row execute function private.kb_sources_set_indexed_by();

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
  -- Qualified names of the definitions the chunk holds or sits in (`Subscriber`, `Subscriber.next`), or the
  -- markdown headings above it; empty for plain text. `scope` says where the chunk is, for people.
  symbols text[] not null default '{}' check (cardinality(symbols) <= 64),
  scope text check (scope is null or char_length(scope) <= 1000),
  -- Identifier-aware words of the symbols (weight A) and the content (weight D); see private.kb_lexemes.
  fts tsvector generated always as (private.kb_chunk_lexemes(content, symbols)) stored,
  -- Dimension varies by model, so the column is untyped; the HNSW indexes are on kb_ann (below).
  embedding extensions.vector,
  created_at timestamptz not null default now(),
  constraint kb_chunks_line_range check (end_line >= start_line),
  constraint kb_chunks_embedding_matches_dims check (embedding is null or extensions.vector_dims(embedding) = embedding_dims),
  foreign key (source_id, project_id, embedding_model)
    references public.kb_sources (id, project_id, embedding_model) on delete cascade,
  foreign key (project_id) references public.projects (id) on delete cascade,
  unique (source_id, ordinal)
)
-- A narrow heap: content and fts (about 1.3 KB of a row) are stored out of line (TOAST), so a heap page holds
-- ~34 rows rather than ~6. Search's first stage reads, for every chunk holding a query word, only narrow
-- columns (source, token count, symbols) through the GIN index's row pointers, so it touches a sixth of the
-- pages (bench's synthetic index of 20k chunks: hybrid search p50 0.5x, p95 0.38x; chunks written per second
-- 0.86x). Stage 2 and the results read fts and content of a few hundred rows only.
with (toast_tuple_target = 128);
comment on table public.kb_chunks is 'A searchable piece of a source: text, line range, full-text vector and embedding.';
create index kb_chunks_fts_idx on public.kb_chunks using gin (fts);
create index kb_chunks_reuse_idx on public.kb_chunks (project_id, embedding_model, content_hash);

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
-- Ids, timestamps and the indexer's identity (indexed_by, from auth.uid()) are the server's.
grant select, delete on table public.kb_sources to authenticated;
grant insert (project_id, kind, uri, title, language, content_hash, size_bytes, mtime_ms, embedding_model,
              embedding_dims, chunk_count, indexed_by, indexed_at),
      update (title, language, content_hash, size_bytes, mtime_ms, embedding_dims, chunk_count, indexed_by, indexed_at)
  on table public.kb_sources to authenticated;
grant select, delete on table public.kb_chunks to authenticated;
grant insert (source_id, project_id, embedding_model, embedding_dims, ordinal, start_line, end_line, content,
              content_hash, token_count, symbols, scope, embedding),
      update (ordinal, start_line, end_line, content, content_hash, token_count, symbols, scope, embedding)
  on table public.kb_chunks to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- The vector queue and the published vectors
-- -----------------------------------------------------------------------------------------------------
create table public.kb_ann (
  chunk_id uuid primary key references public.kb_chunks (id) on delete cascade,
  -- Copied from the chunk so search filters without visiting kb_chunks.
  source_id uuid not null,
  project_id uuid not null references public.projects (id) on delete cascade,
  embedding_model text not null,
  embedding_dims integer not null,
  embedding extensions.vector not null
);
comment on table public.kb_ann is 'Chunk vectors published into the approximate-nearest-neighbour (HNSW) indexes.';
-- HNSW per common dimension (cosine), used when the query casts to the same dimension and model. m = 12 and
-- ef_construction = 40, below pgvector's defaults (16, 64), make each publish cheaper; kb_search makes up
-- for it with a large ef_search, and bench/kb.bench.ts reports the recall@10 this gives against an exact scan.
create index kb_ann_embedding_384_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(384)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 384;
create index kb_ann_embedding_768_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(768)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 768;
create index kb_ann_embedding_1024_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(1024)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 1024;
create index kb_ann_embedding_1536_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(1536)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 1536;

create table public.kb_ann_pending (
  chunk_id uuid primary key references public.kb_chunks (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  embedding_model text not null
);
comment on table public.kb_ann_pending is 'Chunks written but not yet in kb_ann; search scans them exactly.';
create index kb_ann_pending_project_idx on public.kb_ann_pending (project_id, embedding_model);

alter table public.kb_ann enable row level security;
alter table public.kb_ann_pending enable row level security;

create policy "Users can read published vectors of projects they can read" on public.kb_ann
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
-- Only the vector of a chunk of that same project, read under the caller's RLS: nobody can claim another
-- tenant's chunk (its primary key here) and so keep it out of that tenant's index, or publish a vector
-- other than the chunk's own.
create policy "Users can publish vectors of projects they can write to" on public.kb_ann
  for insert to authenticated
  with check (
    project_id in (select private.writable_project_ids())
    and exists (
      select 1 from public.kb_chunks c
      where c.id = kb_ann.chunk_id and c.source_id = kb_ann.source_id and c.project_id = kb_ann.project_id
        and c.embedding_model = kb_ann.embedding_model and c.embedding_dims = kb_ann.embedding_dims
        and c.embedding operator(extensions.=) kb_ann.embedding
    )
  );
create policy "Users can remove vectors of projects they can write to" on public.kb_ann
  for delete to authenticated
  using (project_id in (select private.writable_project_ids()));

create policy "Users can read the pending vectors of projects they can read" on public.kb_ann_pending
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
create policy "Users can dequeue pending vectors of projects they can write to" on public.kb_ann_pending
  for delete to authenticated
  using (project_id in (select private.writable_project_ids()));

revoke all on table public.kb_ann from anon, authenticated;
revoke all on table public.kb_ann_pending from anon, authenticated;
grant select, insert, delete on table public.kb_ann to authenticated;
grant select, delete on table public.kb_ann_pending to authenticated;

-- Queues every new chunk (one statement-level insert per upsert). Security definer: the chunk insert itself
-- already passed RLS; the queue row is bookkeeping of that insert.
create or replace function private.kb_queue_ann()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.kb_ann_pending (chunk_id, project_id, embedding_model)
  select n.id, n.project_id, n.embedding_model from new_rows n where n.embedding is not null;
  return null;
end;
$$;
revoke all on function private.kb_queue_ann() from public;

create trigger kb_chunks_queue_ann after insert on public.kb_chunks
  referencing new table as new_rows
  for each statement execute function private.kb_queue_ann();

-- -----------------------------------------------------------------------------------------------------
-- The active model: which generation search reads
-- -----------------------------------------------------------------------------------------------------
create table public.kb_active_models (
  project_id uuid primary key references public.projects (id) on delete cascade,
  embedding_model text not null check (char_length(embedding_model) between 1 and 200),
  updated_at timestamptz not null default now()
);
comment on table public.kb_active_models is 'The embedding model whose generation search reads, per project.';

create trigger kb_active_models_set_updated_at before update on public.kb_active_models
  for each row execute function private.set_updated_at();

alter table public.kb_active_models enable row level security;

create policy "Users can read the active model of projects they can read" on public.kb_active_models
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
create policy "Users can set the active model of projects they can write to" on public.kb_active_models
  for insert to authenticated
  with check (project_id in (select private.writable_project_ids()));
create policy "Users can change the active model of projects they can write to" on public.kb_active_models
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (project_id in (select private.writable_project_ids()));

revoke all on table public.kb_active_models from anon, authenticated;
grant select on table public.kb_active_models to authenticated;
grant insert (project_id, embedding_model), update (embedding_model) on table public.kb_active_models to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- SQL API: writing the index
-- -----------------------------------------------------------------------------------------------------
-- A batch of sources with their chunks in a few set-based statements (sources; for sources indexed before,
-- changed chunks out and moved ones' lines; new chunks in) rather than a call per source: workspace files average a few chunks each, so per-statement cost would
-- dominate a cold index. One transaction, so every source of the batch lands whole or not at all.
create or replace function public.kb_upsert_sources(p_project_id uuid, p_sources jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_old uuid[];
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

  -- A project's first generation becomes its active model; later ones wait for kb_activate_model.
  insert into public.kb_active_models (project_id, embedding_model)
  select p_project_id, p_sources -> 0 -> 'source' ->> 'embedding_model'
  where jsonb_array_length(p_sources) > 0
  on conflict (project_id) do nothing;

  -- A source indexed before keeps each chunk that is the same as before (ordinal, text, symbols, scope, and
  -- whether it has a vector): its row, id, words and published vector stay, and only its lines are updated
  -- when an edit above it moved them, which recomputes nothing (the generated fts reads neither column) and
  -- counts nothing (kb_count_terms). The other old chunks go and the other new ones are inserted.
  select coalesce(array_agg(i), '{}') into v_old
  from unnest(v_ids) i where exists (select 1 from public.kb_chunks c where c.source_id = i);
  if cardinality(v_old) > 0 then
    delete from public.kb_chunks c
    where c.source_id = any (v_old)
      and not exists (
        select 1
        from jsonb_array_elements(p_sources) e
        join public.kb_sources s
          on s.project_id = p_project_id and s.embedding_model = e -> 'source' ->> 'embedding_model'
         and s.kind = e -> 'source' ->> 'kind' and s.uri = e -> 'source' ->> 'uri'
        cross join lateral jsonb_to_recordset(e -> 'chunks') as x(ordinal integer, content_hash text, token_count integer,
                                                                   symbols text[], scope text, embedding text)
        where s.id = c.source_id and x.ordinal = c.ordinal and x.content_hash = c.content_hash
          and coalesce(x.token_count, 0) = c.token_count and coalesce(x.symbols, '{}') = c.symbols
          and x.scope is not distinct from c.scope and (x.embedding is null) = (c.embedding is null));
    update public.kb_chunks c set start_line = x.start_line, end_line = x.end_line
    from jsonb_array_elements(p_sources) e
    join public.kb_sources s
      on s.project_id = p_project_id and s.embedding_model = e -> 'source' ->> 'embedding_model'
     and s.kind = e -> 'source' ->> 'kind' and s.uri = e -> 'source' ->> 'uri'
    cross join lateral jsonb_to_recordset(e -> 'chunks') as x(ordinal integer, start_line integer, end_line integer,
                                                               content_hash text)
    where s.id = any (v_old) and c.source_id = s.id and c.ordinal = x.ordinal and c.content_hash = x.content_hash
      and (c.start_line, c.end_line) is distinct from (x.start_line, x.end_line);
  end if;

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
                                                             symbols text[], scope text, embedding text)
  -- the chunks kept above
  where not (s.id = any (v_old))
     or not exists (select 1 from public.kb_chunks c where c.source_id = s.id and c.ordinal = x.ordinal);
  return coalesce(array_length(v_ids, 1), 0);
end;
$$;

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

-- Makes p_embedding_model the generation search reads (the indexer, once that model covers every file);
-- returns it. A search still asking for the previous model is answered CR006 (kb_search).
create or replace function public.kb_activate_model(p_project_id uuid, p_embedding_model text)
returns text
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_uid();
  if not private.can_write_project(p_project_id) then
    raise exception using errcode = '42501', message = 'you cannot write to the knowledge base of that project';
  end if;
  if p_embedding_model is null or char_length(p_embedding_model) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'embedding model must be 1 to 200 characters';
  end if;
  insert into public.kb_active_models as m (project_id, embedding_model)
  values (p_project_id, p_embedding_model)
  on conflict (project_id) do update set embedding_model = excluded.embedding_model
    where m.embedding_model is distinct from excluded.embedding_model;
  return p_embedding_model;
end;
$$;

-- Moves up to p_limit queued vectors of a project into the HNSW indexes; returns how many moved (0 when
-- the queue is empty). Small batches keep each call short, so searches interleave with a long backlog.
create or replace function public.kb_publish_vectors(p_project_id uuid, p_limit integer default 200)
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
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 10000';
  end if;
  with picked as (
    select p.chunk_id from public.kb_ann_pending p where p.project_id = p_project_id limit p_limit
  ), moved as (
    insert into public.kb_ann (chunk_id, source_id, project_id, embedding_model, embedding_dims, embedding)
    select c.id, c.source_id, c.project_id, c.embedding_model, c.embedding_dims, c.embedding
    from public.kb_chunks c join picked on picked.chunk_id = c.id
    where c.embedding is not null
    on conflict (chunk_id) do nothing
  )
  delete from public.kb_ann_pending p using picked where p.chunk_id = picked.chunk_id;
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

-- The model search reads for a project: the recorded active model while it has sources, else the model with
-- most chunks (a generation whose active row was lost, or whose active generation was emptied), else the
-- recorded one; null when nothing was ever indexed. kb_search compares its p_embedding_model with this.
create or replace function public.kb_active_model(p_project_id uuid)
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(
    (select m.embedding_model from public.kb_active_models m
     where m.project_id = p_project_id
       and exists (select 1 from public.kb_sources s where s.project_id = p_project_id and s.embedding_model = m.embedding_model)),
    (select s.embedding_model from public.kb_sources s where s.project_id = p_project_id
     group by s.embedding_model order by sum(s.chunk_count) desc, s.embedding_model limit 1),
    (select m.embedding_model from public.kb_active_models m where m.project_id = p_project_id));
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

-- How many chunks of a project wait for kb_publish_vectors.
create or replace function public.kb_pending_vectors(p_project_id uuid)
returns bigint
language sql
stable
set search_path = ''
as $$
  select count(*) from public.kb_ann_pending p where p.project_id = p_project_id;
$$;

revoke all on function public.kb_delete_sources(uuid, text, text[], text) from public, anon;
revoke all on function public.kb_delete_model(uuid, text) from public, anon;
revoke all on function public.kb_list_sources(uuid, text, text) from public, anon;
revoke all on function public.kb_embeddings_by_hash(uuid, text, text[]) from public, anon;
revoke all on function public.kb_status(uuid) from public, anon;
revoke all on function public.kb_upsert_sources(uuid, jsonb) from public, anon;
revoke all on function public.kb_touch_sources(uuid, text, jsonb) from public, anon;
revoke all on function public.kb_source_chunks(uuid, text, text[]) from public, anon;
revoke all on function public.kb_publish_vectors(uuid, integer) from public, anon;
revoke all on function public.kb_pending_vectors(uuid) from public, anon;
revoke all on function public.kb_activate_model(uuid, text) from public, anon;
revoke all on function public.kb_active_model(uuid) from public, anon;
grant execute on function public.kb_delete_sources(uuid, text, text[], text) to authenticated;
grant execute on function public.kb_delete_model(uuid, text) to authenticated;
grant execute on function public.kb_list_sources(uuid, text, text) to authenticated;
grant execute on function public.kb_embeddings_by_hash(uuid, text, text[]) to authenticated;
grant execute on function public.kb_status(uuid) to authenticated;
grant execute on function public.kb_upsert_sources(uuid, jsonb) to authenticated;
grant execute on function public.kb_touch_sources(uuid, text, jsonb) to authenticated;
grant execute on function public.kb_source_chunks(uuid, text, text[]) to authenticated;
grant execute on function public.kb_publish_vectors(uuid, integer) to authenticated;
grant execute on function public.kb_pending_vectors(uuid) to authenticated;
grant execute on function public.kb_activate_model(uuid, text) to authenticated;
grant execute on function public.kb_active_model(uuid) to authenticated;
