/**
 * The daemon's side of discovery: one daemon per `$CAIRN_HOME` (an exclusive `daemon.lock` holding the pid),
 * and `daemon.json` written atomically once the daemon listens, so a client never reads half a file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoveryPath, findRunningDaemon, LOCK_FILE, readDiscovery, type DiscoveryInfo } from '../protocol/client/discovery.js';
import { acquirePidLock } from '../lock/pid-lock.js';

/** `$CAIRN_HOME` exists with mode 0700 (it holds the token and the database). */
export function prepareHome(home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
}

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Taken (`replaced`: the pid of a crashed daemon whose lock was stale), or held by the live process `pid`. */
export type LockResult = { ok: true; replaced: number | null; release(): Promise<void> } | { ok: false; pid: number };

/**
 * How long a start keeps retrying a lock whose holder is alive but serves nothing: a daemon still shutting
 * down (it holds the lock until it exits), or one dying right now. Giving up at once would leave the client
 * that started this daemon waiting for a discovery file nobody writes.
 */
export const LOCK_RETRY_MS = 10_000;
const LOCK_RETRY_INTERVAL_MS = 50;

/** Takes the home's daemon lock, or names the live process holding it (or starting with it). */
export async function acquireDaemonLock(home: string, retryMs = LOCK_RETRY_MS): Promise<LockResult> {
  const path = join(home, LOCK_FILE);
  const deadline = Date.now() + retryMs;
  for (;;) {
    // A lock naming this very pid is a leftover of an earlier start in this process, not a rival daemon.
    const r = await acquirePidLock(path, { attempts: 5, ownPidIsStale: true });
    if (r.ok) return { ok: true, replaced: r.replaced, release: () => r.lock.release() };
    if (r.pid === null) continue;
    // The holder serves this home (or may still be starting, after the deadline): it is the daemon.
    if ((await findRunningDaemon(home))?.pid === r.pid || Date.now() >= deadline) return { ok: false, pid: r.pid };
    // A look costs a few file reads: look often, so the lock is taken the moment its holder is gone.
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_INTERVAL_MS));
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
