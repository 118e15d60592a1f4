/**
 * Runs every `bench/*.bench.ts` (or those named on the command line: `node --import tsx bench/run.ts daemon`),
 * prints one table of their figures and writes them all to `bench-results.json`. Each bench exports
 * `run(): Promise<object>`; nested figures are shown with dotted names.
 */
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Figures = Record<string, unknown>;

function flatten(value: unknown, prefix: string, out: [string, string][]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : JSON.stringify(value);
  out.push([prefix, text]);
}

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

const results: Record<string, Figures | { error: string }> = {};
const rows: [string, string][] = [];
let failed = 0;
for (const name of benches) {
  process.stderr.write(`bench ${name}…\n`);
  const started = Date.now();
  try {
    const mod = (await import(pathToFileURL(join(dir, `${name}.bench.ts`)).href)) as { run(): Promise<Figures> };
    const figures = await mod.run();
    results[name] = figures;
    flatten(figures, name, rows);
  } catch (err) {
    failed++;
    results[name] = { error: (err as Error).message };
    rows.push([`${name}.error`, (err as Error).message]);
  }
  process.stderr.write(`bench ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const width = Math.max(6, ...rows.map(([k]) => k.length));
console.log(`${'figure'.padEnd(width)}  value`);
console.log(`${'-'.repeat(width)}  -----`);
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
await writeFile(join(dir, '..', 'bench-results.json'), `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
console.log(`\nwrote bench-results.json (${benches.length} benches${failed ? `, ${failed} failed` : ''})`);
process.exit(failed ? 1 : 0);
