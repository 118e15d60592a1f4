/**
 * `cairn eval`: how well search finds the files that answer a question, measured the way a user meets it.
 * Each set's folder is indexed through the daemon (`kb/index`) and every question goes through `kb/search`;
 * in the same run two BM25 baselines (baseline.ts) answer the same questions over the same chunks, so the
 * report's ratios survive a slow or busy machine. Scoring is at file level (metrics.ts).
 */
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RpcClient } from '../protocol/client/client.js';
import { Bm25Baseline, corpusChunks, PATH_BOOST } from './baseline.js';
import { npmPackage } from './corpus.js';
import { CUTOFF, rankFiles, ratios, scoreQuestion, summarise, type EngineFigures } from './metrics.js';
import { QuestionSetError, type QuestionSet } from './questions.js';

/** Chunks asked of each engine per question; their files, deduplicated, make the ranked list. */
export const CHUNKS_PER_QUERY = 50;

export const ENGINES = ['cairn', 'bm25', 'bm25Path'] as const;
export type Engine = (typeof ENGINES)[number];

export const ENGINE_LABELS: Record<Engine, string> = {
  cairn: 'cairn (kb/search)',
  bm25: 'bm25 (minisearch, identifier terms)',
  bm25Path: `bm25 + path field (boost ${PATH_BOOST})`,
};

export interface QuestionResult {
  query: string;
  relevant: string[];
  /** Rank of the first relevant file per engine (1-based), null when not in the top 10. */
  firstRelevant: Record<Engine, number | null>;
  /** Cairn's top files. */
  cairnTop: string[];
}

export interface SetReport {
  name: string;
  file: string;
  root: string;
  corpus: string;
  questions: number;
  files: number;
  chunks: number;
  model: string;
  indexSeconds: number;
  engines: Record<Engine, EngineFigures>;
  /** Cairn ÷ each baseline. */
  ratios: { bm25: ReturnType<typeof ratios>; bm25Path: ReturnType<typeof ratios> };
  results: QuestionResult[];
}

export interface EvalOptions {
  /** Folder for sets without a corpus, and instead of every set's corpus when given explicitly. */
  dir: string | null;
  cwd: string;
  cacheDir: string;
  maxFileBytes: number;
  log: (line: string) => void;
}

async function rootOf(set: QuestionSet, opts: EvalOptions): Promise<{ root: string; corpus: string }> {
  if (opts.dir !== null || !set.corpus) {
    const root = resolve(opts.cwd, opts.dir ?? '.');
    return { root, corpus: root };
  }
  const pkg = await npmPackage(set.corpus.npm, opts.cacheDir, opts.log);
  return { root: set.corpus.dir ? join(pkg, set.corpus.dir) : pkg, corpus: `${set.corpus.npm}${set.corpus.dir ? `/${set.corpus.dir}` : ''}` };
}

interface PreparedRoot {
  files: Set<string>;
  chunks: number;
  model: string;
  indexSeconds: number;
  bm25: Bm25Baseline;
  bm25Path: Bm25Baseline;
}

export async function runEval(client: RpcClient, sets: { file: string; set: QuestionSet }[], opts: EvalOptions): Promise<SetReport[]> {
  const prepared = new Map<string, Promise<PreparedRoot>>();
  const prepare = (root: string) => {
    let p = prepared.get(root);
    if (!p) {
      p = (async () => {
        opts.log(`indexing ${root}`);
        const summary = await client.request('kb/index', { root, watch: false });
        if (!summary.complete) throw new QuestionSetError(`indexing ${root} did not complete: ${summary.errors[0]?.message ?? 'see the daemon log'}`);
        const corpus = await corpusChunks(root, opts.maxFileBytes);
        return {
          files: new Set(corpus.files),
          chunks: corpus.chunks.length,
          model: summary.model,
          indexSeconds: summary.seconds,
          bm25: new Bm25Baseline(corpus.chunks, { pathBoost: null }),
          bm25Path: new Bm25Baseline(corpus.chunks, { pathBoost: PATH_BOOST }),
        };
      })();
      prepared.set(root, p);
    }
    return p;
  };

  const reports: SetReport[] = [];
  for (const { file, set } of sets) {
    const { root, corpus } = await rootOf(set, opts);
    const r = await prepare(root);
    const missing = set.questions.flatMap((q) => q.relevant.filter((p) => !r.files.has(p)).map((p) => `"${q.query}" → ${p}`));
    if (missing.length) {
      throw new QuestionSetError(`${file}: ${missing.length} relevant path(s) are not among the indexed files of ${root}, e.g. ${missing.slice(0, 3).join('; ')}`);
    }
    opts.log(`${set.name}: ${set.questions.length} questions`);
    // The first search loads the query embedder; it is not what a user waits for on every search.
    await client.request('kb/search', { root, query: set.questions[0]!.query, limit: CHUNKS_PER_QUERY });
    const scores: Record<Engine, ReturnType<typeof scoreQuestion>[]> = { cairn: [], bm25: [], bm25Path: [] };
    const latency: Record<Engine, number[]> = { cairn: [], bm25: [], bm25Path: [] };
    const results: QuestionResult[] = [];
    for (const q of set.questions) {
      const ranked = {} as Record<Engine, string[]>;
      let t = performance.now();
      const hits = await client.request('kb/search', { root, query: q.query, limit: CHUNKS_PER_QUERY });
      latency.cairn.push(performance.now() - t);
      ranked.cairn = rankFiles(hits.filter((h) => h.kind === 'file').map((h) => h.path));
      for (const engine of ['bm25', 'bm25Path'] as const) {
        t = performance.now();
        const paths = r[engine].search(q.query, CHUNKS_PER_QUERY);
        latency[engine].push(performance.now() - t);
        ranked[engine] = rankFiles(paths);
      }
      const firstRelevant = {} as Record<Engine, number | null>;
      for (const engine of ENGINES) {
        const s = scoreQuestion(ranked[engine], q.relevant);
        scores[engine].push(s);
        firstRelevant[engine] = s.firstRelevant;
      }
      results.push({ query: q.query, relevant: q.relevant, firstRelevant, cairnTop: ranked.cairn });
    }
    const engines = {
      cairn: summarise(scores.cairn, latency.cairn),
      bm25: summarise(scores.bm25, latency.bm25),
      bm25Path: summarise(scores.bm25Path, latency.bm25Path),
    };
    reports.push({
      name: set.name,
      file,
      root,
      corpus,
      questions: set.questions.length,
      files: r.files.size,
      chunks: r.chunks,
      model: r.model,
      indexSeconds: r.indexSeconds,
      engines,
      ratios: { bm25: ratios(engines.cairn, engines.bm25), bm25Path: ratios(engines.cairn, engines.bm25Path) },
      results,
    });
  }
  return reports;
}

const f3 = (x: number | null) => (x === null ? '   -' : x.toFixed(3));
const f2 = (x: number | null) => (x === null ? '   -' : x.toFixed(2));

/** The report as a person reads it: one table per set, then the ratios of cairn's ranking to the baselines'. */
export function formatReport(reports: SetReport[], verbose = false): string {
  const out: string[] = [];
  const w = Math.max(...Object.values(ENGINE_LABELS).map((l) => l.length), 'cairn ÷ bm25 + path'.length);
  for (const r of reports) {
    out.push(`${r.name}: ${r.questions} questions over ${r.corpus} (${r.files} files, ${r.chunks} chunks, ${r.model}, indexed in ${r.indexSeconds} s)`);
    out.push(`  ${'engine'.padEnd(w)}  MRR@${CUTOFF}  nDCG@${CUTOFF}  recall@${CUTOFF}  hit@1   p50 ms   p95 ms`);
    for (const e of ENGINES) {
      const f = r.engines[e];
      out.push(`  ${ENGINE_LABELS[e].padEnd(w)}  ${f3(f.mrr)}   ${f3(f.ndcg)}    ${f3(f.recall)}      ${f3(f.hit1)}  ${f.latencyMs.p50.toFixed(1).padStart(7)}  ${f.latencyMs.p95.toFixed(1).padStart(7)}`);
    }
    for (const [b, label] of [['bm25', 'cairn ÷ bm25'], ['bm25Path', 'cairn ÷ bm25 + path']] as const) {
      const q = r.ratios[b];
      out.push(`  ${label.padEnd(w)}  ${f2(q.mrr)}    ${f2(q.ndcg)}     ${f2(q.recall)}       ${f2(q.hit1)}`);
    }
    if (verbose) {
      for (const q of r.results) {
        const ranks = ENGINES.map((e) => `${e} ${q.firstRelevant[e] ?? '-'}`).join(', ');
        out.push(`    [${ranks}] ${q.query}`);
        if (q.firstRelevant.cairn !== 1) out.push(`        want ${q.relevant.join(', ')}; cairn top: ${q.cairnTop.slice(0, 3).join(', ') || '(nothing)'}`);
      }
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
