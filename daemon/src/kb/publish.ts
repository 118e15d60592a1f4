/**
 * Moves freshly written chunk vectors into the HNSW indexes in the background (kb_publish_vectors), in
 * small batches so searches interleave. Until then search scans them exactly (see migration kb_ann), so
 * nothing waits for this: it only keeps the exact part small.
 */
import type { Store } from '../store/types.js';
import type { Logger } from '../rpc/registry.js';

export const PUBLISH_BATCH = 200;

/** Publishes every queued vector of a project now; returns how many moved. */
export async function publishAll(store: Store, projectId: string, signal?: AbortSignal, batch = PUBLISH_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const n = Number(await store.rpc<number>('kb_publish_vectors', { p_project_id: projectId, p_limit: batch }, { signal }));
    total += n;
    if (n < batch) return total;
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
          await this.track(publishAll(this.store, projectId, this.signal));
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
