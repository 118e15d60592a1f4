/**
 * The baselines `cairn eval` measures Cairn against, over the same files (Cairn's crawler) and the same
 * chunks (Cairn's chunker): minisearch's BM25 with identifier-aware terms (`parseHTTPResponse` is indexed as
 * the whole identifier and as `parse`, `http`, `response`), and the same with the file's path as a second,
 * boosted field.
 */
import MiniSearch from 'minisearch';
import { crawl, readTextFile, languageOf } from '../kb/crawl.js';
import { chunkFile, type Chunk } from '../kb/chunk.js';
import { identifierTokens } from '../kb/embed.js';
import { cleanText } from '../kb/indexer.js';

export interface CorpusChunk {
  path: string;
  chunk: Chunk;
}

/** Every chunk of every file Cairn would index under `root`, in crawl order. */
export async function corpusChunks(root: string, maxFileBytes: number): Promise<{ files: string[]; chunks: CorpusChunk[] }> {
  const crawled = await crawl(root, { excludes: [], maxFileBytes, dataDirs: [] });
  const files: string[] = [];
  const chunks: CorpusChunk[] = [];
  for (const f of crawled.files) {
    const r = await readTextFile(f.abs, maxFileBytes);
    if (r.kind !== 'text') continue;
    files.push(f.path);
    for (const chunk of await chunkFile(f.path, cleanText(r.text), languageOf(f.path))) chunks.push({ path: f.path, chunk });
  }
  return { files, chunks };
}

export interface BaselineOptions {
  /** Index the file path as a field of its own, with this boost; null: content only. */
  pathBoost: number | null;
}

/** The boost of the path field in the second baseline. */
export const PATH_BOOST = 2;

export class Bm25Baseline {
  private readonly index: MiniSearch<{ id: number; content: string; path: string }>;

  constructor(
    private readonly chunks: CorpusChunk[],
    private readonly opts: BaselineOptions,
  ) {
    const fields = opts.pathBoost === null ? ['content'] : ['content', 'path'];
    this.index = new MiniSearch({
      fields,
      storeFields: [],
      tokenize: (text) => identifierTokens(text),
      processTerm: (term) => term,
      searchOptions: {
        tokenize: (text) => identifierTokens(text),
        processTerm: (term) => term,
        ...(opts.pathBoost === null ? {} : { boost: { path: opts.pathBoost } }),
      },
    });
    this.index.addAll(chunks.map((c, id) => ({ id, content: c.chunk.content, path: c.path })));
  }

  /** Paths of the best `limit` chunks, best first. */
  search(query: string, limit: number): string[] {
    return this.index
      .search(query)
      .slice(0, limit)
      .map((r) => this.chunks[r.id as number]!.path);
  }
}
