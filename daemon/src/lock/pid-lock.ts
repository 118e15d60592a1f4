/**
 * A lock file that names the process holding it (its pid, and on Linux its start time), shared by the two
 * exclusive things on a machine: the home's daemon (`daemon.lock`, host/discovery.ts) and the embedded
 * store's data directory (`<dir>.lock`, store/embedded.ts). A lock whose pid is dead is stale (a crash) and is
 * taken over; the start time keeps a pid the OS reused for an unrelated process from holding it forever.
 */
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { isProcessAlive } from '../protocol/client/discovery.js';

export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Start time of a process in clock ticks since boot (Linux), or null where /proc is not available. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the holder written in a lock file is still running (a zombie is not: see isProcessAlive). */
function holderAlive(pid: number, startTime: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false;
  const now = startTime ? processStartTime(pid) : null;
  return now === null || now === startTime;
}

/** A lock file may be empty for an instant between its creation and the pid being written. */
const EMPTY_LOCK_GRACE_MS = 5_000;

/**
 * Taken (`replaced`: the pid of a dead holder whose stale lock was taken over, else null), or held by a live
 * process (`pid`), or being created by another process right now (`pid: null`).
 */
export type PidLockResult = { ok: true; lock: DirLock; replaced: number | null } | { ok: false; pid: number | null };

/**
 * Takes the lock file `path` (O_EXCL, holding this pid and its start time), or reports its live holder. A lock
 * of a dead process is stale (a crash) and taken over; the daemon's home lock and the data-dir lock share this.
 */
export async function acquirePidLock(
  path: string,
  opts: { attempts: number; ownPidIsStale: boolean },
): Promise<PidLockResult> {
  let creating = false;
  let replaced: number | null = null;
  for (let attempt = 0; attempt < opts.attempts; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(`${process.pid} ${processStartTime(process.pid) ?? ''}`.trimEnd() + '\n');
      } finally {
        await fh.close();
      }
      return { ok: true, lock: held(path), replaced };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) continue;
    const [pidText, startTime] = text.trim().split(/\s+/);
    const pid = Number.parseInt(pidText ?? '', 10);
    const stale = opts.ownPidIsStale && pid === process.pid;
    if (Number.isInteger(pid) && pid > 0 && !stale && holderAlive(pid, startTime)) return { ok: false, pid };
    creating = false;
    if (!Number.isInteger(pid)) {
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
      if (age < EMPTY_LOCK_GRACE_MS) {
        creating = true;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
    }
    // Renaming is atomic: of two processes breaking the same stale lock, only one moves it away.
    const aside = `${path}.stale-${process.pid}`;
    await rename(path, aside).then(() => unlink(aside), () => undefined);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) replaced = pid;
  }
  if (creating) return { ok: false, pid: null };
  throw new Error(`could not lock ${path}`);
}

function held(path: string): DirLock {
  let released = false;
  // A normal exit without close() must not leave a lock naming a pid the OS may reuse.
  const onExit = () => {
    if (!released) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    }
  };
  process.on('exit', onExit);
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      await unlink(path).catch(() => undefined);
    },
  };
}
