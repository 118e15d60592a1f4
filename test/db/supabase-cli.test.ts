// The real Supabase CLI (npm package `supabase`) against PGlite served on 127.0.0.1 by pglite-socket, after
// the bootstrap: `db push --include-seed` applies every migration and supabase/seed.sql and records the
// migrations as our runner does, a second push has nothing to do, a database migrated by the daemon is up
// to date for the CLI, and `gen types` matches the checked-in supabase/types.ts. Run with
// CAIRN_UPDATE_TYPES=1 to rewrite supabase/types.ts after a schema change (the test then reports the
// rewrite as a failure so it is never silent).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPGlite, pgliteDb } from '../../daemon/src/store/embedded.js';
import { bootstrapIfNeeded, findMigrationsDir, listMigrations, readSchemaStatus, splitStatements } from '../../daemon/src/store/migrate.js';
import { migratedTemplate, tempHome } from '../support/db.js';

const root = resolve(import.meta.dirname, '..', '..');
// The Supabase CLI is not a dependency of the package (its npm package pulls a binary per platform, and only
// this platform's is on the registry here, so a lock file with it fails `npm ci`): .ci/install-supabase-cli
// puts it under .cache/, and a developer may have it in node_modules.
const cliEntry = [
  join(root, '.cache', 'supabase-cli', 'node_modules', 'supabase', 'dist', 'supabase.js'),
  join(root, 'node_modules', 'supabase', 'dist', 'supabase.js'),
].find((p) => existsSync(p));
const typesFile = join(root, 'supabase', 'types.ts');

interface Served {
  db: PGlite;
  url: string;
  stop(): Promise<void>;
}

async function serve(db: PGlite): Promise<Served> {
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  return {
    db,
    // sslmode=disable: pglite-socket has no TLS, and the CLI would otherwise print a warning on stdout.
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

function cli(workdir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [cliEntry!, ...args, '--workdir', workdir], {
      cwd: workdir,
      env: { ...process.env, PGSSLMODE: 'disable', SUPABASE_AUTH_GITHUB_CLIENT_ID: 'test', SUPABASE_AUTH_GITHUB_SECRET: 'test', DO_NOT_TRACK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe('Supabase CLI against PGlite over a socket', function () {
  this.timeout(300_000);
  let home: Awaited<ReturnType<typeof tempHome>>;
  let workdir: string;
  const served: Served[] = [];

  before(async function () {
    if (!cliEntry) {
      if (process.env.CI) throw new Error('the Supabase CLI is not installed; .ci/install-supabase-cli installs it');
      this.skip();
    }
    home = await tempHome();
    // A private workdir (the CLI writes supabase/.temp) holding the real config and migrations.
    workdir = join(home.home, 'project');
    cpSync(join(root, 'supabase', 'config.toml'), join(workdir, 'supabase', 'config.toml'));
    cpSync(join(root, 'supabase', 'seed.sql'), join(workdir, 'supabase', 'seed.sql'));
    symlinkSync(findMigrationsDir(), join(workdir, 'supabase', 'migrations'));
  });
  after(async () => {
    for (const s of served) await s.stop();
    await home?.cleanup();
  });

  it('db push applies every migration and the seed, records what our runner records, and a second push has nothing to do', async () => {
    // pgcrypto for the seed's passwords, as on Supabase.
    const db = await PGlite.create({ extensions: { vector, pgcrypto } });
    await bootstrapIfNeeded(pgliteDb(db));
    const s = await serve(db);
    served.push(s);
    const first = await cli(workdir, ['db', 'push', `--remote=${s.url}`, '--yes', '--include-seed']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const shipped = listMigrations(findMigrationsDir());
    const out = first.stdout + first.stderr;
    for (const m of shipped) assert.ok(out.includes(`Applying migration ${m.version}_${m.name}.sql`), `push did not apply ${m.version}`);

    const users = await db.query<{ email: string }>('select email from auth.users order by email');
    assert.deepEqual(users.rows.map((r) => r.email), ['ada@example.com', 'grace@example.com'], 'the seed ran');

    const second = await cli(workdir, ['db', 'push', `--remote=${s.url}`, '--yes', '--include-seed']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout + second.stderr, /Remote database is up to date/);

    // Our runner reads the CLI's history as fully applied, statement for statement.
    assert.deepEqual((await readSchemaStatus(pgliteDb(db))).pending, []);
    const history = await db.query<{ version: string; name: string; statements: string[] }>(
      'select version, name, statements from supabase_migrations.schema_migrations order by version',
    );
    assert.deepEqual(
      history.rows.map((r) => [r.version, r.name]),
      shipped.map((m) => [m.version, m.name]),
    );
    for (const m of shipped) {
      const row = history.rows.find((r) => r.version === m.version)!;
      assert.deepEqual(splitStatements(readFileSync(m.path, 'utf8')), row.statements, `statements of ${m.version}`);
    }
  });

  it('a database migrated by the daemon is up to date for the CLI', async () => {
    const db = await createPGlite({ loadDataDir: await migratedTemplate() });
    const s = await serve(db);
    served.push(s);
    const push = await cli(workdir, ['db', 'push', `--remote=${s.url}`, '--yes']);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout + push.stderr, /Remote database is up to date/);
  });

  it('gen types matches the checked-in supabase/types.ts', async () => {
    const s = served[0]!;
    const gen = await cli(workdir, ['gen', 'types', 'typescript', `--remote=${s.url}`, '--schema', 'public']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /export type Database = \{/);
    const current = existsSync(typesFile) ? readFileSync(typesFile, 'utf8') : '';
    if (process.env.CAIRN_UPDATE_TYPES === '1' && current !== gen.stdout) {
      writeFileSync(typesFile, gen.stdout);
      assert.fail('supabase/types.ts was out of date and has been rewritten; rerun without CAIRN_UPDATE_TYPES');
    }
    if (current !== gen.stdout) {
      const want = gen.stdout.split('\n');
      const have = current.split('\n');
      const line = want.findIndex((l, i) => l !== have[i]);
      assert.fail(
        `supabase/types.ts does not match the schema (first difference at line ${line + 1}: ${JSON.stringify(want[line]?.slice(0, 160))}); ` +
          'run `CAIRN_UPDATE_TYPES=1 node --import tsx test/run-all.mjs test/db/supabase-cli.test.ts`',
      );
    }
  });
});
