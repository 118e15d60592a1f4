/**
 * Test support for the daemon at its protocol boundary: spawns the real daemon process (`daemon/src/main.ts`
 * under tsx) in a temporary CAIRN_HOME, and opens raw connections over WebSocket or stdio that send frames
 * as text and collect whatever comes back, so tests can assert on exact JSON-RPC traffic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { RpcErrorCodes, type ErrorCodeName } from '../../daemon/src/protocol/errors.js';
import { daemonUrl, readDiscovery, isProcessAlive, type DiscoveryInfo } from '../../daemon/src/protocol/client/discovery.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const daemonEntry = join(repoRoot, 'daemon', 'src', 'main.ts');
export const cliEntry = join(repoRoot, 'daemon', 'src', 'cli', 'main.ts');

export async function makeHome(prefix = 'cairn-daemon-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true });
}

/**
 * A copy of a stopped daemon's home (database and local user, without discovery and lock files): reopening
 * a migrated database takes about a second where a fresh one takes ten.
 */
export async function cloneHome(source: string): Promise<string> {
  const home = await makeHome();
  await cp(join(source, 'db'), join(home, 'db'), { recursive: true });
  await cp(join(source, 'local-user.json'), join(home, 'local-user.json'));
  return home;
}

export function testEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_HOME: home, CAIRN_VALIDATE_RESULTS: '1', ...extra };
  for (const k of ['CAIRN_DATABASE_URL', 'CAIRN_HOST', 'CAIRN_PORT', 'OPENAI_API_KEY']) if (!(k in extra)) delete env[k];
  return env;
}

export interface DaemonProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly home: string;
  /** Discovery info once listening (always set for WebSocket daemons). */
  info: DiscoveryInfo;
  stderr(): string;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `daemon/src/main.ts` and waits until its discovery file names it. */
export async function startDaemon(home: string, opts: { stdio?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<DaemonProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', daemonEntry, ...(opts.stdio ? ['--stdio'] : [])], {
    cwd: repoRoot,
    env: testEnv(home, opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  for (;;) {
    const info = await readDiscovery(home);
    if (info && info.pid === proc.pid) {
      return { proc, pid: proc.pid!, home, info, stderr: () => err, exited, kill: (s = 'SIGTERM') => proc.kill(s) };
    }
    if (done) throw new Error(`daemon exited before it was ready: ${err}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`daemon not ready in time: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a daemon by signal and waits for it; SIGKILL if it does not exit in time. */
export async function stopDaemon(d: DaemonProcess, timeoutMs = 30_000): Promise<void> {
  if (d.proc.exitCode !== null || d.proc.signalCode !== null) return;
  d.kill('SIGTERM');
  const timer = setTimeout(() => d.kill('SIGKILL'), timeoutMs);
  await d.exited;
  clearTimeout(timer);
}

/** Resident set size of a process, from /proc. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A connection that sends raw text frames and queues every message that comes back. */
export interface RawConnection {
  send(text: string): void;
  /** Sends a request object and resolves with the response of that id (notifications are queued meanwhile). */
  call(method: string, params?: unknown, id?: string | number): Promise<Json>;
  /** The next message not yet taken, parsed. */
  next(timeoutMs?: number): Promise<Json>;
  /** Every notification received so far with this method. */
  notifications(method: string): Json[];
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/**
 * Messages received on a connection. Each waiter says which message it wants, so concurrent calls on one
 * connection each get their own response, whatever order the responses arrive in.
 */
class Inbox {
  private readonly queue: Json[] = [];
  private waiters: { want: (m: Json) => boolean; deliver: (m: Json) => void }[] = [];
  readonly seen: Json[] = [];

  push(m: Json): void {
    this.seen.push(m);
    const w = this.waiters.find((x) => x.want(m));
    if (w) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.deliver(m);
    } else this.queue.push(m);
  }

  next(timeoutMs: number): Promise<Json> {
    return this.take(() => true, timeoutMs);
  }

  /** Takes the first queued (or next arriving) message matching `want`, leaving others queued. */
  take(want: (m: Json) => boolean, timeoutMs: number): Promise<Json> {
    const i = this.queue.findIndex(want);
    if (i !== -1) return Promise.resolve(this.queue.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        want,
        deliver: (msg: Json) => {
          clearTimeout(timer);
          resolve(msg);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

let nextCallId = 1_000_000;

function rawConnection(sendText: (t: string) => void, inbox: Inbox, closed: Promise<{ code: number; reason: string }>, close: () => Promise<void>): RawConnection {
  return {
    send: sendText,
    async call(method, params = {}, id = nextCallId++) {
      sendText(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      return inbox.take((m) => !Array.isArray(m) && m.id === id && !('method' in m), 30_000);
    },
    next: (timeoutMs = 10_000) => inbox.next(timeoutMs),
    notifications: (method) => inbox.seen.filter((m) => !Array.isArray(m) && m.method === method),
    closed,
    close,
  };
}

export interface WsOptions {
  token?: string | null;
  /** Send the token as the `cairn.token.<token>` subprotocol instead of the Authorization header. */
  viaSubprotocol?: boolean;
  headers?: Record<string, string>;
}

/** Opens a WebSocket to the daemon; rejects with `HTTP <status>` when the upgrade is refused. */
export function connectWs(info: DiscoveryInfo, opts: WsOptions = {}): Promise<RawConnection> {
  const token = opts.token === undefined ? info.token : opts.token;
  const headers: Record<string, string> = { ...opts.headers };
  if (token !== null && !opts.viaSubprotocol) headers.Authorization = `Bearer ${token}`;
  const ws = new WebSocket(daemonUrl(info), opts.viaSubprotocol && token !== null ? [`cairn.token.${token}`] : [], {
    headers,
    maxPayload: 256 * 1024 * 1024,
  });
  const inbox = new Inbox();
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  ws.on('message', (data) => inbox.push(JSON.parse(String(data))));
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve(
        rawConnection(
          (t) => ws.send(t),
          inbox,
          closed,
          async () => {
            if (ws.readyState === WebSocket.CLOSED) return;
            ws.close();
            await closed;
          },
        ),
      ),
    );
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** The JSON-RPC connection of a daemon started with `--stdio`. */
export function connectStdio(d: DaemonProcess): RawConnection {
  const inbox = new Inbox();
  let buf = '';
  d.proc.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) inbox.push(JSON.parse(line));
    }
  });
  const closed = d.exited.then(({ code }) => ({ code: code ?? -1, reason: 'process exited' }));
  return rawConnection(
    (t) => d.proc.stdin!.write(`${t}\n`),
    inbox,
    closed,
    async () => {
      d.proc.stdin!.end();
      await d.exited;
    },
  );
}

export async function readLog(home: string): Promise<string> {
  const file = join(home, 'logs', 'daemon.log');
  return existsSync(file) ? readFile(file, 'utf8') : '';
}

export function alive(pid: number): boolean {
  return isProcessAlive(pid);
}

/** Runs the CLI (`daemon/src/cli/main.ts` under tsx) and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: opts.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

let template: Promise<string> | null = null;

/**
 * A migrated home made once per test run (a daemon started on an empty home and stopped), for `migratedHome`.
 * Removed when the test process exits.
 */
export function templateHome(): Promise<string> {
  template ??= (async () => {
    const home = await makeHome('cairn-template-');
    process.once('exit', () => {
      try {
        // Synchronous: nothing asynchronous runs at exit.
        rmSync(home, { recursive: true, force: true });
      } catch {
        // best effort
      }
    });
    const d = await startDaemon(home);
    await stopDaemon(d);
    return home;
  })();
  return template;
}

/** A new home holding a copy of the migrated template database. */
export async function migratedHome(): Promise<string> {
  return cloneHome(await templateHome());
}

/** Calls `method` and returns its result, or throws with the error the daemon answered. */
export async function ok(conn: RawConnection, method: string, params: unknown = {}): Promise<Json> {
  const r = await conn.call(method, params);
  if (r.error) throw new Error(`${method} failed: ${JSON.stringify(r.error)}`);
  return r.result;
}

/** Calls `method`, asserts it fails with one of `codes`, and returns the error. */
export async function fails(conn: RawConnection, method: string, params: unknown, codes: ErrorCodeName[]): Promise<Json> {
  const r = await conn.call(method, params);
  assert.ok(r.error, `${method} should have failed, got ${JSON.stringify(r.result)}`);
  assert.ok(
    codes.map((c) => RpcErrorCodes[c]).includes(r.error.code),
    `${method}: expected ${codes.join('|')}, got ${JSON.stringify(r.error)}`,
  );
  return r.error;
}

/** Resolves with the params of the first notification (from index `from`, received so far or later) that matches. */
export async function waitForNotification(conn: RawConnection, method: string, match: (params: Json) => boolean, ms: number, from = 0): Promise<Json> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = conn.notifications(method).slice(from).find((n) => match(n.params));
    if (hit) return hit.params;
    if (Date.now() > deadline) throw new Error(`no ${method} within ${ms} ms; saw ${JSON.stringify(conn.notifications(method).map((n) => n.params))}`);
    await sleep(10);
  }
}
