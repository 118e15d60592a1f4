-- Every table in public has Row Level Security enabled, and anon holds no privilege on any of them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(2);

select is_empty(
  $$ select relname from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relrowsecurity $$,
  'RLS is enabled on every table in public'
);
select is_empty(
  $$ select table_name, privilege_type from information_schema.role_table_grants where grantee = 'anon' and table_schema = 'public' $$,
  'anon has no privilege on any table in public'
);

select * from finish();
rollback;
