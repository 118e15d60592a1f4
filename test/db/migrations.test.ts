// The migrations as files: each function, index, policy and trigger is defined in one migration until a
// release freezes it; a released migration never changes (supabase/released-migrations.json); the schema
// dump that proves a reorganisation changed nothing sees every change and no file layout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { addRelease, checkReleased, readManifest, releasedFiles, type ReleasedManifest } from '../../scripts/release-manifest.js';
import { findMigrationsDir, listMigrations } from '../../daemon/src/store/migrate.js';
import { freshDb } from '../support/db.js';
import { dumpMigrations, dumpSchema } from '../support/schema-dump.js';

const root = resolve(import.meta.dirname, '..', '..');
const manifestFile = join(root, 'supabase', 'released-migrations.json');

/** The SQL of a migration without comments and dollar-quoted bodies (what remains are its top-level statements). */
function statementsText(sql: string): string {
  return sql
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

/** The objects a migration creates or drops, as `kind name` keys (a function by name: overloads count as one). */
function objectsOf(sql: string): Set<string> {
  const text = statementsText(sql);
  const out = new Set<string>();
  const patterns: [string, RegExp][] = [
    ['function', /\b(?:create(?: or replace)?|drop) function(?: if exists)? ([a-z_][\w.]*)\s*\(/g],
    ['index', /\b(?:create(?: unique)? index(?: concurrently)?(?: if not exists)?|drop index(?: if exists)?) ([a-z_][\w.]*)/g],
    ['policy', /\b(?:create|drop) policy(?: if exists)? ("[^"]+") on ([a-z_][\w.]*)/g],
    ['trigger', /\b(?:create(?: or replace)?|drop) trigger(?: if exists)? ([a-z_]\w*)[^;]*? on ([a-z_][\w.]*)/g],
    ['table', /\b(?:create|drop) table(?: if (?:not )?exists)? ([a-z_][\w.]*)/g],
  ];
  for (const [kind, re] of patterns) {
    for (const m of text.matchAll(re)) {
      const name = m[1]!.replace(/^public\./, '');
      out.add(`${kind} ${m[2] ? `${m[2].replace(/^public\./, '')} ${name}` : name}`);
    }
  }
  return out;
}

/**
 * Objects defined (or dropped) in more than one migration where an earlier one is not released: before a
 * release a definition is edited in place; after it, a new migration may replace it.
 */
function redefinitions(files: { name: string; sql: string }[], manifest: ReleasedManifest): string[] {
  const released = releasedFiles(manifest);
  const seen = new Map<string, string[]>();
  for (const f of files) for (const key of objectsOf(f.sql)) seen.set(key, [...(seen.get(key) ?? []), f.name]);
  const out: string[] = [];
  for (const [key, where] of seen) {
    const unreleasedEarlier = where.slice(0, -1).filter((f) => !released.has(f));
    if (unreleasedEarlier.length) out.push(`${key}: ${where.join(', ')}`);
  }
  return out.sort();
}

function shipped(): { name: string; sql: string }[] {
  return listMigrations(findMigrationsDir()).map((m) => ({ name: `${m.version}_${m.name}.sql`, sql: readFileSync(m.path, 'utf8') }));
}

describe('migrations as files', function () {
  this.timeout(180_000);

  it('finds the functions, indexes, policies, triggers and tables a migration defines', () => {
    const keys = objectsOf(`
      -- create function commented.out()
      create or replace function private.a(p int) returns int language sql as $$ select 1; create function not.me() $$;
      create unique index kb_x_idx on public.kb (a);
      create policy "Users can read" on public.t for select using (true);
      create trigger t_audit after insert on public.t for each row execute function private.audit();
      create table public.t (id int);
      drop function if exists public.b(text);`);
    assert.deepEqual([...keys].sort(), [
      'function b', 'function private.a', 'index kb_x_idx', 'policy t "users can read"', 'table t', 'trigger t t_audit',
    ]);
  });

  it('defines each function, index, policy, trigger and table in one migration (until a release freezes it)', () => {
    assert.deepEqual(redefinitions(shipped(), readManifest(manifestFile)), []);
  });

  it('lets a migration after a release redefine what the release froze, and nothing else', () => {
    const files = [
      { name: '1_a.sql', sql: 'create or replace function public.f() returns int language sql as $$ select 1 $$;' },
      { name: '2_b.sql', sql: 'create or replace function public.f() returns int language sql as $$ select 2 $$;' },
    ];
    assert.deepEqual(redefinitions(files, { releases: {} }), ['function f: 1_a.sql, 2_b.sql']);
    assert.deepEqual(redefinitions(files, { releases: { '0.1.0': { '1_a.sql': 'x' } } }), []);
  });

  describe('released migrations are frozen', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'cairn-released-'));
      writeFileSync(join(dir, '20260101000000_first.sql'), 'create table public.a (id int);\n');
      writeFileSync(join(dir, '20260102000000_second.sql'), 'create table public.b (id int);\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('holds for the shipped migrations (no manifest until the first release: nothing is frozen)', () => {
      assert.deepEqual(checkReleased(findMigrationsDir(), readManifest(manifestFile)), []);
    });

    it('freezes nothing without a manifest or with an empty one', () => {
      assert.deepEqual(readManifest(join(dir, 'absent.json')), { releases: {} });
      assert.deepEqual(checkReleased(dir, { releases: {} }), []);
    });

    it('fails when a released migration changes or goes, and not for a new one after the release', () => {
      const manifest = addRelease(dir, { releases: {} }, '0.1.0');
      assert.deepEqual(Object.keys(manifest.releases['0.1.0']!), ['20260101000000_first.sql', '20260102000000_second.sql']);
      writeFileSync(join(dir, '20260103000000_third.sql'), 'alter table public.a add column note text;\n');
      assert.deepEqual(checkReleased(dir, manifest), []);
      // Line endings of a Windows checkout are not a change.
      writeFileSync(join(dir, '20260101000000_first.sql'), 'create table public.a (id int);\r\n');
      assert.deepEqual(checkReleased(dir, manifest), []);

      writeFileSync(join(dir, '20260101000000_first.sql'), 'create table public.a (id bigint);\n');
      unlinkSync(join(dir, '20260102000000_second.sql'));
      assert.deepEqual(checkReleased(dir, manifest), [
        '20260101000000_first.sql (released in 0.1.0) changed: a released migration is frozen; put the change in a new migration',
        '20260102000000_second.sql (released in 0.1.0) is missing: a released migration is never removed',
      ]);
      assert.throws(() => addRelease(dir, manifest, '0.2.0'), /first\.sql \(released in 0\.1\.0\) changed/);
    });

    it('releases only what no earlier release holds', () => {
      const first = addRelease(dir, { releases: {} }, '0.1.0');
      writeFileSync(join(dir, '20260103000000_third.sql'), 'create table public.c (id int);\n');
      const second = addRelease(dir, first, '0.2.0');
      assert.deepEqual(Object.keys(second.releases['0.2.0']!), ['20260103000000_third.sql']);
      assert.throws(() => addRelease(dir, second, '0.2.0'), /already in the manifest/);
    });
  });

  describe('schema dump (scripts/schema-diff.ts)', () => {
    it('is the same for the migrations in one file as in their own files, and sees a changed policy', async () => {
      const one = mkdtempSync(join(tmpdir(), 'cairn-one-migration-'));
      try {
        const all = listMigrations(findMigrationsDir()).map((m) => readFileSync(m.path, 'utf8')).join('\n');
        writeFileSync(join(one, '20260101000000_everything.sql'), all);
        const db = await freshDb();
        try {
          const split = await dumpSchema(db.db);
          assert.equal(await dumpMigrations(one), split);
          assert.ok(split.split('\n').length > 500, 'the dump holds the whole schema');
          await db.admin(`alter policy "Users can read the tasks of projects they can read" on public.tasks using (false)`);
          await db.admin(`grant update (created_by) on public.tasks to authenticated`);
          const changed = (await dumpSchema(db.db)).split('\n');
          const added = changed.filter((l) => !split.split('\n').includes(l));
          assert.equal(added.length, 2, added.join('\n'));
          assert.ok(added.some((l) => l.startsWith('policy: tasks "Users can read the tasks') && l.endsWith('using (false)')));
          assert.ok(added.some((l) => l.startsWith('column: tasks.created_by') && l.includes('authenticated=UPDATE')));
        } finally {
          await db.close();
        }
      } finally {
        rmSync(one, { recursive: true, force: true });
      }
    });
  });

  it('ships no migration file the runner would skip', () => {
    const dir = findMigrationsDir();
    assert.deepEqual(readdirSync(dir).filter((f) => !/^[0-9]+_[a-z0-9_]+\.sql$/.test(f)), []);
  });
});
