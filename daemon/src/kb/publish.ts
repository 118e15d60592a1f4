/**
 * Moves freshly written chunk vectors into the HNSW indexes in the background (kb_publish_vectors). Until
 * then search scans them exactly (see migration 20261122000800_knowledge_base), so nothing waits for this: it only keeps the exact
 * part small. It must never make a request wait: PGlite has one connection, and an HNSW insert costs
 * milliseconds, so a fixed batch of hundreds held a search for seconds. The background loop therefore works
 * in slices sized to take about SLICE_TARGET_MS, and before each slice waits until no call of the user is
 * queued or running (`Store.whenIdle`), after a turn of the event loop so requests can arrive at all: a
 * request waits at most for the slice under way.
 */
import type { Store } from '../store/types.js';
import type { Logger } from '../log/logger.js';

export const PUBLISH_BATCH = 200;
/** How long one background slice should hold the database. */
export const SLICE_TARGET_MS = 50;
const MIN_SLICE = 4;
const MAX_SLICE = 1000;

/** Publishes every queued vector of a project now, in batches of `batch`; returns how many moved. */
export async function publishAll(store: Store, projectId: string, signal?: AbortSignal, batch = PUBLISH_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const n = Number(await store.rpc('kb_publish_vectors', { p_project_id: projectId, p_limit: batch }, { signal }));
    total += n;
    if (n < batch) return total;
  }
}

/** The next slice size: the one that would have taken `targetMs` at the pace of the last slice, within bounds. */
export function nextSliceSize(size: number, moved: number, elapsedMs: number, targetMs = SLICE_TARGET_MS): number {
  if (moved <= 0) return size;
  const perItem = Math.max(elapsedMs, 0.1) / moved;
  const want = Math.round(targetMs / perItem);
  // At most double per step, so one fast slice (cached pages) does not jump to a slice that holds the database long.
  return Math.max(MIN_SLICE, Math.min(MAX_SLICE, size * 2, want));
}

/**
 * Publishes every queued vector of a project in the background: time-boxed slices, each started only when no
 * request is waiting for the store. Returns how many moved.
 */
export async function publishYielding(store: Store, projectId: string, signal?: AbortSignal, targetMs = SLICE_TARGET_MS): Promise<number> {
  let total = 0;
  let size = 16;
  for (;;) {
    // PGlite runs on this thread and its calls settle as microtasks: without a turn of the event loop, a chain
    // of slices never lets a socket read or a file read complete, and every request waits for the whole backlog.
    await new Promise((resolve) => setImmediate(resolve));
    await store.whenIdle?.();
    signal?.throwIfAborted();
    const started = performance.now();
    const n = Number(await store.rpc('kb_publish_vectors', { p_project_id: projectId, p_limit: size }, { signal }));
    total += n;
    if (n < size) return total;
    size = nextSliceSize(size, n, performance.now() - started, targetMs);
  }
}

export class VectorPublisher {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly abort = new AbortController();
  private readonly signal: AbortSignal;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly track: <T>(work: Promise<T>) => Promise<T>,
    shutdown: AbortSignal,
  ) {
    // Shutdown must not wait for a long backlog: what is left stays queued and is published next start.
    this.signal = AbortSignal.any([this.abort.signal, shutdown]);
  }

  /** Starts publishing a project's queue, or asks the running loop to look again when it is done. */
  schedule(projectId: string): void {
    if (this.signal.aborted) return;
    if (this.running.has(projectId)) {
      this.again.add(projectId);
      return;
    }
    const run = (async () => {
      do {
        this.again.delete(projectId);
        try {
          await this.track(publishYielding(this.store, projectId, this.signal));
        } catch (e) {
          if (this.signal.aborted) return;
          this.log.warn('publishing vectors to the search index failed; search stays exact for them', { projectId, error: (e as Error).message });
          return;
        }
      } while (this.again.has(projectId));
    })().finally(() => this.running.delete(projectId));
    this.running.set(projectId, run);
  }

  /** Resolves when no publishing is under way (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.running.values()]);
  }
}
