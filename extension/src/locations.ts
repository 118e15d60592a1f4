/**
 * Opening a file at a range of lines: search results and every location cited in the chat (`src/a.ts:10-20`)
 * end here, so both select the passage the same way.
 */
import * as vscode from 'vscode';
import { isAbsolute, join, relative, resolve } from 'node:path';

/** Opens `uri` with lines `startLine`..`endLine` (1-based, clamped to the file) selected and in view. */
export async function revealLines(uri: vscode.Uri, startLine: number, endLine: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const start = Math.min(doc.lineCount - 1, Math.max(0, startLine - 1));
  const end = Math.min(doc.lineCount - 1, Math.max(start, endLine - 1));
  const range = new vscode.Range(start, 0, end, doc.lineAt(end).text.length);
  await vscode.window.showTextDocument(doc, { selection: range, preview: true });
}

function inside(folder: string, path: string): boolean {
  const r = relative(folder, path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await vscode.workspace.fs.stat(vscode.Uri.file(path))).type === vscode.FileType.File;
  } catch {
    return false;
  }
}

/**
 * The file a location in the chat names, inside one of the open workspace folders (relative to it, or
 * absolute within it); null when there is none. The chat's text comes from a model: a path that leaves the
 * workspace (`../../etc/passwd`) is not opened.
 */
export async function resolveWorkspaceFile(path: string): Promise<vscode.Uri | null> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const candidates = isAbsolute(path) ? [resolve(path)] : folders.map((f) => resolve(join(f, path)));
  for (const c of candidates) {
    if (folders.some((f) => inside(f, c)) && (await isFile(c))) return vscode.Uri.file(c);
  }
  return null;
}

/** Opens a location cited in the chat, or says why it cannot. */
export async function openWorkspaceLocation(loc: { path: string; startLine: number; endLine: number }): Promise<void> {
  const uri = await resolveWorkspaceFile(loc.path);
  if (!uri) {
    void vscode.window.showWarningMessage(`Cairn: ${loc.path} is not a file in this workspace, so it cannot be opened.`);
    return;
  }
  await revealLines(uri, loc.startLine, loc.endLine);
}
