// Two owners of a team demoting each other at the same moment, on two real connections to a native
// PostgreSQL server (PGlite has one connection, so it cannot race): the second must wait for the first and
// then be refused, so the team keeps an owner. Runs the teams migration and what it builds on (without the
// pgvector extension, which this server lacks). Skipped only where the PostgreSQL binaries are absent.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../daemon/src/store/postgres.js';
import { findMigrationsDir } from '../../daemon/src/store/migrate.js';
import { startNativePostgres, type NativePostgres } from '../support/native-pg.js';

const ANA = '11111111-1111-4111-8111-111111111111';
const BEN = '22222222-2222-4222-8222-222222222222';
const NEEDED = ['20261122000100_foundation.sql', '20261122000200_profiles.sql', '20261122000300_teams.sql'];

/** One connection acting as a user with a second factor, as PostgREST would (claims and role per transaction). */
async function actingAs(url: string, userId: string): Promise<pg.Client> {
  const c = new pg.Client(url);
  await c.connect();
  await c.query('begin');
  await c.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: userId, role: 'authenticated', aal: 'aal2' })]);
  await c.query('set local role authenticated');
  return c;
}

describe('the last owner under concurrency (native PostgreSQL, two connections)', function () {
  this.timeout(120_000);
  let server: NativePostgres | null = null;
  let store: PostgresStore | null = null;
  let teamId = '';

  before(async function () {
    const started = await startNativePostgres();
    if ('skip' in started) {
      console.log(`      skipped: ${started.skip}`);
      this.skip();
    }
    server = started;
    const dir = join(started.home, 'migrations');
    mkdirSync(dir);
    for (const f of NEEDED) {
      const sql = readFileSync(join(findMigrationsDir(), f), 'utf8').replace(/^create extension if not exists vector .*$/m, '');
      writeFileSync(join(dir, f), sql);
    }
    store = await PostgresStore.open(started.url, join(started.home, 'cairn'), { migrationsDir: dir });
    const admin = new pg.Client(started.url);
    await admin.connect();
    try {
      for (const [id, email] of [[ANA, 'ana@example.test'], [BEN, 'ben@example.test']]) {
        await admin.query(`insert into auth.users (id, aud, role, email, email_confirmed_at) values ($1, 'authenticated', 'authenticated', $2, now())`, [id, email]);
      }
      const ana = await actingAs(started.url, ANA);
      teamId = (await ana.query<{ id: string }>(`select id from public.create_team('Two owners')`)).rows[0]!.id;
      await ana.query('commit');
      await ana.end();
      // Ben is the second owner (set up as the database owner: how he joined is not what this test is about).
      await admin.query(`insert into public.team_members (team_id, user_id, role) values ($1, $2, 'owner')`, [teamId, BEN]);
    } finally {
      await admin.end();
    }
  });

  after(async () => {
    await store?.close();
    await server?.stop();
  });

  it('refuses the second of two owners demoting each other at once, and the team keeps an owner', async () => {
    const ana = await actingAs(server!.url, ANA);
    const ben = await actingAs(server!.url, BEN);
    try {
      // Ana demotes Ben and has not committed yet; Ben, at the same moment, demotes Ana.
      await ana.query(`select public.set_member_role($1, $2, 'admin')`, [teamId, BEN]);
      let benSettled = false;
      const benTry = ben.query(`select public.set_member_role($1, $2, 'admin')`, [teamId, ANA]).then(
        () => ({ error: null as Error | null }),
        (error: Error) => ({ error }),
      );
      void benTry.then(() => (benSettled = true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(benSettled, false, "Ben's change waits for Ana's to commit or roll back");
      await ana.query('commit');
      const { error } = await benTry;
      assert.ok(error, 'the second demotion is refused');
      assert.match(error.message, /a team must keep at least one owner/);
      assert.equal((error as Error & { code?: string }).code, 'CR003');
      await ben.query('rollback');
    } finally {
      await ana.end();
      await ben.end();
    }
    const check = new pg.Client(server!.url);
    await check.connect();
    try {
      const { rows } = await check.query<{ user_id: string; role: string }>('select user_id::text, role from public.team_members where team_id = $1 order by role', [teamId]);
      assert.deepEqual(rows.map((r) => [r.user_id, r.role]), [[BEN, 'admin'], [ANA, 'owner']]);
    } finally {
      await check.end();
    }
  });

  it('refuses the second of two owners removing each other at once', async () => {
    const check = new pg.Client(server!.url);
    await check.connect();
    await check.query(`update public.team_members set role = 'owner' where team_id = $1`, [teamId]);
    const ana = await actingAs(server!.url, ANA);
    const ben = await actingAs(server!.url, BEN);
    try {
      await ana.query(`select public.remove_team_member($1, $2)`, [teamId, BEN]);
      const benTry = ben.query(`select public.remove_team_member($1, $2)`, [teamId, ANA]).then(() => null, (e: Error) => e);
      await new Promise((r) => setTimeout(r, 300));
      await ana.query('commit');
      const error = await benTry;
      assert.match(String(error?.message), /a team must keep at least one owner/, 'the second removal is refused');
      await ben.query('rollback');
      const { rows } = await check.query<{ user_id: string; role: string }>('select user_id::text, role from public.team_members where team_id = $1', [teamId]);
      assert.deepEqual(rows.map((r) => [r.user_id, r.role]), [[ANA, 'owner']]);
    } finally {
      await ana.end();
      await ben.end();
      await check.end();
    }
  });
});
