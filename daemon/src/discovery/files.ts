/**
 * The daemon's side of discovery: one daemon per `$CAIRN_HOME` (an exclusive `daemon.lock` holding the pid),
 * and `daemon.json` written atomically once the daemon listens, so a client never reads half a file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoveryPath, isProcessAlive, readDiscovery, type DiscoveryInfo } from '../protocol/client/discovery.js';
import { processStartTime } from '../store/lock.js';

export const LOCK_FILE = 'daemon.lock';

/** `$CAIRN_HOME` exists with mode 0700 (it holds the token and the database). */
export function prepareHome(home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
}

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

export type LockResult = { ok: true; release(): Promise<void> } | { ok: false; pid: number };

function holderAlive(pid: number, startTime: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false;
  const now = startTime ? processStartTime(pid) : null;
  return now === null || now === startTime;
}

/** A lock file may be empty for an instant between its creation and the pid being written. */
const EMPTY_LOCK_GRACE_MS = 5_000;

/** Takes the home's daemon lock, or names the live process holding it. A lock of a dead pid is stale and taken over. */
export async function acquireDaemonLock(home: string): Promise<LockResult> {
  const path = join(home, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        // The start time tells a live holder from a new process that reused a crashed daemon's pid.
        await fh.writeFile(`${`${process.pid} ${processStartTime(process.pid) ?? ''}`.trimEnd()}\n`);
      } finally {
        await fh.close();
      }
      let released = false;
      return {
        ok: true,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) continue;
    const [pidText, startTime] = text.trim().split(/\s+/);
    const pid = Number.parseInt(pidText ?? '', 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && holderAlive(pid, startTime)) return { ok: false, pid };
    if (!Number.isInteger(pid)) {
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
      if (age < EMPTY_LOCK_GRACE_MS) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
    }
    // Renaming is atomic: of two starters breaking the same stale lock, only one moves it away.
    const aside = `${path}.stale-${process.pid}`;
    await rename(path, aside).then(
      () => unlink(aside),
      () => undefined,
    );
  }
  throw new Error(`could not lock ${path}`);
}

/** Writes `daemon.json` (0600) through a temp file and a rename, replacing any stale one. */
export async function writeDiscovery(home: string, info: DiscoveryInfo): Promise<void> {
  const file = discoveryPath(home);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** Removes `daemon.json` if it still describes this process. */
export async function removeDiscovery(home: string): Promise<void> {
  const info = await readDiscovery(home);
  if (info && info.pid === process.pid) await unlink(discoveryPath(home)).catch(() => undefined);
}
