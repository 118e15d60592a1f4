/**
 * Finds the running daemon through its discovery file ($CAIRN_HOME/daemon.json) or starts the one bundled in
 * the extension (dist/daemon.mjs) with VS Code's own runtime (`process.execPath` with ELECTRON_RUN_AS_NODE=1,
 * so users need no Node.js): the shared `ensureDaemon` routine the CLI uses. Then connects with its token.
 */
import * as vscode from 'vscode';
import { DaemonClient, ensureDaemon, resolveHome } from '../../daemon/src/protocol/client/index.js';
import { log } from './log.js';

export async function connectDaemon(extension: vscode.ExtensionContext): Promise<DaemonClient> {
  const home = resolveHome(process.env);
  const script = vscode.Uri.joinPath(extension.extensionUri, 'dist', 'daemon.mjs').fsPath;
  const info = await ensureDaemon(home, {
    spawn: { execPath: process.execPath, args: [script], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
    timeoutMs: 60_000,
  });
  if (info.started) log().info(`started the Cairn daemon (pid ${info.pid}) for ${home}`);
  return DaemonClient.connect(info);
}

/** Settles when the connection ends, for whatever reason. */
export function whenClosed(client: DaemonClient): Promise<string> {
  return new Promise((resolve) => {
    if (!client.isOpen) return resolve('connection closed');
    client.onClose(resolve);
  });
}
