/**
 * What secret detection costs indexing (target: throughput with detection on >= 90% of without), in the
 * same run: the same corpus (this repository's daemon sources and zod's; SECRETS_BENCH_CORPUS, SECRETS_BENCH_ROUNDS) indexed cold
 * into a fresh store with detection off, then on, alternating twice; the ratio of the best runs is the figure.
 * Also the detector alone (MB/s) and the share of the corpus's chunks that got a redaction.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { EmbeddedStore } from '../daemon/src/store/embedded.js';
import { configFromEnv } from '../daemon/src/config.js';
import { indexWorkspace } from '../daemon/src/kb/indexer.js';
import { scanText } from '../daemon/src/secrets/index.js';
import { migratedTemplate } from '../test/support/db.js';

const repo = resolve(import.meta.dirname, '..');
const CORPUS = (process.env.SECRETS_BENCH_CORPUS ?? 'daemon/src,node_modules/zod/src').split(',');

async function indexOnce(ws: string, detect: boolean): Promise<{ seconds: number; chunks: number; redactions: number }> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-bench-secrets-home-'));
  const store = await EmbeddedStore.open(home, { template: await migratedTemplate() });
  try {
    const t0 = performance.now();
    const r = await indexWorkspace({ store, config: configFromEnv({}), home, detectSecrets: detect }, ws);
    return { seconds: (performance.now() - t0) / 1000, chunks: r.chunks, redactions: r.redactions };
  } finally {
    await store.close();
    await rm(home, { recursive: true, force: true });
  }
}

export async function run() {
  const ws = await mkdtemp(join(tmpdir(), 'cairn-bench-secrets-ws-'));
  try {
    for (const c of CORPUS) await cp(join(repo, c), join(ws, c.replace(/\//g, '_')), { recursive: true });
    const texts: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (statSync(p).size < 1024 * 1024) texts.push(readFileSync(p, 'utf8'));
      }
    };
    walk(ws);
    const bytes = texts.reduce((n, t) => n + t.length, 0);
    const t0 = performance.now();
    for (const t of texts) scanText(t);
    const scanMBps = bytes / 1e6 / ((performance.now() - t0) / 1000);

    const off: number[] = [];
    const on: number[] = [];
    let chunks = 0;
    let redactions = 0;
    for (let i = 0; i < Number(process.env.SECRETS_BENCH_ROUNDS ?? 2); i++) {
      off.push((await indexOnce(ws, false)).seconds);
      const r = await indexOnce(ws, true);
      on.push(r.seconds);
      chunks = r.chunks;
      redactions = r.redactions;
    }
    const best = (xs: number[]) => Math.min(...xs);
    return {
      corpus: { files: texts.length, megabytes: Math.round(bytes / 1e4) / 100, chunks },
      detectorMBps: Math.round(scanMBps * 10) / 10,
      indexSecondsOff: best(off),
      indexSecondsOn: best(on),
      chunksPerSecondOff: Math.round(chunks / best(off)),
      chunksPerSecondOn: Math.round(chunks / best(on)),
      throughputRatio: Math.round((best(off) / best(on)) * 1000) / 1000,
      redactions,
      targets: { throughputRatio: 0.9 },
    };
  } finally {
    await rm(ws, { recursive: true, force: true });
  }
}
