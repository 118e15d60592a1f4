/**
 * Re-indexes a workspace folder while the daemon runs: file-system events are debounced (quiet for
 * `debounceMs`, at most `maxWaitMs` after the first) and handled as one batch; while a batch runs, what
 * arrives meanwhile waits and becomes the next single batch (a `git checkout` of thousands of files is a few
 * batches, not one transaction per debounce window). A change to a `.gitignore` or `.cairnignore`, an event
 * without a file name, or a directory moved in runs a full incremental index instead (cheap: unchanged files
 * are skipped by stat).
 *
 * Watching: on Linux, Node's `fs.watch(root, { recursive: true })` (Node 20) puts an inotify watch on every
 * file and folder, `.git` and `node_modules` included, and stats each one synchronously: 100,000 files are
 * 100,000 watches of the user's shared limit (fs.inotify.max_user_watches) and seconds of a blocked event
 * loop. A folder's inotify watch already reports its files' changes, so there DirTree watches folders only,
 * never `.git`, `node_modules` or a folder the ignore rules hide. Elsewhere (macOS FSEvents, Windows) the
 * recursive watch is one native handle and is kept.
 */
import { lstatSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { join, sep } from 'node:path';
import type { Logger } from '../log/logger.js';
import { PathPolicy, policyOptions } from '../workspace/policy.js';
import { indexPaths, indexWorkspace, type IndexDeps } from './indexer.js';

export interface WatchOptions {
  debounceMs?: number;
  maxWaitMs?: number;
}

export interface WatchBatchResult {
  indexed: string[];
  deleted: string[];
  full: boolean;
}

/** Folders never watched nor indexed (PathPolicy's ALWAYS_EXCLUDED), dropped before any work. */
const NEVER_WATCHED = new Set(['.git', 'node_modules']);

/**
 * A recursive watch made of one non-recursive `fs.watch` per folder (see the file comment). Folders created
 * later are added when their creation is reported; removed ones are dropped; `prune` closes the watches of
 * folders the ignore rules hide.
 */
export class DirTree {
  private readonly dirs = new Map<string, FSWatcher>();
  private limitWarned = false;

  constructor(
    private readonly root: string,
    private readonly onEvent: (rel: string | null) => void,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.dirs.size;
  }

  /** Watches `rel` (a folder, '' for the root) and the folders under it, synchronously (folders only are read). */
  add(rel: string): void {
    const stack = [rel];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      if (this.dirs.has(dir) || !this.watchOne(dir)) continue;
      let entries;
      try {
        entries = readdirSync(dir ? join(this.root, dir) : this.root, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) if (e.isDirectory() && !NEVER_WATCHED.has(e.name)) stack.push(dir ? `${dir}/${e.name}` : e.name);
    }
  }

  private watchOne(dir: string): boolean {
    let w: FSWatcher;
    try {
      w = watch(dir ? join(this.root, dir) : this.root, { persistent: false }, (event, name) => {
        if (name === null) return this.onEvent(null);
        const base = typeof name === 'string' ? name : String(name);
        if (NEVER_WATCHED.has(base)) return;
        const rel = dir ? `${dir}/${base}` : base;
        this.onEvent(rel);
        // A folder created or moved in is watched from now on; a removed one is dropped.
        if (event === 'rename') this.renamed(rel);
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' && !this.limitWarned) {
        this.limitWarned = true;
        this.log.warn('kb watcher: the system limit of file watchers is reached; changes in some folders are picked up by the next index only', {
          root: this.root,
          watchedFolders: this.dirs.size,
          hint: 'raise fs.inotify.max_user_watches',
        });
      }
      return false;
    }
    w.on('error', () => this.drop(dir));
    this.dirs.set(dir, w);
    return true;
  }

  private renamed(rel: string): void {
    if (lstatSync(join(this.root, rel), { throwIfNoEntry: false })?.isDirectory()) this.add(rel);
    else if (this.dirs.has(rel)) this.drop(rel);
  }

  /** Stops watching `rel` and every folder under it. */
  drop(rel: string): void {
    for (const [dir, w] of this.dirs) {
      if (dir === rel || (rel === '' ? true : dir.startsWith(`${rel}/`))) {
        w.close();
        this.dirs.delete(dir);
      }
    }
  }

  /** Closes the watches of folders that `hidden` says are hidden (and of everything under them). */
  async prune(hidden: (rel: string) => Promise<boolean>): Promise<void> {
    for (const dir of [...this.dirs.keys()].sort()) {
      if (dir === '' || !this.dirs.has(dir)) continue;
      if (await hidden(dir)) this.drop(dir);
    }
  }

  close(): void {
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
  }
}

export class KbWatcher {
  private fsw: FSWatcher | null = null;
  private tree: DirTree | null = null;
  private busy = false;
  private pending = new Set<string>();
  private full = false;
  private timer: NodeJS.Timeout | null = null;
  private firstAt = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private policy: PathPolicy;

  constructor(
    readonly root: string,
    private readonly deps: () => IndexDeps,
    private readonly onBatch: (r: WatchBatchResult) => void,
    private readonly log: Logger,
    private readonly opts: WatchOptions = {},
  ) {
    this.policy = new PathPolicy(root, policyOptions(deps().config, deps().home));
  }

  start(): void {
    if (this.fsw || this.tree) return;
    if (process.platform === 'linux') {
      this.tree = new DirTree(this.root, (rel) => this.onEvent(rel), this.log);
      this.tree.add('');
      void this.pruneHidden();
      return;
    }
    this.fsw = watch(this.root, { recursive: true, persistent: false }, (_event, filename) => this.onEvent(filename));
    this.fsw.on('error', (e) => this.log.warn('kb watcher error', { root: this.root, error: (e as Error).message }));
  }

  get watching(): boolean {
    return this.fsw !== null || this.tree !== null;
  }

  /** Folders the linux watch covers (tests and the bench read it). */
  get watchedFolders(): number | null {
    return this.tree?.size ?? null;
  }

  /** Drops the watches of folders the ignore rules hide (after start, and after a rules change). */
  private async pruneHidden(): Promise<void> {
    const tree = this.tree;
    if (!tree) return;
    // New folders a rules change made visible are watched again first.
    tree.add('');
    const policy = this.policy;
    await tree.prune(async (rel) => (await policy.hidden(rel, true).catch(() => null)) !== null).catch((e) =>
      this.log.warn('kb watcher could not apply the ignore rules to its watches', { root: this.root, error: (e as Error).message }),
    );
  }

  private onEvent(filename: string | Buffer | null): void {
    if (this.abort.signal.aborted) return;
    if (filename === null) {
      this.full = true;
    } else {
      const rel = (typeof filename === 'string' ? filename : filename.toString('utf8')).split(sep).join('/');
      const first = rel.split('/', 1)[0];
      // The bulk of events in a busy repo; never indexed, so dropped before any work.
      if (first === '.git' || first === 'node_modules' || rel.includes('/node_modules/')) return;
      const base = rel.slice(rel.lastIndexOf('/') + 1);
      if (base === '.gitignore' || base === '.cairnignore') this.full = true;
      else this.pending.add(rel);
    }
    this.schedule();
  }

  /** Arms the debounce timer, unless a batch is running: what arrives meanwhile is flushed when it ends. */
  private schedule(): void {
    if (this.busy) return;
    const now = Date.now();
    if (!this.timer) this.firstAt = now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.min(this.opts.debounceMs ?? 100, Math.max(0, this.firstAt + (this.opts.maxWaitMs ?? 1000) - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Handles what is pending now, as one batch; events arriving meanwhile make the next one. */
  private flush(): void {
    this.timer = null;
    const paths = [...this.pending];
    const full = this.full;
    this.pending.clear();
    this.full = false;
    if (paths.length === 0 && !full) return;
    this.busy = true;
    this.inFlight = this.inFlight
      .then(() => this.runBatch(paths, full))
      .finally(() => {
        this.busy = false;
        if (this.pending.size > 0 || this.full) this.schedule();
      });
  }

  private async runBatch(paths: string[], full: boolean): Promise<void> {
    if (this.abort.signal.aborted) return;
    try {
      const deps = this.deps();
      if (full) {
        this.policy = new PathPolicy(this.root, policyOptions(deps.config, deps.home));
        await this.pruneHidden();
        const r = await indexWorkspace(deps, this.root, { signal: this.abort.signal });
        if (r.changedUris.length) this.onBatch({ indexed: r.changedUris, deleted: [], full: true });
        return;
      }
      const r = await indexPaths(deps, this.root, paths, this.policy, this.abort.signal);
      for (const f of r.failures) this.log.warn('kb watcher could not index a file', { path: f.uri, error: f.message });
      if (r.needsFull) this.full = true;
      if (r.indexed.length || r.deleted.length) this.onBatch({ indexed: r.indexed, deleted: r.deleted, full: false });
    } catch (e) {
      if (!this.abort.signal.aborted) this.log.warn('kb watcher batch failed', { root: this.root, error: (e as Error).message });
    }
  }

  /** Resolves when every batch queued so far has been handled (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.timer) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const seen = this.inFlight;
      await seen;
      if (seen === this.inFlight && !this.timer) return;
    }
  }

  async stop(): Promise<void> {
    this.fsw?.close();
    this.fsw = null;
    this.tree?.close();
    this.tree = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.inFlight.catch(() => undefined);
  }
}
