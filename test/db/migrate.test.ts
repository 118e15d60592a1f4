// The migration runner and the bootstrap, on throwaway migration folders and a fresh PGlite each.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createPGlite, pgliteDb } from '../../daemon/src/store/embedded.js';
import {
  applyMigrations,
  bootstrapIfNeeded,
  expectedVersion,
  findMigrationsDir,
  listMigrations,
  readSchemaStatus,
  splitStatements,
} from '../../daemon/src/store/migrate.js';
import { runAsUser, type SqlDb } from '../../daemon/src/store/sql.js';
import { StoreError } from '../../daemon/src/store/types.js';
import { tempHome } from '../support/db.js';

describe('migration runner', function () {
  this.timeout(120_000);
  let db: PGlite;
  let sql: SqlDb;
  let home: Awaited<ReturnType<typeof tempHome>>;
  let dir: string;

  before(async () => {
    db = await createPGlite();
    sql = pgliteDb(db);
    await bootstrapIfNeeded(sql);
  });
  after(async () => {
    await db.close();
  });
  beforeEach(async () => {
    home = await tempHome();
    dir = join(home.home, 'migrations');
    await mkdir(dir);
    // Each test starts from the bootstrapped database without history or test tables.
    await db.exec('drop schema if exists supabase_migrations cascade; drop table if exists public.a, public.b, public.c cascade;');
  });
  afterEach(() => home.cleanup());

  const write = (file: string, text: string) => writeFile(join(dir, file), text);
  const history = async () =>
    (await db.query<{ version: string; name: string; statements: string[] }>(
      'select version, name, statements from supabase_migrations.schema_migrations order by version',
    )).rows;

  it('applies files in version order, records them as the Supabase CLI does, and applies nothing twice', async () => {
    await write('20260102000000_second.sql', 'alter table public.a add column note text;');
    await write('20260101000000_first.sql', "create table public.a (id int primary key); -- the first\ninsert into public.a values (1);");
    await write('README.md', 'not a migration');
    assert.deepEqual(await applyMigrations(sql, dir), ['20260101000000', '20260102000000']);
    assert.deepEqual(await history(), [
      { version: '20260101000000', name: 'first', statements: ['create table public.a (id int primary key)', '-- the first\ninsert into public.a values (1)'] },
      { version: '20260102000000', name: 'second', statements: ['alter table public.a add column note text'] },
    ]);
    assert.deepEqual(await applyMigrations(sql, dir), []);
    assert.equal((await db.query('select * from public.a')).rows.length, 1);
  });

  it('reports pending versions, then applies a newly shipped file', async () => {
    await write('20260101000000_first.sql', 'create table public.a (id int);');
    await applyMigrations(sql, dir);
    await write('20260103000000_third.sql', 'create table public.c (id int);');
    assert.deepEqual(await readSchemaStatus(sql, dir), { applied: '20260101000000', expected: '20260103000000', pending: ['20260103000000'] });
    assert.equal(expectedVersion(dir), '20260103000000');
    await applyMigrations(sql, dir);
    assert.deepEqual(await readSchemaStatus(sql, dir), { applied: '20260103000000', expected: '20260103000000', pending: [] });
  });

  it('rolls a failing migration back entirely and names the file', async () => {
    await write('20260101000000_first.sql', 'create table public.a (id int);');
    await write('20260102000000_broken.sql', 'create table public.b (id int);\ninsert into public.nope values (1);');
    await assert.rejects(applyMigrations(sql, dir), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /20260102000000_broken\.sql failed: relation "public\.nope" does not exist/);
      return true;
    });
    assert.equal((await db.query<{ t: string | null }>(`select to_regclass('public.b') as t`)).rows[0]!.t, null);
    assert.deepEqual((await history()).map((h) => h.version), ['20260101000000']);
  });

  it('reports a database that was never migrated as having nothing applied', async () => {
    await write('20260101000000_first.sql', 'create table public.a (id int);');
    assert.deepEqual(await readSchemaStatus(sql, dir), { applied: null, expected: '20260101000000', pending: ['20260101000000'] });
  });

  it('finds the shipped supabase/migrations from the store module', () => {
    const shipped = findMigrationsDir();
    assert.match(shipped, /supabase[\\/]migrations$/);
    assert.ok(listMigrations(shipped).length > 0);
  });
});

describe('splitStatements', () => {
  const cases: Array<[string, string, string[]]> = [
    ['plain', 'select 1; select 2;', ['select 1', 'select 2']],
    ['semicolons in strings and identifiers', `select 'a;b', "c;d"; select 'it''s; fine'`, [`select 'a;b', "c;d"`, `select 'it''s; fine'`]],
    ['escape strings', String.raw`select E'\';x'; select 1`, [String.raw`select E'\';x'`, 'select 1']],
    [
      'dollar-quoted bodies',
      'create function f() returns int language sql as $$ select 1; $$; create function g() returns int language plpgsql as $body$ begin return 1; end; $body$;',
      ['create function f() returns int language sql as $$ select 1; $$', 'create function g() returns int language plpgsql as $body$ begin return 1; end; $body$'],
    ],
    ['comments', '-- a; comment\nselect 1; /* b; /* nested; */ */ select 2; -- trailing', ['-- a; comment\nselect 1', '/* b; /* nested; */ */ select 2']],
    ['positional parameters are not dollar quotes', 'select $1; select 2', ['select $1', 'select 2']],
  ];
  for (const [name, sql, expected] of cases) {
    it(name, () => assert.deepEqual(splitStatements(sql), expected));
  }
});

describe('bootstrap (what Supabase provides before migrations)', function () {
  this.timeout(60_000);
  let db: PGlite;
  let sql: SqlDb;
  before(async () => {
    db = await createPGlite();
    sql = pgliteDb(db);
  });
  after(() => db.close());

  it('runs once on plain Postgres and is skipped when schema auth exists', async () => {
    assert.equal(await bootstrapIfNeeded(sql), true);
    assert.equal(await bootstrapIfNeeded(sql), false);
  });

  it('creates the API roles, with service_role bypassing RLS and authenticator able to become each', async () => {
    const { rows } = await db.query<{ rolname: string; rolbypassrls: boolean; rolcanlogin: boolean }>(
      `select rolname, rolbypassrls, rolcanlogin from pg_roles
        where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by rolname`,
    );
    assert.deepEqual(rows, [
      { rolname: 'anon', rolbypassrls: false, rolcanlogin: false },
      { rolname: 'authenticated', rolbypassrls: false, rolcanlogin: false },
      { rolname: 'authenticator', rolbypassrls: false, rolcanlogin: true },
      { rolname: 'service_role', rolbypassrls: true, rolcanlogin: false },
    ]);
    const member = await db.query<{ ok: boolean }>(
      `select bool_and(pg_has_role('authenticator', r, 'member')) as ok from unnest(array['anon', 'authenticated', 'service_role']) r`,
    );
    assert.equal(member.rows[0]!.ok, true);
  });

  it('auth.uid(), auth.role() and auth.jwt() read the claims PostgREST sets, and the legacy claim.sub', async () => {
    const sub = '5b7d3f5e-2c44-4a53-9a4f-0d3c9d1f0a11';
    const viaClaims = await runAsUser(sql, { role: 'authenticated', sub, aal: 'aal2' }, async (tx) =>
      (await tx.query<{ uid: string; role: string; aal: string; me: string }>(
        `select auth.uid() as uid, auth.role() as role, auth.jwt() ->> 'aal' as aal, current_user as me`,
      )).rows[0],
    );
    assert.deepEqual(viaClaims, { uid: sub, role: 'authenticated', aal: 'aal2', me: 'authenticated' });
    const legacy = await sql.transaction(async (tx) => {
      await tx.query(`select set_config('request.jwt.claim.sub', $1, true)`, [sub]);
      return (await tx.query<{ uid: string }>('select auth.uid() as uid')).rows[0];
    });
    assert.deepEqual(legacy, { uid: sub });
    const anon = await runAsUser(sql, { role: 'anon' }, async (tx) =>
      (await tx.query<{ uid: string | null; role: string }>('select auth.uid() as uid, auth.role() as role')).rows[0],
    );
    assert.deepEqual(anon, { uid: null, role: 'anon' });
  });

  it('puts vector in schema extensions and creates the supabase_realtime publication', async () => {
    const ext = await db.query<{ schema: string }>(
      `select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector'`,
    );
    assert.deepEqual(ext.rows, [{ schema: 'extensions' }]);
    const d = await db.query<{ d: number }>(`select '[3,4]'::extensions.vector operator(extensions.<->) '[0,0]'::extensions.vector as d`);
    assert.equal(d.rows[0]!.d, 5);
    const pub = await db.query(`select 1 from pg_publication where pubname = 'supabase_realtime'`);
    assert.equal(pub.rows.length, 1);
  });

  it('lets new public tables be used by authenticated (grants as on Supabase) while auth.users stays hidden', async () => {
    await db.exec('create table public.t (id int); insert into public.t values (1);');
    const rows = await runAsUser(sql, { role: 'authenticated', sub: '5b7d3f5e-2c44-4a53-9a4f-0d3c9d1f0a11' }, async (tx) => (await tx.query('select id from public.t')).rows);
    assert.deepEqual(rows, [{ id: 1 }]);
    await assert.rejects(
      runAsUser(sql, { role: 'authenticated' }, (tx) => tx.query('select * from auth.users')),
      /permission denied for table users/,
    );
    await db.exec('drop table public.t');
  });
});
