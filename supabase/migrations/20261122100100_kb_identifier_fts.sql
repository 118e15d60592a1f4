-- =====================================================================================================
-- Knowledge base: full-text search that sees inside identifiers. `invoiceTotalCents` is one word to the
-- english parser, so a search for "invoice total" never matched it; the tsvector is now built from the
-- text with camelCase boundaries split (snake_case is already split by the parser). The daemon splits the
-- query the same way before calling kb_search.
-- =====================================================================================================

alter table public.kb_chunks drop column fts;
alter table public.kb_chunks add column fts tsvector
  generated always as (
    to_tsvector('english'::regconfig,
                regexp_replace(content, '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g'))
  ) stored;
comment on column public.kb_chunks.fts is 'Full-text vector of content with camelCase identifiers split into words.';
create index kb_chunks_fts_idx on public.kb_chunks using gin (fts);
