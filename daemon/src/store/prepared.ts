/**
 * The data directory prepared at build time (`npm run build` → `dist/pgdata.tar.gz` + `dist/pgdata.json`), so
 * a new home skips initdb, the bootstrap and every migration on the user's critical path: PGlite loads the
 * image (a `dumpDataDir` of a database with bootstrap.sql and `supabase/migrations` applied) and the daemon
 * applies only the migrations that follow it. The manifest names each migration in the image with its
 * digest; an image whose migrations are not, file for file, the first ones of the daemon's own migrations dir
 * (edited, removed, folded or reordered since the build), built from another bootstrap, or whose bytes do not
 * match, is not used: the data dir is then made the slow, safe way (initdb and every migration).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapFile, findShipped, listMigrations } from './migrate.js';

export const PREPARED_IMAGE = 'pgdata.tar.gz';
export const PREPARED_MANIFEST = 'pgdata.json';

export interface PreparedManifest {
  /** Format of this file. */
  format: 1;
  /** The PGlite version that made the image (a different one rebuilds it). */
  pglite: string;
  /** sha256 of bootstrap.sql as applied. */
  bootstrap: string;
  /** The migrations applied in the image, oldest first, with the sha256 of each file. */
  migrations: { version: string; name: string; sha256: string }[];
  /** sha256 of the image itself. */
  image: string;
}

export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Each migration of `dir` with the digest of its file, oldest first. */
export function migrationDigests(dir: string): PreparedManifest['migrations'] {
  return listMigrations(dir).map((m) => ({ version: m.version, name: m.name, sha256: sha256(readFileSync(m.path)) }));
}

/** Where the build put the prepared image: beside the bundle, else in `dist/` above the sources. */
function preparedDir(): string | null {
  const beside = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(beside, PREPARED_MANIFEST))) return beside;
  try {
    return dirname(findShipped(join('dist', PREPARED_MANIFEST)));
  } catch {
    return null;
  }
}

/** Why a manifest does not fit `migrationsDir` and this bootstrap, or null when the image may be used. */
export function unfitReason(manifest: PreparedManifest, migrationsDir: string, bootstrapSha: string): string | null {
  if (manifest.format !== 1) return `unknown manifest format ${String(manifest.format)}`;
  if (manifest.bootstrap !== bootstrapSha) return 'bootstrap.sql changed since the build';
  const shipped = migrationDigests(migrationsDir);
  if (manifest.migrations.length > shipped.length) return 'the image holds migrations this daemon does not ship';
  for (const [i, m] of manifest.migrations.entries()) {
    const s = shipped[i]!;
    if (s.version !== m.version || s.sha256 !== m.sha256) return `migration ${m.version}_${m.name} differs from the shipped ${s.version}_${s.name}`;
  }
  return null;
}

/**
 * The prepared image to start a new data dir from, when one was built for these migrations; null (with the
 * reason, for the log) when there is none or it does not fit.
 */
export function preparedImage(migrationsDir: string): { image: Blob; migrations: number } | { image: null; reason: string } {
  const dir = preparedDir();
  if (!dir || !existsSync(join(dir, PREPARED_IMAGE))) return { image: null, reason: 'no prepared data dir (run npm run build)' };
  try {
    const manifest = JSON.parse(readFileSync(join(dir, PREPARED_MANIFEST), 'utf8')) as PreparedManifest;
    const reason = unfitReason(manifest, migrationsDir, sha256(readFileSync(bootstrapFile())));
    if (reason) return { image: null, reason };
    const bytes = readFileSync(join(dir, PREPARED_IMAGE));
    if (sha256(bytes) !== manifest.image) return { image: null, reason: 'the image does not match its manifest' };
    return { image: new Blob([bytes]), migrations: manifest.migrations.length };
  } catch (err) {
    return { image: null, reason: `unreadable prepared data dir: ${(err as Error).message}` };
  }
}
