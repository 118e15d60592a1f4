/**
 * "Cairn: Search Knowledge Base": a QuickPick that searches as you type. Requests are debounced and a stale
 * one is cancelled (`$/cancelRequest` through the AbortSignal) when the query changes; picking a result opens
 * the file with the passage selected. Seeded from the editor selection. Each result names the symbol its
 * passage sits in and shows the passage from its first match; results where nothing matches are left out
 * (./search-items.ts).
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { ResultOf } from '../../daemon/src/protocol/index.js';
import type { DaemonClient } from './client.js';
import { explain, isCancellation } from './errors.js';
import { revealLines } from './locations.js';
import type { DocumentView } from './documents.js';
import { hitItemText, relevantItems, type ItemHighlights } from './search-items.js';

type Hit = ResultOf<'kb/search'>[number];
export interface HitItem extends vscode.QuickPickItem {
  /** Absent for the line that explains an empty result or an error (the placeholder hides once you type). */
  hit?: Hit;
  /**
   * Where the query matches label, description and detail. VS Code's QuickPickItem has no such field in its
   * API (neither stable nor proposed, up to 1.139): the editor draws the matches of its own filter (turned on
   * for description and detail below), and these ranges are what Cairn computes, identifier-aware.
   */
  highlights?: ItemHighlights;
}

export const SEARCH_DEBOUNCE_MS = 150;

/** The QuickPick items for a query, in the daemon's order, without the hits in which nothing matches. */
export async function searchItems(client: DaemonClient, root: string, query: string, signal?: AbortSignal): Promise<HitItem[]> {
  const hits = await client.request('kb/search', { root, query, limit: 20 }, { signal });
  const shown = relevantItems(hits.map((hit) => ({ hit, text: hitItemText(hit, query) })));
  return shown.map(({ hit, text }) => ({
    hit,
    // Items are ranked by the daemon; alwaysShow keeps QuickPick from hiding those its own filter does not match.
    alwaysShow: true,
    label: text.label,
    description: text.description,
    detail: text.detail,
    highlights: text.highlights,
  }));
}

/**
 * Opens at once, even while the daemon is still starting (`client` then a promise of it): a query typed
 * meanwhile shows that it waits, and runs when the daemon is up.
 */
export async function searchKnowledgeBase(client: DaemonClient | Promise<DaemonClient | null>, root: string, initial?: string, documents?: DocumentView): Promise<void> {
  const qp = vscode.window.createQuickPick<HitItem>();
  let ready: DaemonClient | null = client instanceof Promise ? null : client;
  const daemon = client instanceof Promise ? client.then((c) => (ready = c)) : Promise.resolve(client);
  qp.title = 'Cairn: Search Knowledge Base';
  qp.placeholder = 'Search the knowledge base of this workspace (code, docs, FAQs)';
  // The editor highlights what its filter matches: the query in the symbol and the passage as well as the path.
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: AbortController | null = null;
  let generation = 0;

  const run = async (query: string) => {
    inFlight?.abort();
    const q = query.trim();
    if (!q) {
      qp.items = [];
      qp.busy = false;
      return;
    }
    const mine = ++generation;
    const ac = (inFlight = new AbortController());
    qp.busy = true;
    try {
      if (!ready) {
        qp.items = [{ label: "$(loading~spin) Waiting for Cairn's daemon to start…", alwaysShow: true }];
        await daemon;
        if (mine !== generation) return;
        if (!ready) {
          qp.items = [{ label: "$(error) Cairn's daemon is not available: see the Cairn output for why.", alwaysShow: true }];
          return;
        }
      }
      const items = await searchItems(ready as DaemonClient, root, q, ac.signal);
      if (mine !== generation) return;
      qp.items = items;
      if (items.length === 0) {
        qp.items = [{ label: `$(info) No passages match “${q}”`, detail: 'Try other words, or run “Cairn: Index Workspace” if this folder is new.', alwaysShow: true }];
      }
    } catch (err) {
      if (mine !== generation || isCancellation(err)) return;
      qp.items = [{ label: `$(error) ${explain(err).message}`, alwaysShow: true }];
    } finally {
      if (mine === generation) qp.busy = false;
    }
  };

  qp.onDidChangeValue((v) => {
    clearTimeout(timer);
    // Progress at once, not after the debounce: the first search after start can take seconds.
    if (v.trim()) {
      qp.busy = true;
      if (qp.items.length === 0) qp.items = [{ label: '$(loading~spin) Searching…', alwaysShow: true }];
    }
    timer = setTimeout(() => void run(v), SEARCH_DEBOUNCE_MS);
  });
  const picked = new Promise<Hit | undefined>((resolve) => {
    qp.onDidAccept(() => {
      resolve(qp.selectedItems[0]?.hit);
      qp.hide();
    });
    qp.onDidHide(() => {
      clearTimeout(timer);
      inFlight?.abort();
      resolve(undefined);
      qp.dispose();
    });
  });
  if (initial) {
    qp.value = initial;
    void run(initial);
  }
  qp.show();
  const hit = await picked;
  if (hit) await openHit(root, hit, ready ?? undefined, documents);
}

/** Opens a hit: a file at its lines; a team document downloaded from Storage; anything else as its passage. */
export async function openHit(root: string, hit: Hit, client?: DaemonClient, documents?: DocumentView): Promise<void> {
  if (hit.kind === 'document' && client && documents) {
    try {
      if (await documents.open(client, root, hit.path)) return;
    } catch (err) {
      if (!isCancellation(err)) void vscode.window.showWarningMessage(`Cairn could not download the document, showing the passage instead: ${explain(err).message}`);
    }
  }
  if (hit.kind !== 'file') {
    const doc = await vscode.workspace.openTextDocument({ content: `${hit.title ?? hit.path}\n\n${hit.snippet}`, language: 'markdown' });
    await vscode.window.showTextDocument(doc, { preview: true });
    return;
  }
  await revealLines(vscode.Uri.file(join(root, hit.path)), hit.startLine, hit.endLine);
}

/** The selection of the active editor, as a query (first 200 characters of it). */
export function selectionQuery(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) return undefined;
  const text = editor.document.getText(editor.selection).replace(/\s+/g, ' ').trim();
  return text ? text.slice(0, 200) : undefined;
}
