/**
 * Knowledge beside the workspace files: documents (markdown, text, PDF), web pages and FAQ entries. They are
 * chunked and embedded like files and land in the same tables with kind document, url or faq, so one search
 * finds them all. Their text exists only in the database (a model switch re-embeds it from there).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute } from 'node:path';
import type { Store } from '../store/types.js';
import type { RuntimeConfig } from '../config.js';
import { chunkText, sha256 } from './chunk.js';
import { redactSecrets } from '../secrets/index.js';
import { looksBinary } from './crawl.js';
import { createEmbedder, embedderForModel, type Embedder } from './embed.js';
import { projectConfig } from '../workspace/gateway-config.js';
import { cleanText, SourceWriter, type PreparedSource, type StoredSource } from './indexer.js';
import { activeModel } from './state.js';

/** A bad document, URL or answer from a web server; the handler answers with its `code` (and `data`). */
export class KbInputError extends Error {
  constructor(
    readonly code: 'InvalidInput' | 'NotFound' | 'TooLarge' | 'ProviderError',
    message: string,
    readonly data?: Record<string, unknown>,
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
  redactions: number;
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

/** html-to-text (and its parser), loaded with the first HTML document rather than with every daemon. */
const loadHtmlToText = () => import('html-to-text').then((m) => m.htmlToText);

/** Readable text of an HTML page or file (links, images, navigation and scripts left out). */
async function htmlText(html: string): Promise<string> {
  const htmlToText = await loadHtmlToText();
  return htmlToText(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
    ],
  });
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

function prepared(kind: PreparedSource['kind'], uriIn: string, titleIn: string | null, text: string, language: string | null): PreparedSource {
  // Secrets are replaced before anything is chunked, embedded or stored: the text, the title and the URI
  // (a URL's `user:password@`, a document titled after its first line).
  const body = redactSecrets(cleanText(text));
  const uri = redactSecrets(uriIn).text;
  const title = titleIn === null ? null : redactSecrets(titleIn).text;
  const clean = body.text;
  const chunks = chunkText(clean, language);
  if (chunks.length === 0) throw new KbInputError('InvalidInput', `${uri} has no text to index`);
  return { kind, uri, title, language, contentHash: sha256(clean), size: Buffer.byteLength(clean), mtimeMs: 0, chunks, redactions: body.redactions };
}

export type DocumentFormat = 'markdown' | 'text' | 'html' | 'pdf';

/** The MIME type a document of each format is stored with (the kb-documents bucket allows exactly these). */
export const DOCUMENT_CONTENT_TYPES: Record<DocumentFormat, string> = {
  markdown: 'text/markdown',
  text: 'text/plain',
  html: 'text/html',
  pdf: 'application/pdf',
};

const FORMAT_BY_EXTENSION: Record<string, DocumentFormat> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
};

/** A document file read from disk, its format decided by its bytes (the extension only has to agree). */
export interface DocumentFile {
  name: string;
  bytes: Buffer;
  format: DocumentFormat;
  contentType: string;
}

function unsupported(message: string, detected: string): KbInputError {
  return new KbInputError('InvalidInput', message, { reason: 'unsupportedType', detected, allowed: ['markdown', 'text', 'html', 'pdf'] });
}

/**
 * The format of a document by its content: a PDF by its `%PDF-` signature, HTML by its markup, text when
 * it is not binary; a `.pdf` that is not a PDF, a PDF or binary under a text name, or an extension of another
 * kind of file is refused. `strict` (team uploads) also refuses names with no known extension.
 */
export function detectDocumentFormat(name: string, bytes: Buffer, opts: { declared?: DocumentFormat; strict?: boolean } = {}): DocumentFormat {
  const ext = extname(name).toLowerCase();
  const byName = opts.declared ?? FORMAT_BY_EXTENSION[ext];
  if (!byName && (opts.strict || ext === '.pdf')) throw unsupported(`${name}: only Markdown, text, HTML and PDF documents can be added (.md, .txt, .html, .pdf)`, ext || 'no extension');
  const isPdf = bytes.subarray(0, 5).toString('latin1') === '%PDF-';
  if (byName === 'pdf') {
    if (!isPdf) throw unsupported(`${name} is not a PDF (it does not start with %PDF-)`, 'not-pdf');
    return 'pdf';
  }
  if (isPdf) throw unsupported(`${name} is a PDF: name it .pdf`, 'pdf');
  if (looksBinary(bytes)) throw unsupported(`${name} is not text (give a .md, .txt, .html or .pdf file)`, 'binary');
  if (byName === 'html' || (!byName && /^\s*<(!doctype html|html)[\s>]/i.test(bytes.subarray(0, 512).toString('utf8')))) return 'html';
  return byName ?? 'text';
}

/** Reads a document file within `maxBytes`, its format checked by content. */
export async function readDocumentFile(path: string, maxBytes: number, opts: { declared?: DocumentFormat; strict?: boolean } = {}): Promise<DocumentFile> {
  if (!isAbsolute(path)) throw new KbInputError('InvalidInput', 'path must be absolute');
  const st = await stat(path).catch(() => null);
  if (!st || !st.isFile()) throw new KbInputError('NotFound', `no file at ${path}`);
  const name = basename(path);
  if (st.size > maxBytes) throw new KbInputError('TooLarge', `${name} is ${st.size} bytes, over the limit of ${maxBytes} bytes`, { limit: 'documentBytes', max: maxBytes, size: st.size });
  const bytes = await readFile(path);
  if (bytes.length > maxBytes) throw new KbInputError('TooLarge', `${name} is over the limit of ${maxBytes} bytes`, { limit: 'documentBytes', max: maxBytes });
  const format = detectDocumentFormat(name, bytes, opts);
  return { name, bytes, format, contentType: DOCUMENT_CONTENT_TYPES[format] };
}

/** The text of a document file, ready to chunk. */
export async function prepareDocumentFile(file: DocumentFile, uri: string, title?: string): Promise<PreparedSource> {
  let text: string;
  if (file.format === 'pdf') text = await pdfText(file.bytes);
  else if (file.format === 'html') text = await htmlText(file.bytes.toString('utf8'));
  else text = decodeText(file.bytes, file.name);
  return prepared('document', uri, title ?? file.name, text, file.format === 'markdown' ? 'markdown' : null);
}

export async function prepareDocument(params: { path?: string; text?: string; title?: string; format?: DocumentFormat }): Promise<PreparedSource> {
  if (params.path !== undefined) {
    const file = await readDocumentFile(params.path, MAX_DOCUMENT_BYTES, params.format ? { declared: params.format } : {});
    return prepareDocumentFile(file, `doc:${file.name}`, params.title);
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
    const htmlToText = await loadHtmlToText();
    pageTitle = htmlToText(html, { wordwrap: false, baseElements: { selectors: ['title'], returnDomByDefault: false } }).trim().slice(0, 300) || null;
    text = await htmlText(html);
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

export function prepareFaq(questionIn: string, answer: string): PreparedSource {
  // The URI is a slug of the question: redact first, so no fragment of a secret becomes part of it.
  const question = redactSecrets(questionIn).text;
  return prepared('faq', faqUri(question), question.trim(), `Q: ${question.trim()}\n\nA: ${answer.trim()}`, 'markdown');
}

/**
 * Writes a prepared source under the configured model and, during a model switch, under the model search
 * uses now, so it is findable at once.
 */
export async function addSource(store: Store, configIn: RuntimeConfig, projectId: string, source: PreparedSource, signal?: AbortSignal, embedder?: Embedder): Promise<AddedSource> {
  // A team project may be embedded through its team's model gateway (workspace/gateway-config.ts).
  const config = await projectConfig(store, configIn, projectId, signal);
  const primary = embedder ?? (await createEmbedder(config.embeddings, signal));
  const targets: Embedder[] = [primary];
  const active = await activeModel(store, projectId, signal);
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
  return { sourceId: id ?? '', uri: source.uri, kind: source.kind, title: source.title, chunks: source.chunks.length, model: primary.id, redactions: source.redactions ?? 0 };
}
