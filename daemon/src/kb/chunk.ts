/**
 * Splits text into chunks with 1-based inclusive line ranges, within a token budget.
 *
 * A line-aware splitter rather than `RecursiveCharacterTextSplitter.fromLanguage`: the LangChain splitter
 * returns bare strings, so line ranges would have to be recovered by searching the text again (ambiguous for
 * repeated code). Speed is no reason either way: on 300 corpus files bench/kb.bench.ts measured 32-71 ms for
 * LangChain's splitter against 43-44 ms for this one across two runs.
 * Code is cut preferably before a top-level declaration or at a blank line; markdown at headings first, then
 * at blank lines. A single line over the budget is cut into pieces, never dropped.
 */
import { createHash } from 'node:crypto';
import { boundaryRanks, chunkSymbols, definitionsOf, packLines } from './chunk-syntax.js';

export interface Chunk {
  ordinal: number;
  startLine: number;
  endLine: number;
  content: string;
  contentHash: string;
  tokenCount: number;
  /**
   * Qualified names of the definitions the chunk holds or sits inside, outermost first (`Subscriber`,
   * `Subscriber.next`), or the markdown headings above and in it. Absent for chunks of plain text.
   */
  symbols?: string[];
  /** Where the chunk is, for people: `class Subscriber > method next`, `# Guide > ## Install`. */
  scope?: string | null;
}

export interface ChunkOptions {
  /** Upper bound of tokens per chunk (cl100k-like tokens, estimated). */
  maxTokens?: number;
}

export const DEFAULT_MAX_TOKENS = 400;

/**
 * Cheap estimate of cl100k tokens, by character class: letters merge into tokens of 3-5, digits into tokens
 * of up to 3, punctuation is often a token of its own, whitespace mostly merges. Measured on the TypeScript
 * lib, LangChain, pg and markdown-it sources it overestimates by ~1.4x on average (chunks stay under budget
 * without running a tokenizer on every line).
 */
export function estimateTokens(text: string): number {
  let letters = 0;
  let digits = 0;
  let punct = 0;
  let space = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) other++;
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) letters++;
    else if (c >= 48 && c <= 57) digits++;
    else if (c === 32 || c === 9 || c === 10 || c === 13) space++;
    else punct++;
  }
  return Math.ceil(letters / 3.2 + digits / 2 + punct * 0.8 + space * 0.12 + other * 1.2);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const DECL =
  /^(export\s|import\s|(async\s+)?function[\s*]|class\s|interface\s|type\s+\w+\s*=|enum\s|const\s|let\s|var\s|def\s|async\s+def\s|fn\s|pub\s|impl\s|struct\s|trait\s|mod\s|func\s|package\s|public\s|private\s|protected\s|static\s|module\s|namespace\s|declare\s|@\w)/;

type Boundary = 'heading' | 'decl' | 'blank' | 'none';

function boundaryBefore(line: string, prevLine: string | undefined, language: string | null): Boundary {
  if (language === 'markdown') {
    if (/^#{1,6}\s/.test(line)) return 'heading';
  } else if (line.length > 0 && line.charCodeAt(0) !== 32 && line.charCodeAt(0) !== 9 && DECL.test(line)) {
    return 'decl';
  }
  if (prevLine !== undefined && prevLine.trim() === '') return 'blank';
  return 'none';
}

const RANK: Record<Boundary, number> = { heading: 3, decl: 2, blank: 1, none: 0 };

function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function chunkText(text: string, language: string | null, opts: ChunkOptions = {}): Chunk[] {
  const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  const lines = splitLines(text);
  const chunks: Chunk[] = [];
  const push = (startLine: number, endLine: number, content: string) => {
    if (content.trim() === '') return;
    chunks.push({ ordinal: chunks.length, startLine, endLine, content, contentHash: sha256(content), tokenCount: estimateTokens(content) });
  };

  const tokens = lines.map((l) => estimateTokens(l) + 1);
  let start = 0;
  while (start < lines.length) {
    const first = tokens[start]!;
    if (first > maxTokens) {
      splitLongLine(lines[start]!, start + 1, maxTokens, push);
      start++;
      continue;
    }
    // Grow the window up to the budget; then cut at the strongest boundary in its second half.
    let end = start;
    let budget = first;
    while (end + 1 < lines.length && budget + tokens[end + 1]! <= maxTokens) {
      end++;
      budget += tokens[end]!;
      // A heading always starts a new markdown section.
      if (language === 'markdown' && end + 1 < lines.length && /^#{1,6}\s/.test(lines[end + 1]!) && budget > maxTokens / 8) break;
    }
    if (end + 1 < lines.length && !(language === 'markdown' && /^#{1,6}\s/.test(lines[end + 1]!))) {
      let best = -1;
      let bestRank = 0;
      const half = start + Math.floor((end - start) / 2);
      for (let i = end; i > half; i--) {
        const r = RANK[boundaryBefore(lines[i]!, lines[i - 1], language)];
        if (r > bestRank) {
          bestRank = r;
          best = i;
          if (r >= 2) break;
        }
      }
      if (best > start) end = best - 1;
    }
    push(start + 1, end + 1, lines.slice(start, end + 1).join('\n'));
    start = end + 1;
  }
  return chunks;
}

function splitLongLine(line: string, lineNo: number, maxTokens: number, push: (s: number, e: number, c: string) => void): void {
  // Pieces sized by characters at the conservative rate; cut after whitespace or punctuation when one is near.
  const maxChars = Math.max(64, Math.floor(maxTokens / 1.2));
  let i = 0;
  while (i < line.length) {
    let j = Math.min(line.length, i + maxChars * 3);
    while (j > i + 1 && estimateTokens(line.slice(i, j)) > maxTokens) j = i + Math.floor((j - i) * 0.8);
    if (j < line.length) {
      const window = line.slice(i, j);
      const cut = Math.max(window.lastIndexOf(' '), window.lastIndexOf(','), window.lastIndexOf(';'));
      if (cut > window.length / 2) j = i + cut + 1;
    }
    push(lineNo, lineNo, line.slice(i, j));
    i = j;
  }
}

/**
 * The chunks of one workspace file, as the indexer stores them (and the eval's baselines index them): cut
 * along its definitions when a grammar knows the language (chunk-syntax.ts), by lines otherwise; markdown
 * chunks learn their headings.
 */
export async function chunkFile(path: string, text: string, language: string | null, opts: ChunkOptions = {}): Promise<Chunk[]> {
  const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  const lines = splitLines(text);
  // CAIRN_CHUNKER=lines: today's line chunker for every file (a way out, and the bench's baseline).
  const defs = process.env.CAIRN_CHUNKER === 'lines' ? null : await definitionsOf(path, text, lines);
  if (!defs || defs.length === 0) {
    const chunks = chunkText(text, language, opts);
    if (language === 'markdown') addHeadings(chunks, lines);
    return chunks;
  }
  const chunks: Chunk[] = [];
  const push = (startLine: number, endLine: number, content: string) => {
    if (content.trim() === '') return;
    const { symbols, scope } = chunkSymbols(defs, startLine - 1, endLine - 1);
    chunks.push({ ordinal: chunks.length, startLine, endLine, content, contentHash: sha256(content), tokenCount: estimateTokens(content), symbols, scope });
  };
  const tokens = lines.map((l) => estimateTokens(l) + 1);
  packLines(
    lines,
    tokens,
    boundaryRanks(lines, defs),
    maxTokens,
    (s, e) => push(s + 1, e + 1, lines.slice(s, e + 1).join('\n')),
    (i) => splitLongLine(lines[i]!, i + 1, maxTokens, push),
  );
  return chunks;
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;

/** Markdown: each chunk's scope is the chain of headings above its first line; its symbols add those inside it. */
function addHeadings(chunks: Chunk[], lines: string[]): void {
  const stack: { level: number; text: string }[] = [];
  let line = 0;
  let fence = false;
  const advance = (to: number) => {
    for (; line < to; line++) {
      const l = lines[line]!;
      if (/^\s*(```|~~~)/.test(l)) fence = !fence;
      const m = fence ? null : HEADING.exec(l);
      if (!m) continue;
      const level = m[1]!.length;
      while (stack.length && stack[stack.length - 1]!.level >= level) stack.pop();
      stack.push({ level, text: m[2]! });
    }
  };
  for (const c of chunks) {
    advance(c.startLine);
    const outer = stack.map((h) => h.text);
    c.scope = stack.length ? stack.map((h) => `${'#'.repeat(h.level)} ${h.text}`).join(' > ') : null;
    advance(c.endLine);
    const inner = stack.map((h) => h.text).filter((t) => !outer.includes(t));
    c.symbols = [...outer, ...inner].slice(0, 24);
  }
}
