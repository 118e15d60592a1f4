// Bare PGlite, the baseline of bench/startup.bench.ts: opens a data dir (initdb when empty, or loads a
// `dumpDataDir` image given as the second argument) with pgvector, as the daemon does, answers `select 1`,
// prints one JSON line and stays idle until its stdin closes, so the parent can read its resident memory.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { readFileSync } from 'node:fs';

const [dataDir, image] = process.argv.slice(2);
const db = await PGlite.create({
  dataDir,
  extensions: { vector },
  ...(image ? { loadDataDir: new Blob([readFileSync(image)]) } : {}),
});
await db.query('select 1');
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void db.close().then(() => process.exit(0)));
