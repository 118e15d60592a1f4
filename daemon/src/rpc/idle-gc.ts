/**
 * One full garbage collection once the daemon has gone quiet after work. V8 leaves the garbage of a burst
 * (an index run, a hundred searches) in its heap until its memory reducer runs, 10 s or more later, and never
 * at all when nothing else allocates; the daemon sits idle beside the editor most of the day, so it collects
 * itself: QUIET_MS after the last request ends (`RequestMetrics.record`) or a resource is released
 * (kb/chunk-syntax.ts drops its parsers), with nothing else asked in between, when there is something to
 * collect. A collection of the daemon's heap takes tens of milliseconds; bench/startup.bench.ts shows what it
 * gives back.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const QUIET_MS = 2_000;

let gc: (() => void) | null | undefined;
let timer: NodeJS.Timeout | null = null;

/** V8's `gc()`, exposed at run time (no `--expose-gc` on the command line: Electron-as-node spawns us too). */
function collector(): (() => void) | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/**
 * Below this much growth of the JS heap since the last collection, a quiet period collects nothing: a client
 * polling the daemon every few seconds must not cost a full collection each time.
 */
export const GROWTH_BYTES = 16 * 1024 * 1024;
let heapAfterLast = 0;
let released = false;

function collectNow(): void {
  timer = null;
  const grown = process.memoryUsage().heapUsed - heapAfterLast >= GROWTH_BYTES;
  if (!grown && !released) return;
  released = false;
  const gc = collector();
  if (!gc) return;
  gc();
  heapAfterLast = process.memoryUsage().heapUsed;
}

/**
 * Collects garbage QUIET_MS from now, unless called again before (each call restarts the wait), when the JS
 * heap has grown by GROWTH_BYTES since the last collection or `released` says a resource was just let go.
 */
export function collectWhenQuiet(opts: { released?: boolean } = {}): void {
  if (opts.released) released = true;
  if (timer) {
    timer.refresh();
    return;
  }
  timer = setTimeout(collectNow, QUIET_MS);
  timer.unref();
}
