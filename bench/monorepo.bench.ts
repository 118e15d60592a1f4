/**
 * A synthetic company monorepo, generated into a temp dir (never committed): `--files N` files (default
 * 100,000, ~10 KB each, ~1 GB) of TypeScript and Markdown in packages of 100 files. Measures, on a fresh
 * home: the first index (time, peak resident memory sampled every 250 ms, how often progress came and the
 * longest silence between reports), a no-change re-index, and the watcher after a mass change that
 * simulates a `git checkout` rewriting 20% of the files (`--changed N`): how many `kb/changed` notifications
 * the storm became, whether the daemon kept answering, and how long after the last write until a word
 * written into the changed files is found by `kb/search`.
 *
 *     node --import tsx bench/monorepo.bench.ts --files 10000      # standalone, prints JSON
 *     CAIRN_BENCH_MONOREPO_FILES=10000 npm run bench -- monorepo    # as part of npm run bench
 *
 * Targets (at 100,000 files): peak RSS ≤ 1 GB, no-change re-index ≤ 5 s, searchable ≤ 10 s after
 * a checkout of 20,000 files. Baseline of the same run: bare PGlite (bench/support/bare-pglite.mjs) opening
 * the indexed data directory once the daemon has stopped, its time to answer and its resident memory, so the
 * daemon's own share of the peak shows. Progress goes to stderr every 10 s (done/total, rate, RSS), so a run
 * too long to wait for can be read and extrapolated while it runs.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { barePglite, rssMb, startDaemon, stopDaemon } from './startup.bench.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function arg(name: string): number | null {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : null;
}

/** One source file of about `bytes` bytes, with identifiers unique to it (and `marker` when given). */
function sourceFile(pkg: number, file: number, bytes: number, marker = ''): string {
  const id = `p${pkg}f${file}`;
  const parts = [`// package ${pkg}, module ${file}${marker ? ` ${marker}` : ''}\nimport { shared${pkg % 50} } from '../../shared/index.js';\n`];
  let n = 0;
  while (parts.reduce((a, p) => a + p.length, 0) < bytes) {
    parts.push(
      `\n/** Computes the ${id} ledger entry ${n} for an order and its customer. */\nexport function ledger_${id}_${n}(order: { id: string; total: number }, rate = ${(n % 7) + 1}): number {\n  const base = shared${pkg % 50}(order.total) * rate;\n  if (base > ${1000 + n}) return Math.round(base * 0.9${n % 10});\n  return base + ${n};\n}\n`,
    );
    n++;
  }
  return parts.join('');
}

async function generate(root: string, files: number, bytes: number): Promise<void> {
  const perPkg = 100;
  for (let pkg = 0; pkg * perPkg < files; pkg++) {
    const dir = join(root, 'packages', `pkg-${pkg}`, 'src');
    await mkdir(dir, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let f = 0; f < perPkg && pkg * perPkg + f < files; f++) {
      const name = f === 0 ? join(root, 'packages', `pkg-${pkg}`, 'README.md') : join(dir, `module-${f}.ts`);
      const text = f === 0 ? `# Package ${pkg}\n\nLedger services for region ${pkg}.\n` : sourceFile(pkg, f, bytes);
      writes.push(writeFile(name, text));
    }
    await Promise.all(writes);
  }
  await writeFile(join(root, '.gitignore'), 'node_modules/\n');
}

/** The changed file paths of a simulated checkout: every k-th module. */
function changedFiles(root: string, files: number, changed: number): string[] {
  const out: string[] = [];
  const step = Math.max(1, Math.floor(files / changed));
  for (let i = 1; i < files && out.length < changed; i += step) {
    const pkg = Math.floor(i / 100);
    const f = i % 100;
    if (f !== 0) out.push(join(root, 'packages', `pkg-${pkg}`, 'src', `module-${f}.ts`));
  }
  return out;
}

export async function run(): Promise<Record<string, unknown>> {
  const files = arg('files') ?? Number(process.env.CAIRN_BENCH_MONOREPO_FILES ?? 100_000);
  const changed = arg('changed') ?? Math.round(files / 5);
  const bytes = arg('bytes') ?? 10_000;
  const root = await mkdtemp(join(tmpdir(), 'cairn-bench-monorepo-'));
  const repo = join(root, 'repo');
  try {
    let t = performance.now();
    await generate(repo, files, bytes);
    const generateMs = performance.now() - t;

    const home = join(root, 'home');
    const d = await startDaemon(home);
    let peak = 0;
    let stopped = false;
    const log = (line: string) => process.stderr.write(`[monorepo ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
    log(`generated ${files} files in ${Math.round(generateMs / 1000)} s; indexing`);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(d.proc.pid!))), 250);
    try {
      // First index, with progress.
      const progressAt: number[] = [];
      t = performance.now();
      let lastLog = t;
      const first = (await d.client.request(
        'kb/index',
        { root: repo, watch: true },
        {
          onProgress: (p: unknown) => {
            const now = performance.now();
            progressAt.push(now);
            if (now - lastLog >= 10_000) {
              lastLog = now;
              const data = ((p as { data?: { done?: number; total?: number; filesPerSecond?: number } }).data ?? {});
              log(`first index ${data.done ?? '?'}/${data.total ?? '?'} files, ${data.filesPerSecond ?? '?'} files/s, ${Math.round((now - t) / 1000)} s, rss ${rssMb(d.proc.pid!)} MB (peak ${peak} MB)`);
            }
          },
        },
      )) as Record<string, unknown>;
      const firstMs = performance.now() - t;
      log(`first index done in ${Math.round(firstMs / 1000)} s, peak rss ${Math.max(peak, rssMb(d.proc.pid!))} MB`);
      const gaps = progressAt.map((x, i) => x - (i === 0 ? t : progressAt[i - 1]!));
      const peakFirst = Math.max(peak, rssMb(d.proc.pid!));

      // No-change re-index.
      t = performance.now();
      await d.client.request('kb/index', { root: repo, watch: true });
      const reindexMs = performance.now() - t;
      log(`no-change re-index ${Math.round(reindexMs)} ms; checkout of ${changed} files`);

      // A checkout rewriting `changed` files; then wait until the new word is searchable.
      await d.client.request('daemon/subscribe', { topics: ['kb'] });
      let notifications = 0;
      d.client.onNotification('kb/changed', () => notifications++);
      const marker = `checkoutmarker${Date.now().toString(36)}`;
      const paths = changedFiles(repo, files, changed);
      t = performance.now();
      for (let i = 0; i < paths.length; i += 200) {
        await Promise.all(
          paths.slice(i, i + 200).map((p) => {
            const m = /pkg-(\d+)\/src\/module-(\d+)\.ts$/.exec(p)!;
            // The last file written carries a word of its own: found means the storm's tail was indexed.
            return writeFile(p, sourceFile(Number(m[1]), Number(m[2]), bytes, p === paths.at(-1) ? `${marker} ${marker}last` : marker));
          }),
        );
      }
      const checkoutEnd = performance.now();
      const writeMs = checkoutEnd - t;
      let searchableMs: number | null = null;
      let pingMaxMs = 0;
      const deadline = checkoutEnd + 600_000;
      while (performance.now() < deadline) {
        const p0 = performance.now();
        await d.client.request('daemon/ping', {});
        pingMaxMs = Math.max(pingMaxMs, performance.now() - p0);
        const last = (await d.client.request('kb/search', { root: repo, query: `${marker}last`, limit: 1 })) as unknown[];
        const some = (await d.client.request('kb/search', { root: repo, query: marker, limit: 100 })) as unknown[];
        if (last.length === 1 && some.length >= Math.min(100, paths.length)) {
          searchableMs = performance.now() - checkoutEnd;
          break;
        }
        await sleep(250);
      }
      log(`searchable ${searchableMs === null ? 'never' : `${Math.round(searchableMs)} ms`} after the checkout, ${notifications} kb/changed`);
      await sleep(3_000);
      const idleAfter = rssMb(d.proc.pid!);
      clearInterval(sampler);
      await stopDaemon(d);
      stopped = true;
      // The baseline: bare PGlite opening the data directory the daemon just indexed.
      const bare = await barePglite(join(home, 'db'), undefined, 2_000);
      log(`bare PGlite on the indexed data dir: ${Math.round(bare.ms)} ms, ${bare.rssMb} MB`);
      return {
        files,
        approxMb: Math.round((files * bytes) / 1048576),
        generateMs: Math.round(generateMs),
        firstIndexMs: Math.round(firstMs),
        firstIndexFiles: first.files ?? null,
        firstIndexChunks: first.chunks ?? null,
        firstIndexPeakRssMb: peakFirst,
        progressReports: progressAt.length,
        longestProgressGapMs: Math.round(Math.max(0, ...gaps)),
        noChangeReindexMs: Math.round(reindexMs),
        checkoutFiles: paths.length,
        checkoutWriteMs: Math.round(writeMs),
        searchableAfterCheckoutMs: searchableMs === null ? null : Math.round(searchableMs),
        kbChangedNotifications: notifications,
        longestPingDuringCatchUpMs: Math.round(pingMaxMs),
        peakRssMb: Math.max(peak, peakFirst),
        rssAfterMb: idleAfter,
        barePgliteOpenIndexedMs: Math.round(bare.ms),
        barePgliteIndexedRssMb: bare.rssMb,
        peakRssRatioToBare: Number((Math.max(peak, peakFirst) / bare.rssMb).toFixed(2)),
      };
    } finally {
      clearInterval(sampler);
      if (!stopped) await stopDaemon(d);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv.includes('--files')) {
  console.log(JSON.stringify(await run(), null, 2));
}
