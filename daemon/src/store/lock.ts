/**
 * An exclusive lock on a data directory: two PGlite processes on one directory both open it and silently
 * lose rows, so only the process whose pid is in `<dir>.lock` may open it. A lock whose pid is dead is stale
 * (a crash) and is taken over; on Linux the lock also holds the process start time, so a pid reused by an
 * unrelated process after a crash does not keep the database locked forever.
 */
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { StoreError } from './types.js';

export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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

/** Whether the holder written in a lock file is still running. */
function holderAlive(pid: number, startTime: string | undefined): boolean {
  if (!alive(pid)) return false;
  const now = startTime ? processStartTime(pid) : null;
  return now === null || now === startTime;
}

/** A lock file may be empty for an instant between its creation and the pid being written. */
const EMPTY_LOCK_GRACE_MS = 5_000;

export async function lockDirectory(dir: string): Promise<DirLock> {
  const path = `${dir}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(`${process.pid} ${processStartTime(process.pid) ?? ''}`.trimEnd() + '\n');
      } finally {
        await fh.close();
      }
      return held(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) continue;
    const [pidText, startTime] = text.trim().split(/\s+/);
    const pid = Number.parseInt(pidText ?? '', 10);
    if (Number.isInteger(pid) && pid > 0 && holderAlive(pid, startTime)) {
      throw new StoreError('unavailable', `The database ${dir} is in use by process ${pid}; stop it or use another CAIRN_HOME.`);
    }
    if (!Number.isInteger(pid)) {
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
      if (age < EMPTY_LOCK_GRACE_MS) throw new StoreError('unavailable', `The database ${dir} is being opened by another process.`);
    }
    // Renaming is atomic: of two processes breaking the same stale lock, only one moves it away.
    const aside = `${path}.stale-${process.pid}`;
    await rename(path, aside).then(() => unlink(aside), () => undefined);
  }
  throw new StoreError('unavailable', `Could not lock ${dir}.`);
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
