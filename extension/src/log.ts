/** The extension's log: one LogOutputChannel ("Cairn"), so users can read what happened via "Cairn: Show Log". */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Cairn', { log: true });
  return channel;
}

/** Declared with the other error helpers, which are pure (tested without `vscode`). */
export { describeError } from './errors.js';
