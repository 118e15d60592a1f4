/**
 * Finds the daemon of a `$CAIRN_HOME` or starts one, shared by the CLI and the VS Code extension (which
 * passes `process.execPath` with ELECTRON_RUN_AS_NODE=1). Node builtins only.
 */
import { mkdirSync, openSync, closeSync, readFileSync, chmodSync, statfsSync, watch, type FSWatcher } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { findRunningDaemon, type DiscoveryInfo } from './discovery.js';

/**
 * Environment every client starts the daemon with, under what the caller passes (a user's own setting wins).
 * glibc gives each thread that allocates (libuv's pool, V8's helpers) its own malloc arena and keeps freed
 * pages in them; with two arenas the daemon's resident memory after indexing this repository and answering
 * 100 searches measured 276 MB against 314–321 MB without (bench/startup.bench.ts's workload).
 */
export const DAEMON_SPAWN_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

export interface SpawnSpec {
  /** The node (or Electron-as-node) executable. */
  execPath: string;
  /** Arguments that run the daemon in the foreground, e.g. `['dist/cli.mjs', 'daemon']`. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface EnsureOptions {
  spawn: SpawnSpec;
  /** How long to wait for the discovery file of a started daemon (a fresh database takes several seconds). */
  timeoutMs?: number;
}

export class DaemonStartError extends Error {
  constructor(
    message: string,
    /** 'disk_full' when the disk holding the home has no room: the one cause a user must fix outside Cairn. */
    readonly reason?: 'disk_full',
  ) {
    super(message);
    this.name = 'DaemonStartError';
  }
}

/** Below this, a daemon cannot even write its log or its lock, so a failed start is put down to the disk. */
const FULL_BELOW_BYTES = 1024 * 1024;

/** The error for a home on a full disk, or null when there is room (or the free space cannot be read). */
function diskFullError(home: string): DaemonStartError | null {
  try {
    const fs = statfsSync(home);
    const free = fs.bavail * fs.bsize;
    if (free >= FULL_BELOW_BYTES) return null;
    return new DaemonStartError(
      `the Cairn daemon cannot start: the disk holding ${home} is full (${Math.round(free / 1024)} KiB free). Free some space and try again.`,
      'disk_full',
    );
  } catch {
    return null;
  }
}

function isNoSpace(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOSPC';
}

/** The last line the failed daemon printed: errors are reported on one line. */
function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').at(-1)?.trim() ?? '';
  } catch {
    return '';
  }
}

/** The running daemon of `home`; when there is none (or only a stale discovery file), starts one detached and waits for it. */
export async function ensureDaemon(home: string, opts: EnsureOptions): Promise<DiscoveryInfo & { started: boolean }> {
  const running = await findRunningDaemon(home);
  if (running) return { ...running, started: false };

  const startLog = join(home, 'logs', 'daemon-start.log');
  let fd: number;
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    mkdirSync(join(home, 'logs'), { recursive: true, mode: 0o700 });
    // The daemon's own log starts once it runs; this file catches what it prints before (or instead of) that.
    fd = openSync(startLog, 'w', 0o600);
  } catch (err) {
    if (isNoSpace(err)) throw diskFullError(home) ?? new DaemonStartError(`the Cairn daemon cannot start: the disk holding ${home} is full.`, 'disk_full');
    throw err;
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let startError = '';
  try {
    const child = spawn(opts.spawn.execPath, opts.spawn.args, {
      cwd: opts.spawn.cwd,
      env: { ...DAEMON_SPAWN_ENV, ...(opts.spawn.env ?? process.env), CAIRN_HOME: home },
      detached: true,
      stdio: ['ignore', fd, fd],
      windowsHide: true,
    });
    child.once('exit', (code, signal) => {
      exited = { code, signal };
    });
    child.once('error', (err) => {
      exited = { code: -1, signal: null };
      startError = err.message;
    });
    child.unref();
  } finally {
    closeSync(fd);
  }

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  // Woken as the daemon writes its discovery file (a rename into the home), not only by the poll: a reconnect
  // after a crash waits for nothing but the daemon itself.
  const changes = watchFolder(home);
  try {
    while (Date.now() < deadline) {
      const info = await findRunningDaemon(home);
      if (info) return { ...info, started: true };
      // Exit code 0 means another daemon won the race for this home; keep polling for its discovery file.
      const e = exited as { code: number | null; signal: NodeJS.Signals | null } | null;
      if (e && e.code !== 0) {
        const full = diskFullError(home);
        if (full) throw full;
        const why = startError || lastLine(startLog) || `exit ${e.code ?? e.signal}`;
        throw new DaemonStartError(`the Cairn daemon failed to start: ${why}`);
      }
      await changes.next(100);
    }
  } finally {
    changes.close();
  }
  throw new DaemonStartError(`the Cairn daemon did not become ready within ${Math.round((opts.timeoutMs ?? 60_000) / 1000)} s; see ${startLog}`);
}

/**
 * Changes in a folder, as a wait: `next(ms)` settles at the next change since the last call, or after `ms`
 * (also the fallback where the folder cannot be watched, e.g. out of inotify watches).
 */
function watchFolder(dir: string): { next(ms: number): Promise<void>; close(): void } {
  let changed = false;
  let wake: (() => void) | null = null;
  let watcher: FSWatcher | null = null;
  const onChange = () => {
    changed = true;
    wake?.();
  };
  try {
    watcher = watch(dir, { persistent: false }, onChange);
    watcher.on('error', () => undefined);
  } catch {
    watcher = null;
  }
  return {
    next(ms) {
      if (changed) {
        changed = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = null;
          changed = false;
          resolve();
        }
        wake = done;
      });
    },
    close() {
      watcher?.close();
      wake?.();
    },
  };
}
