/**
 * The daemon process: takes the home's lock, opens the store, composes the subsystems on one JSON-RPC
 * engine, listens on loopback (and stdio when asked), publishes `daemon.json`, and shuts down cleanly on
 * `shutdown`, SIGTERM or SIGINT (in-flight writes finish, the database closes, the discovery file goes).
 */
import { ConfigHolder, configFromEnv } from '../config.js';
import { PROTOCOL_VERSION } from '../protocol/index.js';
import { findRunningDaemon, type DiscoveryInfo } from '../protocol/client/discovery.js';
import { acquireDaemonLock, newToken, prepareHome, removeDiscovery, writeDiscovery } from './discovery.js';
import { FileLogger, type LogLevel } from '../log/logger.js';
import { registerCore } from '../core/handlers.js';
import type { DaemonDeps, Subsystem } from '../rpc/registry.js';
import { RpcServer, type Limits } from '../rpc/server.js';
import { serveStdio } from '../rpc/stdio.js';
import { DAEMON_VERSION } from '../rpc/version.js';
import { checkLoopback, hasToken, listenWebSocket, type WsListener } from '../rpc/ws.js';
import type { IncomingMessage } from 'node:http';
import type { Store } from '../store/types.js';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export interface DaemonOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  openStore(home: string, env: NodeJS.ProcessEnv): Promise<Store>;
  subsystems: Subsystem[];
  /** Serve one connection on these streams too (`cairn daemon --stdio`); the daemon exits when the input ends. */
  stdio?: { input: Readable; output: Writable };
  limits?: Partial<Limits>;
}

export type StartResult =
  | { kind: 'started'; daemon: RunningDaemon }
  /** Another daemon owns this home (the lock is held); `info` is its discovery file when it has written one. */
  | { kind: 'already-running'; pid: number; info: DiscoveryInfo | null };

export interface RunningDaemon {
  readonly info: DiscoveryInfo;
  /** Resolves with the exit code once the daemon has shut down. */
  readonly exited: Promise<number>;
  shutdown(reason: string): Promise<number>;
}

/** How long shutdown waits for tracked writes before closing the database anyway. */
const DRAIN_TIMEOUT_MS = 15_000;

/** The MCP endpoint's path (mcp/http.ts, which loads the SDK, is imported at the first request to it). */
const MCP_PATH = '/mcp';

/** Deferred start-up work begins at the first `initialize` answer, or this long after listening. */
const AFTER_START_DELAY_MS = 1_000;

export async function startDaemon(opts: DaemonOptions): Promise<StartResult> {
  const { home, env } = opts;
  // Refuse a non-loopback address before touching anything.
  const host = checkLoopback(env.CAIRN_HOST && env.CAIRN_HOST.length > 0 ? env.CAIRN_HOST : '127.0.0.1');
  prepareHome(home);
  const lock = await acquireDaemonLock(home);
  if (!lock.ok) return { kind: 'already-running', pid: lock.pid, info: await findRunningDaemon(home) };

  const log = new FileLogger({
    dir: join(home, 'logs'),
    level: (['debug', 'info', 'warn', 'error'] as const).includes(env.CAIRN_LOG_LEVEL as LogLevel) ? (env.CAIRN_LOG_LEVEL as LogLevel) : 'info',
    mirrorToStderr: env.CAIRN_LOG_STDERR === '1',
  });
  const startedAt = Date.now();
  log.info('daemon starting', { pid: process.pid, version: DAEMON_VERSION, home });
  if (lock.replaced !== null) log.info('the previous daemon is gone (crashed or killed); starting a new daemon', { previousPid: lock.replaced });

  let store: Store;
  try {
    store = await opts.openStore(home, env);
    log.info('store open', { store: store.mode, ms: Date.now() - startedAt, ...(store.opened ? { opened: store.opened } : {}) });
  } catch (err) {
    log.error('store failed to open', { error: err });
    log.close();
    await lock.release();
    throw err;
  }

  const shutdownController = new AbortController();
  const inFlightWrites = new Set<Promise<unknown>>();
  // Start-up work no answer waits for: held until the first `initialize` is answered (see DaemonDeps.afterStart).
  const deferred: { name: string; work: () => Promise<unknown> }[] = [];
  let deferredReleased = false;
  const runDeferred = (name: string, work: () => Promise<unknown>) => {
    if (shutdownController.signal.aborted) return;
    const t0 = Date.now();
    void deps.track(
      work().then(
        () => log.info('start-up work done', { name, ms: Date.now() - t0 }),
        (err: unknown) => log.warn('start-up work failed', { name, error: err }),
      ),
    );
  };
  const releaseDeferred = (why: 'initialize answered' | 'no client yet') => {
    if (deferredReleased) return;
    deferredReleased = true;
    log.info(`start-up work begins: ${why}`, { startMs: Date.now() - startedAt, queued: deferred.map((d) => d.name) });
    for (const d of deferred.splice(0)) runDeferred(d.name, d.work);
  };
  const rpc = new RpcServer({
    store,
    log,
    shutdownSignal: shutdownController.signal,
    limits: opts.limits,
    validateResults: env.CAIRN_VALIDATE_RESULTS === '1',
  });
  const deps: DaemonDeps = {
    store,
    config: new ConfigHolder(configFromEnv(env)),
    hub: rpc.hub,
    log,
    home,
    shutdownSignal: shutdownController.signal,
    track<T>(work: Promise<T>): Promise<T> {
      inFlightWrites.add(work);
      void work.then(
        () => inFlightWrites.delete(work),
        () => inFlightWrites.delete(work),
      );
      return work;
    },
    afterStart(name, work) {
      if (deferredReleased) runDeferred(name, work);
      else deferred.push({ name, work });
    },
  };

  let ws: WsListener | null = null;
  let exitCode = 0;
  let resolveExited!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExited = r));
  let stopping: Promise<number> | null = null;
  const disposers: { dispose(): Promise<void> }[] = [];

  const shutdown = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      log.info('daemon stopping', { reason, inFlightWrites: inFlightWrites.size });
      shutdownController.abort(new Error(reason));
      await removeDiscovery(home).catch(() => undefined);
      // Writes finish; requests, signalled by the abort, answer (Cancelled or their result) before connections close.
      const drain = Promise.allSettled([...inFlightWrites, rpc.drainAll()]);
      const timedOut = await Promise.race([drain.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), DRAIN_TIMEOUT_MS).unref())]);
      if (timedOut) log.warn('in-flight writes did not finish in time', { count: inFlightWrites.size });
      rpc.closeAll(1001, 'daemon shutting down');
      await ws?.close().catch(() => undefined);
      for (const d of disposers.reverse()) {
        await d.dispose().catch((err: unknown) => log.error('subsystem dispose failed', { error: err }));
      }
      try {
        await store.close();
      } catch (err) {
        exitCode = 1;
        log.error('store failed to close', { error: err });
      }
      log.info('daemon stopped', { reason });
      log.close();
      await lock.release();
      resolveExited(exitCode);
      return exitCode;
    })();
    return stopping;
  };

  const token = newToken();
  try {
    registerCore(rpc, deps, {
      startedAt,
      port: () => ws?.port ?? null,
      // After the current response is written: a `shutdown` caller gets its answer first.
      requestShutdown: (reason) => setImmediate(() => void shutdown(reason)),
      initialized: () => releaseDeferred('initialize answered'),
    });
    for (const subsystem of opts.subsystems) disposers.push(await subsystem(rpc, deps));
    const mcp = { rpc, log, authorized: (req: IncomingMessage) => hasToken(req, token) };
    ws = await listenWebSocket({
      rpc,
      host,
      token,
      log,
      // The MCP SDK loads with the first /mcp request, not with every daemon.
      onRequest: (req, res) => {
        if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== MCP_PATH) return false;
        void import('../mcp/http.js').then(
          (m) => m.handleMcpHttp(mcp, req, res),
          (err: unknown) => {
            log.error('mcp endpoint failed to load', { error: err });
            res.writeHead(500).end();
          },
        );
        return true;
      },
      ...(env.CAIRN_PORT ? { port: Number(env.CAIRN_PORT) } : {}),
    });
  } catch (err) {
    log.error('daemon failed to start', { error: err });
    await shutdown('start failed');
    throw err;
  }

  const info: DiscoveryInfo = {
    host: ws.host,
    port: ws.port,
    pid: process.pid,
    token,
    version: DAEMON_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    startedAt: new Date(startedAt).toISOString(),
  };
  await writeDiscovery(home, info);
  log.info('daemon ready', { port: ws.port, store: store.mode, startMs: Date.now() - startedAt });
  setTimeout(() => releaseDeferred('no client yet'), AFTER_START_DELAY_MS).unref();

  if (opts.stdio) {
    void serveStdio(rpc, opts.stdio.input, opts.stdio.output).then(() => shutdown('stdio input ended'));
  }
  return { kind: 'started', daemon: { info, exited, shutdown } };
}
