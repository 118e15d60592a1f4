/**
 * The daemon's side of discovery: one daemon per `$CAIRN_HOME` (an exclusive `daemon.lock` holding the pid),
 * and `daemon.json` written atomically once the daemon listens, so a client never reads half a file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoveryPath, readDiscovery, type DiscoveryInfo } from '../protocol/client/discovery.js';
import { acquirePidLock } from '../store/lock.js';

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

/** Takes the home's daemon lock, or names the live process holding it (or starting with it). */
export async function acquireDaemonLock(home: string): Promise<LockResult> {
  const path = join(home, LOCK_FILE);
  for (;;) {
    // A lock naming this very pid is a leftover of an earlier start in this process, not a rival daemon.
    const r = await acquirePidLock(path, { attempts: 5, ownPidIsStale: true });
    if (r.ok) return { ok: true, release: () => r.lock.release() };
    if (r.pid !== null) return { ok: false, pid: r.pid };
  }
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
