/**
 * File access for agent tools, confined to one workspace folder by its path policy (`workspace/policy.ts`):
 * a path that is missing, ignored, a secret file, the daemon's data, or outside the folder (as written, through
 * `..`, as an absolute path or through a symlink) reads as a path that does not exist, to every tool alike.
 */
import { redactSecrets } from '../secrets/index.js';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { LineMatcher, MatchTimedOut } from './line-matcher.js';
import { DATA_DIR_MARKERS, PathPolicy, PathRefused, type PolicyOptions } from '../workspace/policy.js';

export { PathRefused };

/** How much worker time one `grep` call may spend matching the model's pattern. */
export const GREP_TIME_LIMIT_MS = 5_000;
/** `read_file` reads at most this much of a file to reach the lines asked for. */
export const READ_SCAN_BYTES = 64 * 1024 * 1024;
/** Below this size `read_file` reads to the end to say how many lines are left. */
const READ_COUNT_BYTES = 1024 * 1024;

export class Workspace {
  private constructor(
    /** The folder's path policy; its `root` is the folder's real path, the boundary every access is checked against. */
    readonly policy: PathPolicy,
  ) {}

  /** The workspace at `root` under the policy the indexer uses (the settings' excludes and allowlist, the daemon's home). */
  static async open(root: string, opts: PolicyOptions): Promise<Workspace> {
    return new Workspace(await PathPolicy.open(root, opts));
  }

  /** The folder as the client named it. */
  get root(): string {
    return this.policy.givenRoot;
  }

  /** Its real path. */
  get realRoot(): string {
    return this.policy.root;
  }

  /** The real absolute path of `p` (relative to the root, or absolute inside it), or PathRefused as for a missing path. */
  resolve(p: string): Promise<string> {
    return this.policy.resolve(p);
  }

  /** Workspace-relative form with forward slashes, as tools report paths. */
  rel(abs: string): string {
    return relative(this.realRoot, abs).split(sep).join('/') || '.';
  }

  /**
   * Walks files and folders under `dir` breadth-first, skipping what the policy hides and symlinks (which could
   * lead out of the workspace or loop). Stops after `max` entries.
   */
  async walk(dir: string, opts: { maxDepth: number; max: number }, visit: (abs: string, isDir: boolean, depth: number) => Promise<boolean | void>): Promise<boolean> {
    const queue: Array<[string, number]> = [[dir, 0]];
    let seen = 0;
    while (queue.length > 0) {
      const [current, depth] = queue.shift()!;
      let entries;
      try {
        entries = await readdir(current, { withFileTypes: true });
      } catch {
        continue;
      }
      // A folder holding some daemon's data (its lock, its discovery file, a Postgres data directory) is skipped whole.
      if (entries.some((e) => DATA_DIR_MARKERS.has(e.name))) continue;
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (e.isSymbolicLink()) continue;
        const abs = join(current, e.name);
        const rel = this.rel(abs);
        const isDir = e.isDirectory();
        if (await this.policy.hiddenHere(rel, isDir)) continue;
        if (++seen > opts.max) return true;
        if ((await visit(abs, isDir, depth)) === false) return true;
        if (isDir && depth + 1 < opts.maxDepth) queue.push([abs, depth + 1]);
      }
    }
    return false;
  }

  async listFiles(p: string, depth: number, max = 400): Promise<string> {
    const dir = await this.resolve(p);
    if (!(await stat(dir)).isDirectory()) throw new PathRefused(`Not a folder: ${p}`);
    const lines: string[] = [];
    const truncated = await this.walk(dir, { maxDepth: depth, max }, async (abs, isDir) => {
      lines.push(isDir ? `${this.rel(abs)}/` : this.rel(abs));
    });
    if (lines.length === 0) return `${this.rel(dir)}/ is empty.`;
    return lines.join('\n') + (truncated ? `\n… (stopped at ${max} entries; list a subfolder for more)` : '');
  }

  /**
   * Lines `startLine`..`endLine` (at most 400, at most `maxBytes` of output), read as a stream that stops after
   * the range: a few lines of a 400 MB file cost a few chunks, not the file. The rest of the file is counted
   * only up to `READ_SCAN_BYTES`, and no line is held longer than the output allows.
   */
  async readFile(p: string, startLine = 1, endLine?: number, maxBytes = 64 * 1024): Promise<string> {
    const abs = await this.resolve(p);
    const info = await lstat(abs);
    if (!info.isFile()) throw new PathRefused(`Not a file: ${p}`);
    const from = Math.max(1, startLine);
    const to = Math.max(from, endLine ?? from + 399);
    const stream = createReadStream(abs, { highWaterMark: 64 * 1024, end: READ_SCAN_BYTES - 1 });
    let lineNo = 1;
    let line: Buffer[] = [];
    let lineBytes = 0;
    let out = '';
    let last = from - 1;
    let full = false;
    let first = true;
    const emit = () => {
      if (lineNo >= from && lineNo <= to && !full) {
        const text = `${lineNo}\t${Buffer.concat(line).toString('utf8').replace(/\r$/, '')}\n`;
        if (out.length + text.length > maxBytes) full = true;
        else [out, last] = [out + text, lineNo];
      }
      line = [];
      lineBytes = 0;
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (first && chunk.subarray(0, 8000).includes(0)) return `${this.rel(abs)} is a binary file (${info.size} bytes).`;
        first = false;
        let at = 0;
        for (let nl = chunk.indexOf(10, at); ; nl = chunk.indexOf(10, at)) {
          const piece = chunk.subarray(at, nl === -1 ? chunk.length : nl);
          // Keep only what the output could still hold of a line in range.
          if (lineNo >= from && lineNo <= to && !full && lineBytes < maxBytes) {
            line.push(piece.subarray(0, maxBytes - lineBytes));
            lineBytes += Math.min(piece.length, maxBytes - lineBytes);
          }
          if (nl === -1) break;
          emit();
          lineNo++;
          at = nl + 1;
        }
        // Past the range of a large file: its length in lines is not worth reading it all.
        if ((lineNo > to || full) && info.size > READ_COUNT_BYTES) break;
      }
    } finally {
      stream.destroy();
    }
    const readAll = stream.bytesRead >= info.size;
    if (!readAll && last < from) return `${this.rel(abs)}: line ${from} is past the first ${READ_SCAN_BYTES / 2 ** 20} MiB, as far as read_file reads.`;
    // What follows the last newline is a line too (empty after a final newline), as `split` counts them.
    if (readAll) emit();
    const more = !readAll
      ? `\n… more lines follow; read from line ${last + 1}.`
      : last < lineNo
        ? `\n… ${lineNo - last} more lines; read from line ${last + 1}.`
        : '';
    return `${this.rel(abs)}:${from}-${last}\n${out}${more}`;
  }

  /**
   * Lines matching `pattern` (a regular expression, or literal text when it does not parse), bounded. The
   * pattern is the model's, so it runs in a `LineMatcher` worker: a backtracking pattern costs at most
   * `timeLimitMs` of a worker's time, never the event loop, and a cancelled reply stops it.
   */
  async grep(
    pattern: string,
    opts: { path?: string; ignoreCase?: boolean; maxResults?: number; maxFileBytes?: number; timeLimitMs?: number; signal?: AbortSignal } = {},
  ): Promise<string> {
    const flags = opts.ignoreCase ? 'i' : '';
    let re: RegExp;
    try {
      re = new RegExp(pattern, flags);
    } catch {
      re = new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags);
    }
    const max = opts.maxResults ?? 50;
    const maxFileBytes = opts.maxFileBytes ?? 1024 * 1024;
    const start = await this.resolve(opts.path ?? '.');
    const hits: string[] = [];
    const matcher = new LineMatcher(re, { timeLimitMs: opts.timeLimitMs ?? GREP_TIME_LIMIT_MS, signal: opts.signal });
    const scan = async (abs: string) => {
      const info = await stat(abs);
      if (info.size > maxFileBytes) return;
      const buf = await readFile(abs);
      if (buf.subarray(0, 8000).includes(0)) return;
      const raw = buf.toString('utf8');
      if ((await matcher.matchLines(raw, 1)).length === 0) return;
      // Matched on the file with its secrets redacted (no secret leaves the machine): a line of a PEM body or a key's half is
      // not recognisable once cut out of its file, so the whole file is scanned, then matched again.
      const text = redactSecrets(raw, { path: this.rel(abs) }).text;
      const found = await matcher.matchLines(text, max - hits.length);
      if (found.length === 0) return;
      const lines = text.split(/\r?\n/);
      for (const i of found) hits.push(`${this.rel(abs)}:${i + 1}: ${lines[i]!.trim().slice(0, 200)}`);
    };
    let stopped = '';
    try {
      if ((await stat(start)).isFile()) await scan(start);
      else {
        await this.walk(start, { maxDepth: 32, max: 20_000 }, async (abs, isDir) => {
          if (!isDir) await scan(abs);
          return hits.length < max;
        });
      }
    } catch (e) {
      if (!(e instanceof MatchTimedOut)) throw e;
      stopped = `grep stopped: ${e.message}.`;
    } finally {
      await matcher.close();
    }
    if (stopped) return hits.length === 0 ? stopped : `${hits.join('\n')}\n… ${stopped}`;
    if (hits.length === 0) return `No matches for /${re.source}/${flags}.`;
    return hits.join('\n') + (hits.length >= max ? `\n… stopped at ${max} matches; narrow the pattern or path.` : '');
  }
}
