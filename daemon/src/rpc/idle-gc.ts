/**
 * One full garbage collection once the daemon has gone quiet after work. V8 leaves the garbage of a burst
 * (an index run, a hundred searches) in its heap until its memory reducer runs, 10 s or more later, and never
 * at all when nothing else allocates; the daemon sits idle beside the editor most of the day, so it collects
 * itself: QUIET_MS after the last request ends (`RequestMetrics.record`) or a resource is released
 * (kb/chunk-syntax.ts drops its parsers), with nothing else asked in between. A collection of the daemon's
 * heap takes tens of milliseconds; bench/startup.bench.ts shows what it gives back.
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

/** Collects garbage QUIET_MS from now, unless called again before (each call restarts the wait). */
export function collectWhenQuiet(): void {
  if (timer) {
    timer.refresh();
    return;
  }
  timer = setTimeout(() => {
    timer = null;
    collector()?.();
  }, QUIET_MS);
  timer.unref();
}
