// The Postgres-URL store on a real multi-connection PostgreSQL server (the one installed on this machine,
// without pgvector), for what pglite-socket cannot do: LISTEN/NOTIFY on a dedicated connection, a pool of
// several connections, and two daemons starting on one fresh database at once. Uses a small migration set
// of its own (the shipped one needs pgvector). Skipped when no PostgreSQL server binaries are installed.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../daemon/src/store/postgres.js';
import type { JwtClaims } from '../../daemon/src/store/sql.js';
import type { ChangeEvent } from '../../daemon/src/store/types.js';
import { expectStoreError, rpcUntyped } from '../support/db.js';
import { startNativePostgres, type NativePostgres } from '../support/native-pg.js';

const MIGRATION = `
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users (id),
  body text not null check (char_length(body) <= 100)
);
alter table public.notes enable row level security;
create policy "Owners use their notes" on public.notes for all to authenticated
  using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));

create function public.add_note(p_body text) returns public.notes language sql as
  $$ insert into public.notes (body) values (p_body) returning * $$;
create function public.delete_note(p_id uuid) returns void language sql as
  $$ delete from public.notes where id = p_id $$;
create function public.count_notes() returns integer language sql stable as
  $$ select count(*)::int from public.notes $$;

create function public.notify_note() returns trigger language plpgsql security definer set search_path = '' as $$
declare v record := case when tg_op = 'DELETE' then old else new end;
begin
  perform pg_notify('cairn_changes', jsonb_build_object('table', 'notes', 'op', tg_op,
    'record', jsonb_build_object('id', v.id, 'owner_id', v.owner_id))::text);
  return null;
end $$;
create trigger notes_notify after insert or update or delete on public.notes
  for each row execute function public.notify_note();
`;

describe('PostgresStore on a real PostgreSQL server', function () {
  this.timeout(180_000);
  let server: NativePostgres | null = null;
  let base: { home: string };
  let url: string;
  let migrations: string;
  const stores: PostgresStore[] = [];

  before(async function () {
    const started = await startNativePostgres();
    if ('skip' in started) this.skip();
    server = started;
    base = started;
    url = started.url;
    migrations = join(base.home, 'migrations');
    mkdirSync(migrations);
    writeFileSync(join(migrations, '20260101000000_notes.sql'), MIGRATION);
  });

  after(async () => {
    for (const s of stores.splice(0)) await s.close();
    await server?.stop();
  });

  it('two daemons starting at once bootstrap and migrate the database exactly once', async () => {
    const [a, b] = await Promise.all([
      PostgresStore.open(url, join(base.home, 'home-a'), { migrationsDir: migrations }),
      PostgresStore.open(url, join(base.home, 'home-b'), { migrationsDir: migrations }),
    ]);
    stores.push(a, b);
    assert.deepEqual((await a.schemaStatus()).pending, []);
    assert.equal(a.user().id, b.user().id, 'one database has one local user');
    const c = new pg.Client(url);
    await c.connect();
    try {
      const { rows } = await c.query('select count(*)::int as n from supabase_migrations.schema_migrations');
      assert.equal(rows[0].n, 1);
    } finally {
      await c.end();
    }
  });

  it('runs concurrent calls on a pool, each as the acting user under RLS', async () => {
    const store = stores[0]!;
    await Promise.all(Array.from({ length: 20 }, (_, i) => rpcUntyped<{ id: string }>(store, 'add_note', { p_body: `note ${i}` })));
    assert.equal(await rpcUntyped(store, 'count_notes'), 20);
    await expectStoreError(rpcUntyped<{ id: string }>(store, 'add_note', { p_body: 'x'.repeat(101) }), 'invalid_input', /notes_body_check/);
    assert.equal(await rpcUntyped(store, 'count_notes'), 20);
  });

  it("delivers its user's changes over LISTEN, and not another user's", async () => {
    const store = stores[0]!;
    const events: ChangeEvent[] = [];
    const unsubscribe = await store.onChange((e) => events.push(e));
    const other = await store.asOwner(async (tx) =>
      (await tx.query<{ id: string }>(`insert into auth.users (id, aud, role, email) values (gen_random_uuid(), 'authenticated', 'authenticated', 'other@example.test') returning id::text as id`)).rows[0]!.id,
    );
    // add_note is this test's own function, not part of the SQL API's generated types.
    const addNoteAs = store.rpcAs as (claims: JwtClaims, fn: string, args: object) => Promise<{ id: string }>;
    const theirs = await addNoteAs.call(store, { role: 'authenticated', sub: other }, 'add_note', { p_body: 'theirs' });
    const mine = await rpcUntyped<{ id: string }>(store, 'add_note', { p_body: 'mine' });
    const until = async (cond: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    // Visibility is checked when the event arrives, so wait for the insert before deleting the row.
    await until(() => events.length > 0);
    await rpcUntyped(store, 'delete_note', { p_id: mine.id });
    await until(() => events.some((e) => e.op === 'DELETE'));
    assert.deepEqual(
      events.map((e) => `${e.op} ${String(e.record.id)}`),
      [`INSERT ${mine.id}`, `DELETE ${mine.id}`],
    );
    assert.ok(!events.some((e) => e.record.id === theirs.id));
    await unsubscribe();
  });
});
