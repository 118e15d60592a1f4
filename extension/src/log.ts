/** The extension's log: one LogOutputChannel ("Cairn"), so users can read what happened via "Cairn: Show Log". */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Cairn', { log: true });
  return channel;
}

/**
 * A message safe to show or log: the error's own text, without stack traces or anything token-shaped. A plain
 * `{ code, message }` (a reply's error from `chat/done`) is its message, never "[object Object]".
 */
export function describeError(err: unknown): string {
  const own = err && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  const text = err instanceof Error ? err.message : typeof own === 'string' ? own : String(err);
  return text.replace(/(eyJ[\w-]+\.[\w-]+\.[\w-]+)|(sk-[\w-]{8,})|(Bearer\s+\S+)/g, '[redacted]');
}
