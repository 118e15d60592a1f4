/**
 * The discovery file `$CAIRN_HOME/daemon.json` (mode 0600): how a client finds the running daemon and proves
 * it may talk to it. Written by the daemon once it listens; read by the CLI, the extension and any script.
 * Uses only node: builtins so an editor can load it without the daemon.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_PROOF_SCHEME, DAEMON_PROOF_HEADER, NONCE_HEADER, clientProof, daemonProof, newNonce, proofMatches } from '../handshake.js';

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
/** The home's daemon lock (host/discovery.ts): held by the one daemon of a `$CAIRN_HOME`. */
export const LOCK_FILE = 'daemon.lock';

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

/** What listens on a discovery file's port did not prove it knows the file's token: it is not that daemon. */
export class DaemonIdentityError extends Error {
  constructor(port: number) {
    super(`the process on port ${port} is not the Cairn daemon named in daemon.json (it could not prove it knows the token); nothing was sent to it`);
    this.name = 'DaemonIdentityError';
  }
}

/** What a discovery file's port turned out to be; see `verifyDaemon`. */
export type DaemonCheck = 'verified' | 'absent' | 'impostor' | 'unknown';

/**
 * Asks whatever listens at `info`'s address to prove it knows the token (plain HTTP with a fresh nonce and
 * the client's own proof; see protocol/handshake.ts). `verified`: it is the daemon. `absent`: nothing
 * listens. `impostor`: an HTTP server answered without the proof. `unknown`: no answer in time or the
 * connection broke (a daemon too busy to answer, or a socket that never replies).
 */
export function verifyDaemon(info: Pick<DiscoveryInfo, 'host' | 'port' | 'token'>, timeoutMs = 2000): Promise<DaemonCheck> {
  const nonce = newNonce();
  return new Promise((resolve) => {
    const req = request({
      host: info.host ?? '127.0.0.1',
      port: info.port,
      path: '/',
      method: 'GET',
      agent: false,
      headers: { Authorization: `${CLIENT_PROOF_SCHEME} ${clientProof(info.token, nonce)}`, [NONCE_HEADER]: nonce, Connection: 'close' },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('unknown');
    }, timeoutMs);
    const done = (r: DaemonCheck) => {
      clearTimeout(timer);
      resolve(r);
    };
    req.once('response', (res) => {
      res.resume();
      done(proofMatches(res.headers[DAEMON_PROOF_HEADER] as string | undefined, daemonProof(info.token, nonce)) ? 'verified' : 'impostor');
    });
    req.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'absent' : 'unknown'));
    req.end();
  });
}

/**
 * The running daemon of `home`, or null. A discovery file whose pid is dead, whose port does not answer, or
 * whose port is held by something that cannot prove it knows the token is stale (a crashed daemon, a reused
 * pid and port); such a file is removed. Either way the next daemon to start (it takes `daemon.lock`) writes
 * its own file, so a stale one never keeps clients from starting a daemon.
 */
export async function findRunningDaemon(home: string): Promise<DiscoveryInfo | null> {
  const info = await readDiscovery(home);
  if (!info) return null;
  const state = isProcessAlive(info.pid) ? await verifyDaemon(info) : 'absent';
  if (state === 'verified') return info;
  if (state === 'absent' || state === 'impostor') await removeStaleDiscovery(home, info);
  return null;
}

/** Deletes `daemon.json` if it still holds `stale` (a daemon that started meanwhile has written its own). */
async function removeStaleDiscovery(home: string, stale: DiscoveryInfo): Promise<void> {
  const now = await readDiscovery(home);
  if (now && now.token === stale.token) await unlink(discoveryPath(home)).catch(() => undefined);
}
