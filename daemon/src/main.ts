/**
 * Entry of `dist/daemon.mjs`: runs the daemon in the foreground (`--stdio` to also serve JSON-RPC on
 * stdin/stdout). `cairn daemon` does the same through the CLI.
 */
import { runDaemon } from './host/run.js';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--stdio');
if (unknown.length > 0) {
  process.stderr.write(`usage: daemon [--stdio]  (unknown: ${unknown.join(' ')})\n`);
  process.exit(2);
}
// A fault in a stray callback must not take down every client's daemon; it is logged to stderr.
process.on('uncaughtException', (err) => process.stderr.write(`cairn daemon: uncaught ${err.stack ?? err.message}\n`));
process.on('unhandledRejection', (err) => process.stderr.write(`cairn daemon: unhandled rejection ${String((err as Error)?.stack ?? err)}\n`));
const code = await runDaemon({ stdio: args.includes('--stdio'), env: process.env });
process.exit(code);
