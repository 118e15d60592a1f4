/**
 * Which paths of a workspace folder may leave the machine, decided in one place. The indexer (crawl, watcher),
 * the agent's file tools (read_file, list_files, grep), `workspace/readFile` and through it the MCP tools all
 * ask a `PathPolicy`, so a file the index leaves out is one no tool can list, search or read.
 *
 * A path is hidden when it is
 * - ignored: `.git`, `node_modules`, the settings' excludes, nested `.gitignore` and `.cairnignore` rules;
 * - a secret file (`isSecretFileName`: `.env*`, `*.pem`, `id_rsa`, `.npmrc`, …) not on the allowlist;
 * - the daemon's own data (`$CAIRN_HOME`, or any folder holding a daemon's lock or discovery file or a
 *   Postgres data directory);
 * - outside the folder, as written or after following symlinks.
 *
 * To a tool a hidden path is exactly a path that does not exist: same error, same wording, so nothing learns
 * that `.env` is there. The allowlist (setting `cairn.secrets.allow`, and `!secret-allow: <glob>` lines in a
 * `.cairnignore`) lifts only the secret rules (file names here, content redaction in `secrets/`), never an
 * ignore rule: a committed allow line cannot expose a file that `.gitignore` keeps out.
 */
import { access, readFile, realpath, stat } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { DISCOVERY_FILE, LOCK_FILE } from '../protocol/client/discovery.js';
import type { RuntimeConfig } from '../config.js';
import { isSecretFileName } from '../secrets/index.js';

export interface PolicyOptions {
  /** Extra exclude globs (gitignore syntax), from the settings (`cairn.index.exclude`). */
  excludes: readonly string[];
  /** The daemon's own data folders (`$CAIRN_HOME`): hidden, whatever the ignore files say. */
  dataDirs: readonly string[];
  /** Globs (gitignore syntax, workspace-relative) of files the secret rules must leave alone (`cairn.secrets.allow`). */
  secretsAllow?: readonly string[];
}

/** The policy's options from the daemon's runtime config and home: what every caller passes. */
export function policyOptions(config: Pick<RuntimeConfig, 'excludes' | 'secretsAllow'>, home: string): PolicyOptions {
  return { excludes: config.excludes, secretsAllow: config.secretsAllow, dataDirs: [home] };
}

/** Why a path is hidden. Only for the daemon's own accounting (skip counts, logs): a tool never sees it. */
export type HiddenReason = 'ignored' | 'secretFile' | 'daemonData' | 'outside';

/** A path a tool may not use: missing, or hidden. The message is the same for both. */
export class PathRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathRefused';
  }
}

/** What every tool answers for a path that is missing or hidden. */
export function noSuchPath(requested: string): PathRefused {
  return new PathRefused(`No such file or folder in the workspace: ${requested}`);
}

/** `!secret-allow: <glob>` in a `.cairnignore`: the file may hold what looks like a secret. */
const ALLOW_LINE = /^!secret-allow:\s*(.+?)\s*$/;

/** Always hidden, in every folder. */
const ALWAYS_EXCLUDED = ['.git', 'node_modules'];

/**
 * Files that mark a folder as some daemon's data (a Cairn home's lock and discovery file, which holds the live
 * token; a Postgres data directory): hidden wherever it is, not only this daemon's.
 */
export const DATA_DIR_MARKERS: ReadonlySet<string> = new Set([LOCK_FILE, DISCOVERY_FILE, 'PG_VERSION']);

/** True when `real` is the root or inside it. */
export function insideRoot(realRoot: string, real: string): boolean {
  if (real === realRoot) return true;
  const rel = relative(realRoot, real);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel) && !/^[a-zA-Z]:/.test(rel);
}

/** `abs` relative to `root` in POSIX form ('' for the root), or null when it is outside. */
function relInside(root: string, abs: string): string | null {
  if (!insideRoot(root, abs)) return null;
  return relative(root, abs).split(sep).join('/');
}

/**
 * Real paths of the daemon's data folders that guard `realRoot`. A folder that holds the root (a test
 * workspace inside a temporary `$CAIRN_HOME`) guards nothing inside the root: what must never be reached is the
 * data beside it, and nothing here leaves the root.
 */
export function realDataDirs(dirs: readonly string[], realRoot: string): string[] {
  return dirs
    .map((d) => {
      try {
        return realpathSync.native(d);
      } catch {
        return resolve(d);
      }
    })
    .filter((d) => d === realRoot || !insideRoot(d, realRoot));
}

/** True when `abs` is one of the daemon's data folders or inside one. */
export function insideDataDir(realDirs: readonly string[], abs: string): boolean {
  return realDirs.some((d) => insideRoot(d, abs));
}

/** The most `**` segments a rule keeps; each one more multiplies the matcher's backtracking by the path's depth. */
const MAX_GLOBSTARS = 2;

/**
 * One ignore file's text with every rule made cheap to match. The `ignore` package matches with backtracking
 * regular expressions, and a crafted rule (`a/`, ten `**` segments, `/b`) costs exponential time in a path's
 * depth; a cloned repository is untrusted input. Runs of `**` segments collapse to one, which changes nothing.
 * A rule still holding more than two is widened to its first part, one `**` and its last part (it ignores at
 * least what it did) or, when it un-ignores (`!`), dropped: taming never indexes a file its rules leave out.
 */
export function tameIgnoreRules(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => {
      if (!line.includes('**')) return line;
      const segments = line.split('/').filter((seg, i, all) => !(seg === '**' && all[i - 1] === '**'));
      const stars = segments.flatMap((seg, i) => (seg === '**' || seg === '!**' ? [i] : []));
      if (stars.length <= MAX_GLOBSTARS) return segments.join('/');
      if (line.startsWith('!')) return '';
      return [...segments.slice(0, stars[0]!), '**', ...segments.slice(stars[stars.length - 1]! + 1)].join('/');
    })
    .join('\n');
}

interface DirRules {
  /** The folder's `.gitignore` and `.cairnignore` rules. */
  ignore: Ignore | null;
  /** Its `.cairnignore`'s `!secret-allow:` globs, relative to the folder. */
  allow: Ignore | null;
}

/**
 * The policy of one workspace folder. Per-folder rules are read lazily and cached, so the crawler, the watcher
 * and the tools ask the same question the same way; `invalidate` forgets a folder whose rules changed.
 */
export class PathPolicy {
  private readonly perDir = new Map<string, Promise<DirRules>>();
  private readonly base: Ignore;
  private readonly settingsAllow: Ignore;
  private readonly dataDirs: string[];

  constructor(
    /** The folder (its real path when it came from `open`); every `rel` is relative to it. */
    readonly root: string,
    opts: PolicyOptions,
    /** The folder as a client named it, when that differs from `root` (a symlinked folder). */
    readonly givenRoot: string = root,
  ) {
    this.base = ignore().add(ALWAYS_EXCLUDED).add(opts.excludes.map(tameIgnoreRules));
    this.settingsAllow = ignore().add((opts.secretsAllow ?? []).map(tameIgnoreRules));
    this.dataDirs = realDataDirs(opts.dataDirs, root);
  }

  /** The policy of `root` at its real path; throws (ENOENT) when the folder does not exist. */
  static async open(root: string, opts: PolicyOptions): Promise<PathPolicy> {
    const given = resolve(root);
    return new PathPolicy(await realpath(given), opts, given);
  }

  /** Forget a folder's rules (its .gitignore or .cairnignore changed). */
  invalidate(dirRel: string): void {
    this.perDir.delete(dirRel);
  }

  private rulesOf(dirRel: string): Promise<DirRules> {
    let p = this.perDir.get(dirRel);
    if (!p) {
      p = (async () => {
        const dir = dirRel ? join(this.root, dirRel) : this.root;
        const [git, cairn] = await Promise.all(['.gitignore', '.cairnignore'].map((n) => readFile(join(dir, n), 'utf8').catch(() => null)));
        const allowGlobs: string[] = [];
        const cairnRules = (cairn ?? '')
          .split(/\r?\n/)
          .filter((line) => {
            const m = ALLOW_LINE.exec(line);
            if (m) allowGlobs.push(m[1]!);
            return !m;
          })
          .join('\n');
        const present = [git, cairn === null ? null : cairnRules].filter((t): t is string => t !== null);
        return {
          ignore: present.length ? ignore().add(tameIgnoreRules(present.join('\n'))) : null,
          allow: allowGlobs.length ? ignore().add(allowGlobs.map(tameIgnoreRules)) : null,
        };
      })();
      this.perDir.set(dirRel, p);
    }
    return p;
  }

  /** Whether the allowlist (settings, or a `.cairnignore` on the way to the file) lifts the secret rules for `rel`. */
  async secretAllowed(rel: string): Promise<boolean> {
    if (this.settingsAllow.ignores(rel)) return true;
    const parts = rel.split('/');
    for (let depth = 0; depth < parts.length; depth++) {
      const { allow } = await this.rulesOf(parts.slice(0, depth).join('/'));
      if (allow?.ignores(parts.slice(depth).join('/'))) return true;
    }
    return false;
  }

  /**
   * Why `rel` (POSIX, relative to the root) is hidden, given that its parent folders are not; null when it is
   * visible. Rules of the root apply first, deeper folders' rules override them (git's precedence).
   */
  async hiddenHere(rel: string, isDir: boolean): Promise<HiddenReason | null> {
    const probe = isDir ? `${rel}/` : rel;
    if (this.base.ignores(probe)) return 'ignored';
    if (insideDataDir(this.dataDirs, join(this.root, rel))) return 'daemonData';
    const parts = rel.split('/');
    let ignored = false;
    for (let depth = 0; depth < parts.length; depth++) {
      const rules = (await this.rulesOf(parts.slice(0, depth).join('/'))).ignore;
      if (!rules) continue;
      const sub = parts.slice(depth).join('/');
      const r = rules.test(isDir ? `${sub}/` : sub);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    if (ignored) return 'ignored';
    if (!isDir && isSecretFileName(rel) && !(await this.secretAllowed(rel))) return 'secretFile';
    return null;
  }

  /** Why `rel` or any of its parent folders is hidden, or null. */
  async hidden(rel: string, isDir = false): Promise<HiddenReason | null> {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const why = await this.hiddenHere(parts.slice(0, i).join('/'), true);
      if (why) return why;
    }
    return this.hiddenHere(rel, isDir);
  }

  /** True when a folder on the way from the root to `rel` (itself included) holds some daemon's data. */
  private async underDataMarker(rel: string): Promise<boolean> {
    const parts = rel === '' ? [] : rel.split('/');
    for (let i = 0; i <= parts.length; i++) {
      const dir = join(this.root, ...parts.slice(0, i));
      for (const marker of DATA_DIR_MARKERS) {
        if (await access(join(dir, marker)).then(() => true, () => false)) return true;
      }
    }
    return false;
  }

  /**
   * The real absolute path of a path a tool asked for (relative to the folder, or absolute inside it), or
   * `noSuchPath` when it is missing or hidden, as written or where its symlinks lead: `..` out, an absolute
   * path elsewhere, a symlink to a hidden file or out of the folder, an ignored or secret file all read as a
   * path that does not exist.
   */
  async resolve(requested: string): Promise<string> {
    const missing = () => noSuchPath(requested);
    if (requested.includes('\0')) throw missing();
    const candidate = isAbsolute(requested) ? resolve(requested) : resolve(this.root, requested);
    const lexical = relInside(this.root, candidate) ?? relInside(this.givenRoot, candidate);
    if (lexical === null) throw missing();
    const real = await realpath(candidate).catch(() => null);
    const realRel = real === null ? null : relInside(this.root, real);
    if (real === null || realRel === null) throw missing();
    const info = await stat(real).catch(() => null);
    if (!info) throw missing();
    const isDir = info.isDirectory();
    for (const rel of new Set([lexical, realRel])) {
      if (rel !== '' && (await this.hidden(rel, isDir))) throw missing();
    }
    if (insideDataDir(this.dataDirs, real) || (await this.underDataMarker(realRel))) throw missing();
    return real;
  }
}
