/**
 * "Cairn: Add Document to Knowledge Base" and opening a document from a search hit. The daemon does the work
 * (`kb/addDocument`: in a team project it uploads the file to the team's Supabase Storage bucket as the
 * signed-in user and indexes it for every member; elsewhere it indexes it locally). A team document opens
 * downloaded (`kb/openDocument`): text in a read-only editor on the `cairn-doc:` scheme, a PDF from a
 * read-only temporary copy with the editor's viewer for it.
 */
import * as vscode from 'vscode';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultOf } from '../../daemon/src/protocol/index.js';
import type { DaemonClient } from './client.js';
import type { Ctx } from './ctx.js';
import { errorName, explain, isCancellation } from './errors.js';

type Opened = ResultOf<'kb/openDocument'>;
type Added = ResultOf<'kb/addDocument'>;

export const DOCUMENT_FILTERS = { 'Documents (Markdown, text, HTML, PDF)': ['md', 'markdown', 'txt', 'text', 'html', 'htm', 'pdf'] };

const LANGUAGE: Record<Opened['format'], string> = { markdown: 'markdown', text: 'plaintext', html: 'html', pdf: 'plaintext' };

/** The sentence a user reads after adding a document. Pure, for tests. */
export function addedMessage(added: Pick<Added, 'title' | 'uri' | 'chunks' | 'storagePath'>): string {
  const name = added.title ?? added.uri.replace(/^doc:/, '');
  const where = added.storagePath ? "the team's knowledge base (stored in the team's Supabase Storage, every member can open it)" : "this workspace's knowledge base";
  return `Cairn: added “${name}” to ${where}: ${added.chunks} passage${added.chunks === 1 ? '' : 's'} indexed.`;
}

export class DocumentView implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'cairn-doc';
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(ctx: Ctx) {
    ctx.pushExtension(this.changed, vscode.workspace.registerTextDocumentContentProvider(DocumentView.scheme, this));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'This document is no longer loaded in this window: open it again from “Cairn: Search Knowledge Base”.\n';
  }

  /** The command: picks a file (or takes the explorer's), adds it, and says where it went. */
  async add(client: DaemonClient, root: string, arg?: unknown): Promise<Added | undefined> {
    let file = arg instanceof vscode.Uri && arg.scheme === 'file' ? arg : undefined;
    if (!file) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Add to Knowledge Base', filters: DOCUMENT_FILTERS, title: 'Cairn: Add Document to Knowledge Base' });
      file = picked?.[0];
    }
    if (!file) return undefined;
    try {
      const added = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Cairn: adding ${file.path.split('/').pop()}…` },
        () => client.request('kb/addDocument', { root, path: file.fsPath }),
      );
      void vscode.window.showInformationMessage(addedMessage(added));
      return added;
    } catch (err) {
      if (isCancellation(err)) return undefined;
      const e = explain(err);
      // Not awaited: the command ends now (with nothing added) and the message waits for the reader.
      void vscode.window.showErrorMessage(`Cairn could not add the document: ${e.message}`, ...e.actions.map((a) => a.label)).then((picked) => {
        const a = e.actions.find((x) => x.label === picked);
        if (a) void vscode.commands.executeCommand(a.command, ...(a.args ?? []));
      });
      return undefined;
    }
  }

  /**
   * Opens a document hit from its stored file. Resolves false when it has none (embedded mode, inline text),
   * so the caller shows the passage instead.
   */
  async open(client: DaemonClient, root: string, uri: string): Promise<boolean> {
    let doc: Opened;
    try {
      doc = await client.request('kb/openDocument', { root, uri });
    } catch (err) {
      if (errorName(err) === 'NotFound') return false;
      throw err;
    }
    if (doc.base64 !== undefined) {
      const dir = await mkdtemp(join(tmpdir(), 'cairn-doc-'));
      const path = join(dir, doc.name);
      await writeFile(path, Buffer.from(doc.base64, 'base64'));
      await chmod(path, 0o444);
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(path), { preview: true });
      return true;
    }
    const view = vscode.Uri.from({ scheme: DocumentView.scheme, path: `/${doc.name}`, query: doc.storagePath });
    this.texts.set(view.toString(), doc.text ?? '');
    this.changed.fire(view);
    const text = await vscode.workspace.openTextDocument(view);
    await vscode.languages.setTextDocumentLanguage(text, LANGUAGE[doc.format]);
    await vscode.window.showTextDocument(text, { preview: true });
    return true;
  }
}
