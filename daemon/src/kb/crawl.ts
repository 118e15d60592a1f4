/**
 * Walks a workspace folder and lists the files worth indexing. What is left out (ignore rules, secret files,
 * the daemon's data) is the path policy's decision (`workspace/policy.ts`), the same the agent's tools obey;
 * a symlink is judged both by its own path and by its target's. Never leaves the workspace: a symlink whose
 * real path is outside the root is counted and skipped, and a directory reached twice (a symlink loop) is
 * walked once.
 */
import { statSync, type Stats } from 'node:fs';
import { lstat, readdir, realpath, stat, open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { join, relative, sep } from 'node:path';
import { DATA_DIR_MARKERS, PathPolicy, insideDataDir, insideRoot, realDataDirs, type HiddenReason, type PolicyOptions } from '../workspace/policy.js';

export interface CrawledFile {
  /** Workspace-relative POSIX path. */
  path: string;
  abs: string;
  size: number;
  mtimeMs: number;
  /** On the secret allowlist (`cairn.secrets.allow`, `!secret-allow:`): indexed without redaction. */
  secretsAllowed?: boolean;
}

export interface SkipCounts {
  binary: number;
  tooLarge: number;
  ignored: number;
  unreadable: number;
  outsideWorkspace: number;
  symlinkLoop: number;
  invalidUtf8: number;
  embedFailed: number;
  writeFailed: number;
  /** Secret files (`.env*`, `*.pem`, `id_rsa`, …) left out by the path policy; named, so the user can allow one. */
  secretFile: number;
}

export function emptySkips(): SkipCounts {
  return { binary: 0, tooLarge: 0, ignored: 0, unreadable: 0, outsideWorkspace: 0, symlinkLoop: 0, invalidUtf8: 0, embedFailed: 0, writeFailed: 0, secretFile: 0 };
}

/** Why a file was left out, as the user reads it next to its path (ignored files are by choice, not listed). */
export type SkipReason = Exclude<keyof SkipCounts, 'ignored' | 'invalidUtf8'>;

export interface SkippedFile {
  /** Workspace-relative POSIX path. */
  path: string;
  reason: SkipReason;
}

/** At most this many skipped files are named; the counts stay exact. */
export const MAX_SKIPPED_FILES = 200;

/** Counts a skipped file and names it, up to MAX_SKIPPED_FILES. */
export function noteSkip(skipped: SkipCounts, list: SkippedFile[], path: string, reason: SkipReason): void {
  skipped[reason]++;
  if (list.length < MAX_SKIPPED_FILES) list.push({ path: toPosix(path), reason });
}

export interface CrawlResult {
  root: string;
  files: CrawledFile[];
  skipped: SkipCounts;
  /** The skipped files by name (up to MAX_SKIPPED_FILES), except ignored ones. */
  skippedFiles: SkippedFile[];
}

/** The path policy's options (excludes, the daemon's data, the secret allowlist) and the crawl's own. */
export interface CrawlOptions extends PolicyOptions {
  maxFileBytes: number;
  signal?: AbortSignal;
}

/** Extensions that are never text; skipping them by name saves reading them. */
const BINARY_EXT = new Set(
  'png jpg jpeg gif bmp ico webp avif tif tiff psd zip gz tgz bz2 xz 7z rar jar war ear class so dylib dll exe bin o a lib obj wasm pdf doc docx xls xlsx ppt pptx odt mp3 mp4 m4a wav ogg flac mov avi mkv webm ttf otf woff woff2 eot pyc pyo node sqlite db iso dmg pack idx'.split(' '),
);

function extOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

export function isBinaryByName(path: string): boolean {
  return BINARY_EXT.has(extOf(path));
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

export async function crawl(rootIn: string, opts: CrawlOptions): Promise<CrawlResult> {
  const root = await realpath(rootIn);
  const policy = new PathPolicy(root, opts);
  const dataDirs = realDataDirs(opts.dataDirs, root);
  const skipped = emptySkips();
  const skippedFiles: SkippedFile[] = [];
  const skip = (path: string, reason: SkipReason) => noteSkip(skipped, skippedFiles, path, reason);
  /** Counts a path the policy hides (secret files by name, the rest as ignored); true when it is hidden. */
  const leftOut = (path: string, why: HiddenReason | null): boolean => {
    if (why === 'secretFile') skip(path, 'secretFile');
    else if (why) skipped.ignored++;
    return why !== null;
  };
  const files: CrawledFile[] = [];
  if (insideDataDir(dataDirs, root)) {
    skipped.ignored++;
    return { root, files, skipped, skippedFiles };
  }
  const visitedDirs = new Set<string>([root]);
  const queue: string[] = [''];
  // Directories reached through a symlink are walked after every real directory, so the same content is
  // always found under its real path first, whatever order the file system answers in.
  const linkQueue: string[] = [];

  while (queue.length || linkQueue.length) {
    opts.signal?.throwIfAborted();
    const fromLink = queue.length === 0;
    const dirRel = fromLink ? linkQueue.shift()! : queue.shift()!;
    const dirAbs = dirRel ? join(root, dirRel) : root;
    if (fromLink) {
      const real = await realpath(dirAbs).catch(() => null);
      if (!real || visitedDirs.has(real)) {
        skip(dirRel, 'symlinkLoop');
        continue;
      }
      visitedDirs.add(real);
    }
    let entries;
    try {
      entries = await readdir(dirAbs, { withFileTypes: true });
    } catch {
      skip(dirRel || '.', 'unreadable');
      continue;
    }
    if (entries.some((e) => DATA_DIR_MARKERS.has(e.name))) {
      skipped.ignored++;
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const candidates: { rel: string; abs: string }[] = [];
    // Directories and links one by one (the visited set must be consulted in a fixed order); files in parallel.
    for (const ent of entries) {
      const rel = dirRel ? `${dirRel}/${ent.name}` : ent.name;
      const abs = join(dirAbs, ent.name);
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      const isLink = ent.isSymbolicLink();
      if (isLink) {
        const real = await realpath(abs).catch(() => null);
        if (!real) {
          // Dangling, or a loop the OS refuses to resolve (ELOOP).
          skip(rel, 'symlinkLoop');
          continue;
        }
        if (!insideRoot(root, real)) {
          skip(rel, 'outsideWorkspace');
          continue;
        }
        if (insideDataDir(dataDirs, real)) {
          skipped.ignored++;
          continue;
        }
        const st = await stat(real).catch(() => null);
        if (!st) {
          skip(rel, 'unreadable');
          continue;
        }
        isDir = st.isDirectory();
        isFile = st.isFile();
        // A link to a hidden file (`config -> .env`, `out -> build/`) is as hidden as its target.
        const target = relative(root, real).split(sep).join('/');
        if (leftOut(rel, target === '' ? null : await policy.hidden(target, isDir))) continue;
      }
      if (!isDir && !isFile) continue;
      if (leftOut(rel, await policy.hiddenHere(rel, isDir))) continue;
      if (isDir) {
        const real = await realpath(abs).catch(() => null);
        if (!real || visitedDirs.has(real)) {
          skip(rel, 'symlinkLoop');
          continue;
        }
        if (isLink) {
          linkQueue.push(rel);
        } else {
          visitedDirs.add(real);
          queue.push(rel);
        }
        continue;
      }
      if (isBinaryByName(rel)) {
        skip(rel, 'binary');
        continue;
      }
      candidates.push({ rel, abs });
    }
    await Promise.all(
      candidates.map(async ({ rel, abs }) => {
        const st = statFile(abs);
        if (!st) {
          skip(rel, 'unreadable');
          return;
        }
        if (st.size > opts.maxFileBytes) {
          skip(rel, 'tooLarge');
          return;
        }
        const path = toPosix(rel);
        files.push({ path, abs, size: st.size, mtimeMs: Math.trunc(st.mtimeMs), ...((await policy.secretAllowed(path)) ? { secretsAllowed: true } : {}) });
      }),
    );
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  skippedFiles.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, files, skipped, skippedFiles };
}

export type ReadOutcome =
  | { kind: 'text'; text: string; bytes: Buffer; invalidUtf8: boolean }
  | { kind: 'binary' }
  | { kind: 'tooLarge' }
  | { kind: 'unreadable'; message: string };

const SNIFF_BYTES = 8192;

/** NUL bytes, or many control characters, in the first 8 KiB mean binary (the heuristic git uses, widened). */
export function looksBinary(buf: Buffer): boolean {
  const n = Math.min(buf.length, SNIFF_BYTES);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[i]!;
    if (b === 0) return true;
    if (b < 7 || (b > 13 && b < 32 && b !== 27)) control++;
  }
  return n > 0 && control / n > 0.1;
}

/** Reads a file for indexing; decodes invalid UTF-8 with U+FFFD and says so. */
export async function readTextFile(abs: string, maxBytes: number): Promise<ReadOutcome> {
  let bytes: Buffer;
  try {
    const h = await open(abs, 'r');
    try {
      const st = await h.stat();
      if (st.size > maxBytes) return { kind: 'tooLarge' };
      bytes = await h.readFile();
    } finally {
      await h.close();
    }
  } catch (e) {
    return { kind: 'unreadable', message: (e as NodeJS.ErrnoException).code ?? 'read failed' };
  }
  if (bytes.length > maxBytes) return { kind: 'tooLarge' };
  if (looksBinary(bytes)) return { kind: 'binary' };
  const valid = isUtf8(bytes);
  // Strip a UTF-8 byte-order mark; it is not content.
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return { kind: 'text', text: bytes.toString('utf8', start), bytes, invalidUtf8: !valid };
}

/** Stat of one workspace path, or null when it is gone or not a regular file. Follows no link outside the root. */
/**
 * A file's size and time, or null when it cannot be read. Synchronous on purpose: a stat of a cached entry
 * is microseconds, while the promise form's round trip through libuv's pool cost 3-4x more per file (a no-change
 * re-index is mostly these stats); one folder's files at a time keeps the event loop free.
 */
function statFile(abs: string): Stats | null {
  try {
    return statSync(abs, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

export async function statInside(root: string, rel: string): Promise<CrawledFile | null> {
  const abs = join(root, rel);
  const l = await lstat(abs).catch(() => null);
  if (!l) return null;
  if (l.isSymbolicLink()) {
    const real = await realpath(abs).catch(() => null);
    if (!real || !insideRoot(root, real)) return null;
  }
  const st = await stat(abs).catch(() => null);
  if (!st || !st.isFile()) return null;
  return { path: rel, abs, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
}

const LANGUAGES: Record<string, string> = {
  ts: 'typescript', tsx: 'typescript', mts: 'typescript', cts: 'typescript',
  js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  py: 'python', rb: 'ruby', go: 'go', rs: 'rust', java: 'java', kt: 'kotlin', kts: 'kotlin', scala: 'scala',
  c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', cxx: 'cpp', hpp: 'cpp', hh: 'cpp', cs: 'csharp', swift: 'swift',
  php: 'php', lua: 'lua', sh: 'shell', bash: 'shell', zsh: 'shell', ps1: 'powershell', sql: 'sql',
  md: 'markdown', markdown: 'markdown', mdx: 'markdown', rst: 'rst', txt: 'text',
  html: 'html', htm: 'html', css: 'css', scss: 'scss', less: 'less', vue: 'vue', svelte: 'svelte',
  json: 'json', jsonc: 'json', yaml: 'yaml', yml: 'yaml', toml: 'toml', xml: 'xml', proto: 'protobuf',
  sol: 'solidity', ex: 'elixir', exs: 'elixir', erl: 'erlang', hs: 'haskell', ml: 'ocaml', clj: 'clojure',
  dart: 'dart', r: 'r', jl: 'julia', tf: 'terraform', gradle: 'groovy', groovy: 'groovy',
};

export function languageOf(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (base === 'dockerfile') return 'dockerfile';
  if (base === 'makefile') return 'makefile';
  return LANGUAGES[extOf(path)] ?? null;
}
