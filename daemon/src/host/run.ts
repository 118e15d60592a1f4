/**
 * `cairn daemon [--stdio]`: composes the subsystems on the daemon and runs it in the foreground until
 * `shutdown`, SIGTERM or SIGINT. With `--stdio` and a daemon already running for this home, it bridges stdio
 * to that daemon instead (only one process may own a database).
 */
import type { Readable, Writable } from 'node:stream';
import type WebSocket from 'ws';
import { cairnHome } from '../config.js';
import { openDaemonSocket } from '../protocol/client/client.js';
import { daemonUrl, findRunningDaemon, readDiscovery, type DiscoveryInfo } from '../protocol/client/discovery.js';
import type { Subsystem } from '../rpc/registry.js';
import { defaultLimits } from '../rpc/server.js';
import { LineSplitter } from '../rpc/stdio.js';
import { NonLoopbackBindError } from '../rpc/ws.js';
import { startDaemon } from './daemon.js';
import { openSwitchableStore } from '../store/switchable.js';
import { createAuthSubsystem } from '../auth/handlers.js';
import { registerTeams } from '../teams/handlers.js';
import { registerApiKeys } from '../auth/api-keys.js';
import { registerKb } from '../kb/handlers.js';
import { createChatSubsystem } from '../chat/handlers.js';
import { failInterruptedReplies } from '../chat/interrupted.js';
import { gatewayChatChoice } from '../teams/gateway.js';
import { registerLive } from '../teams/live.js';

/**
 * Every subsystem of the daemon besides its core methods, in start order (chat searches the knowledge base).
 * The arrows between them that would run upward are passed here: chat asks the team's model gateway, a
 * sign-in sweeps the replies a crashed daemon left streaming in the team's database.
 */
export const subsystems: Subsystem[] = [
  registerKb,
  createChatSubsystem({}, undefined, gatewayChatChoice),
  registerTeams,
  createAuthSubsystem({ sweepInterrupted: (store) => failInterruptedReplies(store, true) }),
  registerLive,
  registerApiKeys,
];

export interface RunOptions {
  stdio: boolean;
  env: NodeJS.ProcessEnv;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
}

export async function runDaemon(opts: RunOptions): Promise<number> {
  const env = opts.env;
  const home = cairnHome(env);
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  // In stdio mode stdout carries the protocol; human messages go to stderr either way.
  const say = (text: string) => stderr.write(`${text}\n`);

  if (opts.stdio) {
    const running = await findRunningDaemon(home);
    if (running) return bridgeStdio(running, stdin, stdout);
  }

  let result;
  try {
    result = await startDaemon({
      home,
      env,
      openStore: openSwitchableStore,
      subsystems,
      ...(opts.stdio ? { stdio: { input: stdin, output: stdout } } : {}),
    });
  } catch (err) {
    say(`cairn daemon: ${err instanceof NonLoopbackBindError ? err.message : (err as Error).message}`);
    return 1;
  }

  if (result.kind === 'already-running') {
    const info = result.info ?? (await waitForDiscovery(home, 60_000));
    if (opts.stdio && info) return bridgeStdio(info, stdin, stdout);
    say(
      info
        ? `cairn daemon already running for ${home}: pid ${info.pid}, port ${info.port}, version ${info.version}`
        : `cairn daemon already starting for ${home}: pid ${result.pid}`,
    );
    return 0;
  }

  const { daemon } = result;
  const onSignal = (signal: NodeJS.Signals) => void daemon.shutdown(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (!opts.stdio) say(`cairn daemon listening on ${daemonUrl(daemon.info)} (pid ${daemon.info.pid}, home ${home})`);
  const code = await daemon.exited;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return code;
}

async function waitForDiscovery(home: string, timeoutMs: number): Promise<DiscoveryInfo | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const info = await findRunningDaemon(home);
    if (info) return info;
    await new Promise((r) => setTimeout(r, 200));
  }
  return readDiscovery(home);
}

/** Relays newline-delimited JSON-RPC on stdio to a running daemon's WebSocket, frame for frame. */
async function bridgeStdio(info: DiscoveryInfo, stdin: Readable, stdout: Writable): Promise<number> {
  let ws: WebSocket;
  try {
    ws = await openDaemonSocket(info);
  } catch (err) {
    process.stderr.write(`cairn daemon --stdio: cannot reach the running daemon: ${(err as Error).message}\n`);
    return 1;
  }
  return new Promise((resolve) => {
    // Lines sent minus answers received: the bridge exits at end of input once every answer is out.
    let unanswered = 0;
    let inputEnded = false;
    const finish = (code: number) => {
      ws.close();
      resolve(code);
    };
    const maybeFinish = () => {
      if (inputEnded && unanswered <= 0) finish(0);
    };
    const splitter = new LineSplitter(
      defaultLimits.maxFrameBytes,
      (line) => {
        if (expectsAnswer(line)) unanswered++;
        ws.send(line);
      },
      (bytes) =>
        stdout.write(
          `${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -31906, message: `frame of ${bytes} bytes is over the limit; it was skipped`, data: { limit: 'maxFrameBytes' } } })}\n`,
        ),
    );
    stdin.on('data', (chunk: Buffer | string) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stdin.once('end', () => {
      splitter.end();
      inputEnded = true;
      maybeFinish();
    });
    ws.on('message', (data) => {
      const text = String(data);
      stdout.write(`${text}\n`);
      if (isAnswer(text)) unanswered--;
      maybeFinish();
    });
    ws.on('error', (err) => {
      process.stderr.write(`cairn daemon --stdio: connection to the running daemon failed: ${err.message}\n`);
      resolve(1);
    });
    ws.on('close', () => resolve(0));
  });
}

/** Whether the daemon answers this line: everything but a notification (or a batch of only notifications). */
function expectsAnswer(line: string): boolean {
  // The daemon's rule (rpc/server.ts): a JSON-RPC 2.0 object with a string method and no id gets no answer.
  const isNotification = (m: unknown) =>
    m !== null &&
    typeof m === 'object' &&
    !Array.isArray(m) &&
    !('id' in m) &&
    (m as { jsonrpc?: unknown }).jsonrpc === '2.0' &&
    typeof (m as { method?: unknown }).method === 'string';
  try {
    const msg: unknown = JSON.parse(line);
    return Array.isArray(msg) ? msg.length === 0 || !msg.every(isNotification) : !isNotification(msg);
  } catch {
    return true;
  }
}

/** A response (or batch of responses) rather than a daemon notification. */
function isAnswer(text: string): boolean {
  try {
    const msg: unknown = JSON.parse(text);
    return Array.isArray(msg) || (msg !== null && typeof msg === 'object' && !('method' in msg));
  } catch {
    return false;
  }
}
