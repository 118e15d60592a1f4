/**
 * The shape of a `cairn` CLI command. Each command lives in daemon/src/cli/commands/<name>.ts and is a
 * client of the daemon over the same protocol as any editor, except the few that name why they run in the
 * CLI's own process (`inProcess`; `cairn --help` lists them, test/architecture.test.ts holds the rest to it). Exit codes: 0 success, 1 failure (one-line
 * reason on stderr), 2 usage error. With `--json` a command prints exactly one JSON document on stdout.
 */
import type { RpcClient } from '../protocol/client/client.js';

export interface CliContext {
  /** Positional arguments after the command name (and subcommand, if the command has them). */
  readonly args: string[];
  /** `--name value`, `--flag`, `-k 5` parsed; `json` is true with `--json`. */
  readonly flags: Readonly<Record<string, string | boolean>>;
  readonly json: boolean;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Finds the running daemon through the discovery file or starts one, then connects and initializes. */
  connect(): Promise<RpcClient>;
  /**
   * Starts a daemon of its own for another `$CAIRN_HOME` with `env` (the user's daemon is left alone),
   * connects and initializes. `stop()` shuts it down and waits until its process has exited.
   */
  startPrivateDaemon(home: string, env: NodeJS.ProcessEnv): Promise<{ client: RpcClient; stop(): Promise<void> }>;
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /**
   * Why this command does its work in the CLI's process instead of asking the daemon (it is the daemon, or it
   * must run where no daemon may). Absent for every client of the daemon.
   */
  readonly inProcess?: string;
  run(ctx: CliContext): Promise<number>;
}

/** A failure the CLI reports as one line on stderr with exit code 1 (or 2 for `usage`). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}
