/**
 * Knowledge beside the workspace files: documents (markdown, text, PDF), web pages and FAQ entries. They are
 * chunked and embedded like files and land in the same tables with kind document, url or faq, so one search
 * finds them all. Their text exists only in the database (a model switch re-embeds it from there).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute } from 'node:path';
import { htmlToText } from 'html-to-text';
import type { Store } from '../store/types.js';
import type { RuntimeConfig } from '../config.js';
import { chunkText, sha256 } from './chunk.js';
import { looksBinary } from './crawl.js';
import { createEmbedder, embedderForModel, type Embedder } from './embed.js';
import { cleanText, SourceWriter, type PreparedSource, type StoredSource } from './indexer.js';
import { activeModel } from './state.js';

/** A bad document, URL or answer from a web server; the handler answers with its `code`. */
export class KbInputError extends Error {
  constructor(
    readonly code: 'InvalidInput' | 'NotFound' | 'TooLarge' | 'ProviderError',
    message: string,
  ) {
    super(message);
    this.name = 'KbInputError';
  }
}

export const MAX_DOCUMENT_BYTES = 25 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 20_000;

export interface AddedSource {
  sourceId: string;
  uri: string;
  kind: PreparedSource['kind'];
  title: string | null;
  chunks: number;
  model: string;
}

async function pdfText(bytes: Uint8Array): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pdf;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes));
  } catch (e) {
    throw new KbInputError('InvalidInput', `not a readable PDF: ${(e as Error).message}`);
  }
  const { text } = await extractText(pdf, { mergePages: false });
  return text.join('\n\n');
}

function decodeText(bytes: Buffer, what: string): string {
  if (looksBinary(bytes)) throw new KbInputError('InvalidInput', `${what} is not text (give a .md, .txt or .pdf file)`);
  // Invalid UTF-8 becomes U+FFFD rather than a refusal: the rest of the document is still worth having.
  return bytes.toString('utf8');
}

export function faqUri(question: string): string {
  const slug = question
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `faq:${slug || sha256(question).slice(0, 12)}`;
}

function prepared(kind: PreparedSource['kind'], uri: string, title: string | null, text: string, language: string | null): PreparedSource {
  const clean = cleanText(text);
  const chunks = chunkText(clean, language);
  if (chunks.length === 0) throw new KbInputError('InvalidInput', `${uri} has no text to index`);
  return { kind, uri, title, language, contentHash: sha256(clean), size: Buffer.byteLength(clean), mtimeMs: 0, chunks };
}

export async function prepareDocument(params: { path?: string; text?: string; title?: string; format?: 'markdown' | 'text' | 'pdf' }): Promise<PreparedSource> {
  if (params.path !== undefined) {
    if (!isAbsolute(params.path)) throw new KbInputError('InvalidInput', 'path must be absolute');
    const st = await stat(params.path).catch(() => null);
    if (!st || !st.isFile()) throw new KbInputError('NotFound', `no file at ${params.path}`);
    if (st.size > MAX_DOCUMENT_BYTES) throw new KbInputError('TooLarge', `${basename(params.path)} is over ${MAX_DOCUMENT_BYTES} bytes`);
    const bytes = await readFile(params.path);
    const ext = extname(params.path).toLowerCase();
    const format = params.format ?? (ext === '.pdf' ? 'pdf' : ext === '.md' || ext === '.markdown' ? 'markdown' : 'text');
    const name = basename(params.path);
    const text = format === 'pdf' ? await pdfText(bytes) : decodeText(bytes, name);
    return prepared('document', `doc:${name}`, params.title ?? name, text, format === 'markdown' ? 'markdown' : null);
  }
  const text = params.text ?? '';
  const title = params.title ?? text.split('\n', 1)[0]!.replace(/^#+\s*/, '').slice(0, 200);
  if (!title.trim()) throw new KbInputError('InvalidInput', 'inline text needs a title or a first line');
  return prepared('document', `doc:${title}`, title, text, params.format === 'markdown' ? 'markdown' : null);
}

export async function prepareUrl(url: string, title?: string, signal?: AbortSignal): Promise<PreparedSource> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'follow', headers: { accept: 'text/html, text/plain, text/markdown, application/pdf;q=0.9, */*;q=0.5' } });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new KbInputError('ProviderError', timeout.aborted ? `${url} did not answer within ${FETCH_TIMEOUT_MS / 1000} s` : `cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new KbInputError('ProviderError', `${url} answered HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_DOCUMENT_BYTES) throw new KbInputError('TooLarge', `${url} is over ${MAX_DOCUMENT_BYTES} bytes`);
  const bytes = await readBounded(res, MAX_DOCUMENT_BYTES, url);
  const type = (res.headers.get('content-type') ?? '').toLowerCase();
  let text: string;
  let pageTitle: string | null = null;
  let language: string | null = null;
  if (type.includes('pdf')) {
    text = await pdfText(bytes);
  } else if (type.includes('html') || /^\s*<(!doctype html|html)/i.test(bytes.subarray(0, 200).toString('utf8'))) {
    const html = bytes.toString('utf8');
    // The page is untrusted: its title comes from the same linear-time HTML parser as its text, never a regex.
    pageTitle = htmlToText(html, { wordwrap: false, baseElements: { selectors: ['title'], returnDomByDefault: false } }).trim().slice(0, 300) || null;
    text = htmlToText(html, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { ignoreHref: true } },
        { selector: 'img', format: 'skip' },
        { selector: 'nav', format: 'skip' },
        { selector: 'script', format: 'skip' },
        { selector: 'style', format: 'skip' },
      ],
    });
  } else {
    text = decodeText(bytes, url);
    if (type.includes('markdown') || /\.md$/i.test(new URL(url).pathname)) language = 'markdown';
  }
  return prepared('url', url, title ?? pageTitle ?? url, text, language);
}

/**
 * The body, read as it streams and abandoned the moment it passes `max` bytes: a server that sends no
 * Content-Length (or a false one) costs at most `max`, not whatever it streams.
 */
async function readBounded(res: Response, max: number, url: string): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) throw new KbInputError('TooLarge', `${url} is over ${max} bytes`);
      parts.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts, total);
}

export function prepareFaq(question: string, answer: string): PreparedSource {
  return prepared('faq', faqUri(question), question.trim(), `Q: ${question.trim()}\n\nA: ${answer.trim()}`, 'markdown');
}

/**
 * Writes a prepared source under the configured model and, during a model switch, under the model search
 * uses now, so it is findable at once.
 */
export async function addSource(store: Store, config: RuntimeConfig, projectId: string, source: PreparedSource, signal?: AbortSignal, embedder?: Embedder): Promise<AddedSource> {
  const primary = embedder ?? (await createEmbedder(config.embeddings, signal));
  const targets: Embedder[] = [primary];
  const active = await activeModel(store, config, projectId, signal);
  if (active && active !== primary.id) {
    const other = await embedderForModel(active, config, signal);
    if (other) targets.push(other);
  }
  let id: string | null = null;
  for (const e of targets) {
    const writer = new SourceWriter(store, projectId, e);
    const written = await writer.write([source], signal);
    const failure = writer.failures[0];
    if (written.length === 0) throw new KbInputError(failure?.kind === 'embed' ? 'ProviderError' : 'InvalidInput', failure?.message ?? 'nothing written');
    if (id === null) {
      const rows = await store.rpc('kb_list_sources', { p_project_id: projectId, p_embedding_model: e.id, p_kind: source.kind }, { signal });
      id = rows.find((r) => r.uri === source.uri)?.id ?? null;
    }
  }
  return { sourceId: id ?? '', uri: source.uri, kind: source.kind, title: source.title, chunks: source.chunks.length, model: primary.id };
}
