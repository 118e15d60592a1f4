/**
 * The data directory prepared at build time (`npm run build` → `dist/pgdata.tar.gz` + `dist/pgdata.json`), so
 * a new home skips initdb, the bootstrap and every migration on the user's critical path: the daemon unpacks
 * the image (a gzipped tar of a data dir with bootstrap.sql and `supabase/migrations` applied, analyzed and
 * then shut down cleanly) into the home, opens it as it opens an existing home, and applies only the
 * migrations that follow it. A cleanly shut down data dir starts without crash recovery (an image dumped from
 * a running database spent over a second redoing its WAL and fsyncing every file at each first start), and it
 * is unpacked by Node rather than written file by file through PGlite's WASM file system. The manifest names
 * each migration in the image with its digest; an image whose migrations are not, file for file, the first
 * ones of the daemon's own migrations dir (edited, removed, folded or reordered since the build), built from
 * another bootstrap or in another format, or whose bytes do not match, is not used: the data dir is then made
 * the slow, safe way (initdb and every migration).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseTar } from 'nanotar';
import { bootstrapFile, findShipped, listMigrations } from './migrate.js';

export const PREPARED_IMAGE = 'pgdata.tar.gz';
export const PREPARED_MANIFEST = 'pgdata.json';

/** 2: a tar of a cleanly shut down data dir (1 was a `dumpDataDir` of a running one). */
export const PREPARED_FORMAT = 2;

export interface PreparedManifest {
  /** Format of this file and its image (PREPARED_FORMAT). */
  format: number;
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
  if (manifest.format !== PREPARED_FORMAT) return `prepared data dir format ${String(manifest.format)}, not ${PREPARED_FORMAT} (run npm run build)`;
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
 * reason, for the log) when there is none or it does not fit. `migrations`: how many of the shipped ones it holds.
 */
export function preparedImage(migrationsDir: string): { image: Buffer; migrations: number } | { image: null; reason: string } {
  const dir = preparedDir();
  if (!dir || !existsSync(join(dir, PREPARED_IMAGE))) return { image: null, reason: 'no prepared data dir (run npm run build)' };
  try {
    const manifest = JSON.parse(readFileSync(join(dir, PREPARED_MANIFEST), 'utf8')) as PreparedManifest;
    const reason = unfitReason(manifest, migrationsDir, sha256(readFileSync(bootstrapFile())));
    if (reason) return { image: null, reason };
    const bytes = readFileSync(join(dir, PREPARED_IMAGE));
    if (sha256(bytes) !== manifest.image) return { image: null, reason: 'the image does not match its manifest' };
    return { image: bytes, migrations: manifest.migrations.length };
  } catch (err) {
    return { image: null, reason: `unreadable prepared data dir: ${(err as Error).message}` };
  }
}

/** Where an image is unpacked before it becomes the data dir (a crash part-way leaves only this behind). */
export const unpackingDir = (dataDir: string): string => `${dataDir}.unpacking`;

/**
 * Unpacks a prepared image into `dataDir`, which must be missing or empty: into a sibling folder first, renamed
 * into place once every file is written, so that a crash part-way leaves no half data dir that the next start
 * would take for a database (the next open removes the leftover and unpacks again). A file's trailing zeros are
 * not written but left to the file's length (the 16 MB WAL segment is nearly all zeros): it reads the same.
 * Synchronous: it runs before the daemon listens, with nothing else to serve, and a thousand small files
 * written without a thread-pool round trip each take a fraction of the time.
 */
export function unpackImage(image: Buffer, dataDir: string): number {
  const target = unpackingDir(dataDir);
  rmSync(target, { recursive: true, force: true });
  let files = 0;
  const tar = gunzipSync(image);
  // nanotar reads the whole ArrayBuffer under the view it is given: hand it one of its own.
  const whole = tar.byteOffset === 0 && tar.byteLength === tar.buffer.byteLength ? tar : Uint8Array.prototype.slice.call(tar);
  for (const item of parseTar(whole)) {
    const name = item.name.replace(/^\/+/, '');
    if (name.split('/').some((part) => part === '..')) throw new Error(`unsafe path in the prepared image: ${item.name}`);
    const path = join(target, name);
    if (item.type === 'directory') {
      mkdirSync(path, { recursive: true, mode: 0o700 });
      continue;
    }
    if (item.type !== 'file') continue;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const data = item.data ?? new Uint8Array(0);
    let end = data.length;
    while (end > 0 && data[end - 1] === 0) end--;
    const fd = openSync(path, 'wx', 0o600);
    try {
      if (end > 0) writeSync(fd, data, 0, end, 0);
      if (end < data.length) ftruncateSync(fd, data.length);
    } finally {
      closeSync(fd);
    }
    files++;
  }
  // Only an empty data dir is replaced (rmdir refuses any other).
  if (existsSync(dataDir)) rmdirSync(dataDir);
  renameSync(target, dataDir);
  return files;
}
