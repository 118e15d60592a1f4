/**
 * Re-indexes a workspace folder while the daemon runs: `fs.watch(root, { recursive: true })` events are
 * debounced (quiet for `debounceMs`, at most `maxWaitMs` after the first) and handled as one batch. A change
 * to a `.gitignore` or `.cairnignore`, an event without a file name, or a directory moved in runs a full
 * incremental index instead (cheap: unchanged files are skipped by stat).
 */
import { watch, type FSWatcher } from 'node:fs';
import { sep } from 'node:path';
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

export class KbWatcher {
  private fsw: FSWatcher | null = null;
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
    if (this.fsw) return;
    this.fsw = watch(this.root, { recursive: true, persistent: false }, (_event, filename) => this.onEvent(filename));
    this.fsw.on('error', (e) => this.log.warn('kb watcher error', { root: this.root, error: (e as Error).message }));
  }

  get watching(): boolean {
    return this.fsw !== null;
  }

  private onEvent(filename: string | Buffer | null): void {
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
    const now = Date.now();
    if (!this.timer) this.firstAt = now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.min(this.opts.debounceMs ?? 100, Math.max(0, this.firstAt + (this.opts.maxWaitMs ?? 1000) - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Handles what is pending now; batches arriving meanwhile wait for this one. */
  private flush(): void {
    this.timer = null;
    const paths = [...this.pending];
    const full = this.full;
    this.pending.clear();
    this.full = false;
    this.inFlight = this.inFlight.then(() => this.runBatch(paths, full));
  }

  private async runBatch(paths: string[], full: boolean): Promise<void> {
    if (this.abort.signal.aborted) return;
    try {
      const deps = this.deps();
      if (full) {
        this.policy = new PathPolicy(this.root, policyOptions(deps.config, deps.home));
        const r = await indexWorkspace(deps, this.root, { signal: this.abort.signal });
        if (r.changedUris.length) this.onBatch({ indexed: r.changedUris, deleted: [], full: true });
        return;
      }
      const r = await indexPaths(deps, this.root, paths, this.policy, this.abort.signal);
      for (const f of r.failures) this.log.warn('kb watcher could not index a file', { path: f.uri, error: f.message });
      if (r.needsFull) {
        this.full = true;
        this.flush();
      }
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.inFlight.catch(() => undefined);
  }
}
