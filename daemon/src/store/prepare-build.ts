/**
 * Build step (run by esbuild.mjs after bundling): prepares the data directory a new home starts from,
 * `dist/pgdata.tar.gz` with its manifest `dist/pgdata.json` (see prepared.ts), from whatever
 * `supabase/migrations` holds now. Skipped when the manifest already matches the migrations, bootstrap.sql
 * and the installed PGlite. Usage: `node --import tsx daemon/src/store/prepare-build.ts <outDir>`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPGlite, pgliteDb } from './embedded.js';
import { applyMigrations, bootstrapFile, bootstrapIfNeeded, findMigrationsDir, findShipped } from './migrate.js';
import { PREPARED_IMAGE, PREPARED_MANIFEST, migrationDigests, sha256, type PreparedManifest } from './prepared.js';

const outDir = process.argv[2] ?? 'dist';
const migrationsDir = findMigrationsDir();
const pglite = (JSON.parse(readFileSync(findShipped(join('node_modules', '@electric-sql', 'pglite', 'package.json')), 'utf8')) as { version: string }).version;
const wanted = { format: 1 as const, pglite, bootstrap: sha256(readFileSync(bootstrapFile())), migrations: migrationDigests(migrationsDir) };

const manifestPath = join(outDir, PREPARED_MANIFEST);
const imagePath = join(outDir, PREPARED_IMAGE);
const current = existsSync(manifestPath) && existsSync(imagePath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as PreparedManifest) : null;
const same =
  current !== null &&
  current.pglite === wanted.pglite &&
  current.bootstrap === wanted.bootstrap &&
  JSON.stringify(current.migrations) === JSON.stringify(wanted.migrations) &&
  sha256(readFileSync(imagePath)) === current.image;

if (same) {
  process.stdout.write(`prepared data dir up to date (${wanted.migrations.length} migrations)\n`);
} else {
  const t0 = performance.now();
  const db = await createPGlite();
  let bytes: Buffer;
  try {
    const sql = pgliteDb(db);
    await bootstrapIfNeeded(sql);
    await applyMigrations(sql, migrationsDir);
    // Planner statistics and a clean checkpoint ship with the image.
    await db.exec('analyze; checkpoint;');
    bytes = Buffer.from(await ((await db.dumpDataDir('gzip')) as Blob).arrayBuffer());
  } finally {
    await db.close();
  }
  await mkdir(outDir, { recursive: true });
  // Image first, manifest last: a manifest never names an image that is not all there.
  await writeFile(`${imagePath}.partial`, bytes);
  await rename(`${imagePath}.partial`, imagePath);
  const manifest: PreparedManifest = { ...wanted, image: sha256(bytes) };
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(
    `prepared data dir: ${wanted.migrations.length} migrations, ${(bytes.length / 1048576).toFixed(1)} MB, ${Math.round(performance.now() - t0)} ms\n`,
  );
}
