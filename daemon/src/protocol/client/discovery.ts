/**
 * The discovery file `$CAIRN_HOME/daemon.json` (mode 0600): how a client finds the running daemon and proves
 * it may talk to it. Written by the daemon once it listens; read by the CLI, the extension and any script.
 * Uses only node: builtins so an editor can load it without the daemon.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface DiscoveryInfo {
  /** Loopback address the daemon listens on: `127.0.0.1` (default) or `::1`. Absent in files of older daemons. */
  host?: string;
  port: number;
  pid: number;
  /** The bearer token every connection presents. */
  token: string;
  version: string;
  protocolVersion: number;
  /** ISO time the daemon started listening. */
  startedAt: string;
}

export const DISCOVERY_FILE = 'daemon.json';

/** `$CAIRN_HOME`, or `~/.cairn`. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAIRN_HOME && env.CAIRN_HOME.length > 0 ? env.CAIRN_HOME : join(homedir(), '.cairn');
}

export function discoveryPath(home: string): string {
  return join(home, DISCOVERY_FILE);
}

function isDiscoveryInfo(v: unknown): v is DiscoveryInfo {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    (o.host === undefined || o.host === '127.0.0.1' || o.host === '::1') &&
    Number.isInteger(o.port) &&
    Number.isInteger(o.pid) &&
    typeof o.token === 'string' &&
    typeof o.version === 'string' &&
    Number.isInteger(o.protocolVersion) &&
    typeof o.startedAt === 'string'
  );
}

/** The discovery file's content, or null when it is missing or unreadable. */
export async function readDiscovery(home: string): Promise<DiscoveryInfo | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(discoveryPath(home), 'utf8'));
    return isDiscoveryInfo(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Whether `pid` is a running process. `kill(pid, 0)` also succeeds on a zombie: a process that has exited but
 * that its parent has not reaped yet. A daemon killed after its editor window was reloaded belongs to init (or
 * to nobody who reaps, in a container without an init process) and can stay a zombie for seconds or for
 * good; taken for alive, it would keep its lock and the next daemon would wait for it. So on Linux the state
 * in `/proc/<pid>/stat` decides: Z (zombie) and X (dead) are not running.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = processState(pid);
  return state !== 'Z' && state !== 'X' && state !== 'gone';
}

/** The one-letter state of a process from `/proc/<pid>/stat` (Linux); 'gone' once it has been reaped; null without /proc. */
export function processState(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No such entry while /proc itself is there: reaped between the two checks.
    return code === 'ENOENT' && existsSync('/proc/self/stat') ? 'gone' : null;
  }
  // The state follows the command name, which is in parentheses and may itself contain spaces or parentheses.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
}

/** The WebSocket URL of a discovered daemon. */
export function daemonUrl(info: Pick<DiscoveryInfo, 'host' | 'port'>): string {
  const host = info.host ?? '127.0.0.1';
  return `ws://${host.includes(':') ? `[${host}]` : host}:${info.port}/`;
}

/** True when something accepts TCP connections on the loopback host and port within the timeout. */
export function isPortAnswering(port: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The running daemon of `home`, or null. A discovery file whose pid is dead or whose port does not answer
 * is stale (a crashed daemon) and yields null; the next daemon to start replaces it.
 */
export async function findRunningDaemon(home: string): Promise<DiscoveryInfo | null> {
  const info = await readDiscovery(home);
  if (!info) return null;
  if (!isProcessAlive(info.pid)) return null;
  if (!(await isPortAnswering(info.port, 1000, info.host))) return null;
  return info;
}
