/**
 * The manifest of released migrations (supabase/released-migrations.json): every migration file that is part
 * of a release, with the SHA-256 of its text. A released migration has run on databases we do not control,
 * so it is frozen: a change to the schema after a release is a new migration. test/db/migrations.test.ts
 * fails when a listed file changed or went away; this script adds the migrations of a release.
 *
 *   npm run release:manifest                  # releases every migration not yet listed, as package.json's version
 *   npm run release:manifest -- --version 0.2.0
 *   npm run release:manifest -- --check       # only checks (what the test does)
 *
 * Until the first release there is no manifest: nothing is frozen, and migrations are edited in place.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface ReleasedManifest {
  /** Release version → the migration files it shipped first, each with its SHA-256 (hex). */
  releases: Record<string, Record<string, string>>;
}

const MIGRATION_FILE = /^[0-9]+_.*\.sql$/;

/** SHA-256 of a migration's text, line endings normalised (a Windows checkout must not look edited). */
export function migrationHash(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

export function readManifest(file: string): ReleasedManifest {
  if (!existsSync(file)) return { releases: {} };
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as ReleasedManifest;
  if (!parsed || typeof parsed.releases !== 'object') throw new Error(`${file}: expected {"releases": {...}}`);
  return parsed;
}

/** Every released migration: file → { release, hash }. */
export function releasedFiles(manifest: ReleasedManifest): Map<string, { release: string; hash: string }> {
  const out = new Map<string, { release: string; hash: string }>();
  for (const [release, files] of Object.entries(manifest.releases)) {
    for (const [file, hash] of Object.entries(files)) out.set(file, { release, hash });
  }
  return out;
}

/** What is wrong with the migrations of `dir` against the manifest: a released file changed or missing. */
export function checkReleased(dir: string, manifest: ReleasedManifest): string[] {
  const problems: string[] = [];
  for (const [file, { release, hash }] of releasedFiles(manifest)) {
    const path = join(dir, file);
    if (!existsSync(path)) {
      problems.push(`${file} (released in ${release}) is missing: a released migration is never removed`);
    } else if (migrationHash(readFileSync(path, 'utf8')) !== hash) {
      problems.push(`${file} (released in ${release}) changed: a released migration is frozen; put the change in a new migration`);
    }
  }
  return problems;
}

/** Adds every migration of `dir` not yet released to `release`; refuses when a released one changed. */
export function addRelease(dir: string, manifest: ReleasedManifest, release: string): ReleasedManifest {
  const problems = checkReleased(dir, manifest);
  if (problems.length) throw new Error(problems.join('\n'));
  if (manifest.releases[release]) throw new Error(`release ${release} is already in the manifest`);
  const known = releasedFiles(manifest);
  const added: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => MIGRATION_FILE.test(f)).sort()) {
    if (!known.has(file)) added[file] = migrationHash(readFileSync(join(dir, file), 'utf8'));
  }
  return { releases: { ...manifest.releases, [release]: added } };
}

if (import.meta.filename === resolve(process.argv[1] ?? '')) {
  const root = resolve(import.meta.dirname, '..');
  const dir = join(root, 'supabase', 'migrations');
  const file = join(root, 'supabase', 'released-migrations.json');
  const { values } = parseArgs({ options: { version: { type: 'string' }, check: { type: 'boolean', default: false } } });
  const manifest = readManifest(file);
  if (values.check) {
    const problems = checkReleased(dir, manifest);
    for (const p of problems) console.error(p);
    console.log(problems.length ? `${problems.length} released migrations changed` : `${releasedFiles(manifest).size} released migrations unchanged`);
    process.exitCode = problems.length ? 1 : 0;
  } else {
    const version = values.version ?? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const next = addRelease(dir, manifest, version);
    writeFileSync(file, JSON.stringify(next, null, 2) + '\n');
    console.log(`release ${version}: ${Object.keys(next.releases[version] ?? {}).length} migrations frozen in ${file}`);
  }
}
