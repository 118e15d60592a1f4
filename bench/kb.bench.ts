/**
 * Knowledge-base speed, measured with the real pipeline (crawl, chunk, offline embedder, SQL API on the
 * embedded PGlite store) on a corpus nobody here wrote: the installed sources of typescript/lib, @langchain
 * and @supabase (copied into a temp workspace, text files under the size limit).
 *
 * - cold index of that corpus: files/s and chunks/s end to end (target >= 1,000 chunks/s), then the
 *   background cost of publishing its vectors into HNSW (search is complete before that finishes); the same
 *   cold index with the line chunker only (CAIRN_CHUNKER=lines) on a second copy, in the same run, so the
 *   cost of syntax-aware chunking is a ratio;
 * - no-change re-index of a 10,000-file workspace (target < 2 s);
 * - an edited file searchable through the watcher (target < 1 s);
 * - a synthetic index of KB_BENCH_CHUNKS chunks (default 100,000; windows of corpus lines, deduplicated):
 *   hybrid search p50/p95 (target p95 < 50 ms), against the two-call path of before (kb_status first) in the
 *   same run, and recall@10 of the vector part against an exact scan
 *   (target >= 0.95);
 * - the chunkers (syntax-aware, line-aware) against LangChain's RecursiveCharacterTextSplitter on the same files.
 */
import { cp, mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { EmbeddedStore } from '../daemon/src/store/embedded.js';
import { configFromEnv, ConfigHolder } from '../daemon/src/config.js';
import { indexWorkspace, SourceWriter, type PreparedSource } from '../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../daemon/src/kb/search.js';
import { publishAll } from '../daemon/src/kb/publish.js';
import { KbWatcher } from '../daemon/src/kb/watch.js';
import { chunkFile, chunkText, sha256, estimateTokens } from '../daemon/src/kb/chunk.js';
import { LocalHashEmbedder, localHashEmbed, vectorText } from '../daemon/src/kb/embed.js';
import { isBinaryByName } from '../daemon/src/kb/crawl.js';
import { resolveProject } from '../daemon/src/workspace/project.js';
import { migratedTemplate } from '../test/support/db.js';

const repo = join(import.meta.dirname, '..');
const CORPUS = ['node_modules/typescript/lib', 'node_modules/@langchain', 'node_modules/@supabase'];

export interface KbBenchResult {
  name: 'kb';
  corpus: { files: number; bytes: number; chunks: number };
  /** cpuSeconds: this process's CPU time (PGlite runs in it), a figure the machine's other load does not inflate. */
  coldIndex: { seconds: number; cpuSeconds: number; filesPerSecond: number; chunksPerSecond: number; chunksPerCpuSecond: number; publishSeconds: number; publishCpuSeconds: number; publishChunksPerSecond: number };
  /** The same cold index with the line chunker only; `syntaxOverLines` is coldIndex ÷ this, per second and per CPU second. */
  coldIndexLineChunker: { chunks: number; seconds: number; chunksPerSecond: number; chunksPerCpuSecond: number; syntaxOverLines: { chunksPerSecond: number; chunksPerCpuSecond: number } };
  noChangeReindex: { files: number; seconds: number; cpuSeconds: number };
  editedFileSearchableMs: { p50: number; max: number };
  synthetic: {
    chunks: number;
    writeChunksPerSecond: number;
    writeChunksPerCpuSecond: number;
    publishSeconds: number;
    publishCpuSeconds: number;
    hybridSearchMs: { p50: number; p95: number };
    hybridSearchCpuMsPerQuery: number;
    /**
     * Search as it is (one SQL call: the active model is cached) against the path before it, in the same run
     * (kb_status + kb-state.json read, then kb_search), interleaved query by query; ratio < 1 is faster.
     */
    oneCallSearchMs: { p50: number; p95: number };
    twoCallSearchMs: { p50: number; p95: number };
    oneOverTwoCallsP50: number;
    vectorRecallAt10: number;
    exactScanMs: { p50: number; p95: number };
  };
  chunker: { files: number; syntaxAwareMs: number; lineAwareMs: number; langchainMs: number };
  targets: { coldChunksPerSecond: 1000; noChangeReindex10kFilesSeconds: 2; editedFileSearchableMs: 1000; hybridP95Ms: 50; recallAt10: 0.95 };
}

const log = (msg: string) => process.stderr.write(`kb bench: ${msg}\n`);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10 : NaN;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** CPU seconds of this process since `since` (user + system). */
function cpuSince(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function corpusFiles(maxBytes: number): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) {
        if (ent.name !== 'node_modules') walk(p);
      } else if (ent.isFile() && !isBinaryByName(p) && !/\.map$/.test(p) && statSync(p).size <= maxBytes) {
        if (!p.includes('typescript/lib') || p.endsWith('.d.ts')) out.push(p);
      }
    }
  };
  for (const c of CORPUS) walk(join(repo, c));
  return out.sort();
}

async function copyCorpus(ws: string, maxBytes: number): Promise<{ files: number; bytes: number }> {
  const files = corpusFiles(maxBytes);
  let bytes = 0;
  for (const f of files) {
    const dest = join(ws, relative(join(repo, 'node_modules'), f));
    await mkdir(join(dest, '..'), { recursive: true });
    await cp(f, dest);
    bytes += (await stat(f)).size;
  }
  return { files: files.length, bytes };
}

export async function run(): Promise<KbBenchResult> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-kb-bench-'));
  const ws = join(home, 'corpus');
  const store = await EmbeddedStore.open(join(home, 'home'), { template: await migratedTemplate() });
  const config = configFromEnv({});
  const holder = new ConfigHolder(config);
  const deps = { store, config, home: join(home, 'home') };
  try {
    // ---- cold index of a real corpus --------------------------------------------------------------
    const corpus = await copyCorpus(ws, config.maxFileBytes);
    log(`corpus: ${corpus.files} files, ${corpus.bytes} bytes`);
    let cpu = process.cpuUsage();
    const cold = await indexWorkspace(deps, ws);
    const coldCpu = cpuSince(cpu);
    log(`cold index: ${cold.chunks} chunks in ${cold.seconds} s (${round(coldCpu, 1)} CPU s)`);
    const project = await resolveProject(store, ws);
    let t = performance.now();
    cpu = process.cpuUsage();
    const published = await publishAll(store, project.id, undefined, 500);
    const publishSeconds = (performance.now() - t) / 1000;
    const publishCpu = cpuSince(cpu);
    log(`published ${published} vectors in ${round(publishSeconds)} s`);

    // ---- the same cold index with the line chunker, on a second copy ---------------------------------
    const wsLines = join(home, 'corpus-lines');
    await copyCorpus(wsLines, config.maxFileBytes);
    process.env.CAIRN_CHUNKER = 'lines';
    cpu = process.cpuUsage();
    let coldLines;
    try {
      coldLines = await indexWorkspace(deps, wsLines);
    } finally {
      delete process.env.CAIRN_CHUNKER;
    }
    const coldLinesCpu = cpuSince(cpu);
    log(`cold index, line chunker: ${coldLines.chunks} chunks in ${coldLines.seconds} s (${round(coldLinesCpu, 1)} CPU s)`);

    // ---- edited file searchable through the watcher -----------------------------------------------
    const watcher = new KbWatcher(ws, () => deps, () => undefined, { debug() {}, info() {}, warn() {}, error() {} });
    watcher.start();
    const editMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ident = `benchEditedMarker${i}Zebra${Date.now()}`;
      await new Promise((r) => setTimeout(r, 300));
      const file = join(ws, 'typescript/lib/lib.es5.d.ts');
      const before = await readFile(file, 'utf8');
      const lastLine = before.split('\n').length + 1;
      const t0 = performance.now();
      await writeFile(file, `${before}\ndeclare function ${ident}(): void;\n`);
      for (;;) {
        const hits = await searchKnowledgeBase(store, holder, { root: ws, query: ident, limit: 3 });
        if (hits.some((h) => h.path === 'typescript/lib/lib.es5.d.ts' && h.endLine >= lastLine)) break;
        if (performance.now() - t0 > 10_000) throw new Error('edited file never became searchable');
        await new Promise((r) => setTimeout(r, 10));
      }
      editMs.push(performance.now() - t0);
    }
    await watcher.stop();
    log(`edit to searchable: ${editMs.map((m) => Math.round(m)).join(', ')} ms`);

    // ---- no-change re-index of 10,000 files ---------------------------------------------------------
    const many = join(home, 'many');
    for (let i = 0; i < 10_000; i++) {
      const dir = join(many, `pkg${i % 50}`, `mod${i % 7}`);
      if (i < 350) await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `file${i}.ts`), `export const constant${i} = ${i};\nexport function helper${i}(x: number) { return x + ${i}; }\n`);
    }
    await indexWorkspace(deps, many);
    t = performance.now();
    cpu = process.cpuUsage();
    const again = await indexWorkspace(deps, many);
    const noChangeSeconds = (performance.now() - t) / 1000;
    const noChangeCpu = cpuSince(cpu);
    log(`no-change re-index of 10,000 files: ${round(noChangeSeconds, 3)} s`);
    if (again.unchanged !== 10_000) throw new Error(`expected 10,000 unchanged files, got ${again.unchanged}`);

    // ---- synthetic index: windows of corpus lines -----------------------------------------------------
    const target = Number(process.env.KB_BENCH_CHUNKS ?? 100_000);
    const lines: string[] = [];
    for (const f of corpusFiles(config.maxFileBytes).slice(0, 4000)) lines.push(...(await readFile(f, 'utf8')).split('\n'));
    const synthRoot = join(home, 'synthetic');
    await mkdir(synthRoot, { recursive: true });
    const synth = await resolveProject(store, synthRoot);
    const embedder = new LocalHashEmbedder();
    const writer = new SourceWriter(store, synth.id, embedder);
    let seed = 42;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const seen = new Set<string>();
    const sample: string[] = [];
    let written = 0;
    t = performance.now();
    cpu = process.cpuUsage();
    for (let file = 0; written < target; file++) {
      const chunks = [];
      for (let k = 0; k < 50 && written + chunks.length < target; ) {
        const start = Math.floor(rand() * (lines.length - 30));
        const content = lines.slice(start, start + 8 + Math.floor(rand() * 16)).join('\n');
        const h = sha256(content);
        if (!content.trim() || seen.has(h)) continue;
        seen.add(h);
        chunks.push({ ordinal: k, startLine: start + 1, endLine: start + 1, content, contentHash: h, tokenCount: estimateTokens(content) });
        k++;
      }
      // About a hundred query sources, spread over the whole index.
      if (file % Math.max(1, Math.floor(target / 50 / 100)) === 0) sample.push(chunks[0]!.content);
      const source: PreparedSource = { kind: 'file', uri: `synthetic/file${file}.ts`, title: null, language: 'typescript', contentHash: sha256(`f${file}`), size: 1, mtimeMs: 1, chunks };
      await writer.write([source]);
      written += chunks.length;
    }
    const writeSeconds = (performance.now() - t) / 1000;
    const writeCpu = cpuSince(cpu);
    log(`synthetic: wrote ${written} chunks in ${round(writeSeconds)} s`);
    t = performance.now();
    cpu = process.cpuUsage();
    await publishAll(store, synth.id, undefined, 1000);
    const synthPublishSeconds = (performance.now() - t) / 1000;
    const synthPublishCpu = cpuSince(cpu);
    log(`synthetic: published in ${round(synthPublishSeconds)} s (${round(synthPublishCpu)} CPU s)`);

    // Queries: a few identifiers and words from sampled chunks.
    const queries = sample.slice(0, 100).map((c) => {
      const words = c.match(/[A-Za-z_][A-Za-z0-9_]{3,}/g) ?? ['function'];
      const at = Math.floor(rand() * Math.max(1, words.length - 3));
      return words.slice(at, at + 3).join(' ');
    });
    const hybrid: number[] = [];
    cpu = process.cpuUsage();
    for (const q of queries) {
      const t0 = performance.now();
      await searchKnowledgeBase(store, holder, { root: synthRoot, query: q, limit: 10 });
      hybrid.push(performance.now() - t0);
    }
    const hybridCpu = cpuSince(cpu);
    // The path before the active model was kept in the database, as a baseline in the same run: every search
    // first read kb_status and $CAIRN_HOME/kb-state.json, then ran kb_search. Interleaved with the path of
    // today, so the machine's load weighs on both alike.
    const legacyState = join(home, 'kb-state.json');
    await writeFile(legacyState, JSON.stringify({ projects: { [synth.id]: { active: embedder.id } } }));
    const oneCall: number[] = [];
    const twoCalls: number[] = [];
    for (const q of queries) {
      let t0 = performance.now();
      await store.rpc('kb_status', { p_project_id: synth.id });
      JSON.parse(await readFile(legacyState, 'utf8'));
      await searchKnowledgeBase(store, holder, { root: synthRoot, query: q, limit: 10 });
      twoCalls.push(performance.now() - t0);
      t0 = performance.now();
      await searchKnowledgeBase(store, holder, { root: synthRoot, query: q, limit: 10 });
      oneCall.push(performance.now() - t0);
    }
    let hit = 0;
    const exactMs: number[] = [];
    for (const q of queries) {
      const v = vectorText(localHashEmbed(q));
      // The vector part alone: a query with no lexemes leaves only vector ranks, and no similarity floor (the
      // exact scan has none), so recall compares the index with the scan and nothing else.
      const ann = await store.rpc('kb_search', { p_project_id: synth.id, p_query: '', p_query_embedding: v, p_embedding_model: embedder.id, p_limit: 10, p_min_similarity: -1 });
      const t0 = performance.now();
      const exact = await store.asOwner(async (tx) =>
        (await tx.query<{ id: string }>(
          `select c.id from public.kb_chunks c where c.project_id = $1 and c.embedding_model = $2
           order by c.embedding::extensions.vector(384) operator(extensions.<=>) $3::extensions.vector(384) limit 10`,
          [synth.id, embedder.id, v],
        )).rows,
      );
      exactMs.push(performance.now() - t0);
      const got = new Set(ann.map((r) => r.chunk_id));
      hit += exact.filter((r) => got.has(r.id)).length;
    }

    // ---- chunker comparison -------------------------------------------------------------------------
    const sampleFiles = corpusFiles(config.maxFileBytes).filter((f) => /\.(d\.ts|js|cjs|mjs)$/.test(f)).slice(0, 300);
    const texts = await Promise.all(sampleFiles.map((f) => readFile(f, 'utf8')));
    t = performance.now();
    for (let i = 0; i < texts.length; i++) await chunkFile(sampleFiles[i]!, texts[i]!, 'typescript');
    const syntaxAwareMs = performance.now() - t;
    t = performance.now();
    for (const text of texts) chunkText(text, 'typescript');
    const lineAwareMs = performance.now() - t;
    const splitter = RecursiveCharacterTextSplitter.fromLanguage('js', { chunkSize: 1200, chunkOverlap: 0 });
    t = performance.now();
    for (const text of texts) await splitter.splitText(text);
    const langchainMs = performance.now() - t;

    return {
      name: 'kb',
      corpus: { files: corpus.files, bytes: corpus.bytes, chunks: cold.chunks },
      coldIndex: {
        seconds: cold.seconds,
        cpuSeconds: round(coldCpu, 2),
        filesPerSecond: round(cold.files / cold.seconds),
        chunksPerSecond: round(cold.chunks / cold.seconds),
        chunksPerCpuSecond: round(cold.chunks / coldCpu),
        publishSeconds: round(publishSeconds, 2),
        publishCpuSeconds: round(publishCpu, 2),
        publishChunksPerSecond: round(published / publishSeconds),
      },
      coldIndexLineChunker: {
        chunks: coldLines.chunks,
        seconds: coldLines.seconds,
        chunksPerSecond: round(coldLines.chunks / coldLines.seconds),
        chunksPerCpuSecond: round(coldLines.chunks / coldLinesCpu),
        syntaxOverLines: {
          chunksPerSecond: round(cold.chunks / cold.seconds / (coldLines.chunks / coldLines.seconds), 2),
          chunksPerCpuSecond: round(cold.chunks / coldCpu / (coldLines.chunks / coldLinesCpu), 2),
        },
      },
      noChangeReindex: { files: again.files, seconds: round(noChangeSeconds, 3), cpuSeconds: round(noChangeCpu, 3) },
      editedFileSearchableMs: { p50: pct(editMs, 0.5), max: round(Math.max(...editMs)) },
      synthetic: {
        chunks: written,
        writeChunksPerSecond: round(written / writeSeconds),
        writeChunksPerCpuSecond: round(written / writeCpu),
        publishSeconds: round(synthPublishSeconds, 1),
        publishCpuSeconds: round(synthPublishCpu, 1),
        hybridSearchMs: { p50: pct(hybrid, 0.5), p95: pct(hybrid, 0.95) },
        hybridSearchCpuMsPerQuery: round((hybridCpu * 1000) / queries.length, 2),
        oneCallSearchMs: { p50: pct(oneCall, 0.5), p95: pct(oneCall, 0.95) },
        twoCallSearchMs: { p50: pct(twoCalls, 0.5), p95: pct(twoCalls, 0.95) },
        oneOverTwoCallsP50: round(pct(oneCall, 0.5) / pct(twoCalls, 0.5), 2),
        vectorRecallAt10: round(hit / (queries.length * 10), 3),
        exactScanMs: { p50: pct(exactMs, 0.5), p95: pct(exactMs, 0.95) },
      },
      chunker: { files: texts.length, syntaxAwareMs: round(syntaxAwareMs), lineAwareMs: round(lineAwareMs), langchainMs: round(langchainMs) },
      targets: { coldChunksPerSecond: 1000, noChangeReindex10kFilesSeconds: 2, editedFileSearchableMs: 1000, hybridP95Ms: 50, recallAt10: 0.95 },
    };
  } finally {
    await store.close();
    await rm(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(JSON.stringify(r, null, 2));
  setTimeout(() => process.exit(0), 200).unref();
}
