-- Knowledge base: hybrid search stays inside the caller's projects and one model generation.
begin;
create extension if not exists pgtap with schema extensions;
-- The migrations take EXECUTE on new functions away from PUBLIC (least privilege), pgTAP's included: give
-- it back to the API roles these tests act as (rolled back with the test).
grant execute on all functions in schema extensions to anon, authenticated;
select plan(4);

select tests.create_user('a@example.test', '30000000-0000-4000-8000-000000000001');
select tests.create_user('b@example.test', '30000000-0000-4000-8000-000000000002');

set local role authenticated;
select tests.act_as('30000000-0000-4000-8000-000000000001');
select set_config('test.project', (select id::text from public.ensure_project('file:///kb', 'kb')), true);
select public.kb_upsert_sources(
  current_setting('test.project')::uuid,
  jsonb_build_array(jsonb_build_object(
    'source', jsonb_build_object('kind', 'file', 'uri', 'src/login.ts', 'content_hash', repeat('a', 64), 'embedding_model', 'm1', 'embedding_dims', 4),
    'chunks', jsonb_build_array(jsonb_build_object('ordinal', 0, 'start_line', 1, 'end_line', 1, 'content', 'login with a password',
                                                   'content_hash', repeat('b', 64), 'embedding', '[1,0,0,0]')))));
select public.kb_upsert_sources(
  current_setting('test.project')::uuid,
  jsonb_build_array(jsonb_build_object(
    'source', jsonb_build_object('kind', 'file', 'uri', 'src/login.ts', 'content_hash', repeat('a', 64), 'embedding_model', 'm2', 'embedding_dims', 4),
    'chunks', jsonb_build_array(jsonb_build_object('ordinal', 0, 'start_line', 1, 'end_line', 1, 'content', 'login with a password',
                                                   'content_hash', repeat('b', 64), 'embedding', '[1,0,0,0]')))));

select results_eq(
  $$ select uri, fts_rank, vector_rank from public.kb_search(current_setting('test.project')::uuid, 'login', '[1,0,0,0]', 'm1') $$,
  $$ values ('src/login.ts'::text, 1, 1) $$,
  'one hit, ranked first by words and by vector'
);
select is(
  (select count(*)::int from public.kb_search(current_setting('test.project')::uuid, 'login', '[1,0,0,0]', 'm1') s
     join public.kb_sources src on src.id = s.source_id where src.embedding_model <> 'm1'),
  0,
  'no hit from another model generation'
);
select throws_ok(
  $$ select public.kb_upsert_sources(current_setting('test.project')::uuid, jsonb_build_array(jsonb_build_object(
       'source', jsonb_build_object('kind', 'file', 'uri', 'x', 'content_hash', repeat('c', 64), 'embedding_model', 'm1', 'embedding_dims', 4),
       'chunks', jsonb_build_array(jsonb_build_object('ordinal', 0, 'start_line', 1, 'end_line', 1, 'content', 'x', 'content_hash', repeat('d', 64), 'embedding', '[1,0,0]'))))) $$,
  '23514', null, 'a vector of the wrong dimension is refused'
);

select tests.act_as('30000000-0000-4000-8000-000000000002');
select is_empty(
  $$ select * from public.kb_search(current_setting('test.project')::uuid, 'login', '[1,0,0,0]', 'm1') $$,
  'another user finds nothing in that project'
);

reset role;
select * from finish();
rollback;
