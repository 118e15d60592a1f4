/**
 * Build step (run by esbuild.mjs after bundling): prepares the data directory a new home starts from,
 * `dist/pgdata.tar.gz` with its manifest `dist/pgdata.json` (see prepared.ts), from whatever
 * `supabase/migrations` holds now. Skipped when the manifest already matches the migrations, bootstrap.sql
 * and the installed PGlite. Usage: `node --import tsx daemon/src/store/prepare-build.ts <outDir>`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { createTar, type TarFileInput } from 'nanotar';
import { createPGlite, pgliteDb } from './embedded.js';
import { applyMigrations, bootstrapFile, bootstrapIfNeeded, findMigrationsDir, findShipped } from './migrate.js';
import { PREPARED_FORMAT, PREPARED_IMAGE, PREPARED_MANIFEST, migrationDigests, sha256, type PreparedManifest } from './prepared.js';

/** Files of a stopped data dir that a new one must not inherit (none is left after a clean shutdown). */
const NOT_SHIPPED = new Set(['postmaster.pid', 'postmaster.opts']);

/** Every folder and file under `dir`, as tar entries named relative to it (folders before their files). */
function tarEntries(dir: string, prefix = ''): TarFileInput[] {
  const out: TarFileInput[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const name = prefix + e.name;
    if (name.length >= 100) throw new Error(`data dir path too long for the image: ${name}`);
    if (e.isDirectory()) out.push({ name: `${name}/` }, ...tarEntries(join(dir, e.name), `${name}/`));
    else if (e.isFile() && !NOT_SHIPPED.has(name)) out.push({ name, data: readFileSync(join(dir, e.name)), attrs: { mode: '600' } });
  }
  return out;
}

const outDir = process.argv[2] ?? 'dist';
const migrationsDir = findMigrationsDir();
const pglite = (JSON.parse(readFileSync(findShipped(join('node_modules', '@electric-sql', 'pglite', 'package.json')), 'utf8')) as { version: string }).version;
const wanted = { format: PREPARED_FORMAT, pglite, bootstrap: sha256(readFileSync(bootstrapFile())), migrations: migrationDigests(migrationsDir) };

const manifestPath = join(outDir, PREPARED_MANIFEST);
const imagePath = join(outDir, PREPARED_IMAGE);
const current = existsSync(manifestPath) && existsSync(imagePath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as PreparedManifest) : null;
const same =
  current !== null &&
  current.format === wanted.format &&
  current.pglite === wanted.pglite &&
  current.bootstrap === wanted.bootstrap &&
  JSON.stringify(current.migrations) === JSON.stringify(wanted.migrations) &&
  sha256(readFileSync(imagePath)) === current.image;

if (same) {
  process.stdout.write(`prepared data dir up to date (${wanted.migrations.length} migrations)\n`);
} else {
  const t0 = performance.now();
  // Made on disk and shut down cleanly, so that a new home starts it without crash recovery.
  const work = await mkdtemp(join(tmpdir(), 'cairn-pgdata-'));
  let bytes: Buffer;
  try {
    const dataDir = join(work, 'db');
    const db = await createPGlite({ dataDir });
    try {
      const sql = pgliteDb(db);
      await bootstrapIfNeeded(sql);
      await applyMigrations(sql, migrationsDir);
      // Planner statistics ship with the image (a new home then has none to gather).
      await db.exec('analyze');
      // The daemon never creates a database, so the image leaves out the two templates initdb made: 600 of
      // its 1,100 files, and creating a file is most of what unpacking costs (about 1 ms of kernel time each here).
      for (const template of ['template0', 'template1']) {
        await db.query(`alter database ${template} is_template false`);
        await db.query(`drop database ${template}`);
      }
      await db.exec('checkpoint');
    } finally {
      await db.close();
    }
    bytes = gzipSync(createTar(tarEntries(dataDir), { attrs: { mtime: 0 } }), { level: 9 });
  } finally {
    await rm(work, { recursive: true, force: true });
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
