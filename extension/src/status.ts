/**
 * The status bar item: connecting, ready, indexing n%, signed in as …, or an error with the action that fixes it.
 * The store and user come from the daemon's latest `auth/status` (`setActing`), not the `initialize` answer,
 * which a sign-in or sign-out hand-over makes stale without a reconnect.
 */
import * as vscode from 'vscode';
import type { ConnectionState, Ctx } from './ctx.js';
import { describeError, log } from './log.js';
import type { ActingStatus } from './teams/mode.js';
import { askProjectChoice } from './teams/projects.js';

export interface IndexState {
  /** Files of the folder in the knowledge base (documents, URLs and FAQs not counted). */
  files: number;
  sources: number;
  lastIndexedAt: string | null;
}

const STORE_WORDS: Record<ActingStatus['store'], string> = {
  embedded: 'embedded store',
  postgres: 'Postgres store',
  supabase: 'team project (Supabase)',
};

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('cairn.status', vscode.StatusBarAlignment.Left, 10);
  private indexing: number | null = null;
  private account: string | null = null;
  private acting: ActingStatus | null = null;
  /** The open folder's knowledge base: undefined until read (or without a folder), null when nothing is indexed. */
  private index: IndexState | null | undefined = undefined;
  private indexTimer: NodeJS.Timeout | undefined;
  /** Reads of the index state begun; only the latest one's answer (or failure) is shown. */
  private indexReads = 0;
  /** The folder maps to no project until the user chooses one (`ProjectChoiceNeeded`). */
  private choiceNeeded = false;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'Cairn';
    this.subs.push(
      ctx.onDidChangeState((s) => this.render(s)),
      ctx.onDidConnect(() => void this.readIndex()),
      ctx.onNotification('kb/changed', () => this.readIndexSoon()),
    );
    void ctx.subscribe('kb');
    this.render(ctx.state);
    this.item.show();
  }

  setIndexing(percentage: number | null): void {
    const finished = this.indexing !== null && percentage === null;
    this.indexing = percentage;
    this.render(this.ctx.state);
    if (finished) void this.readIndex();
  }

  /** Whether the open folder is indexed, as the status bar last showed it (tests). */
  get indexState(): IndexState | null | undefined {
    return this.index;
  }

  private readIndexSoon(): void {
    clearTimeout(this.indexTimer);
    this.indexTimer = setTimeout(() => void this.readIndex(), 500);
  }

  /**
   * Reads what is indexed for the open folder (`kb/status`, without the stale-file crawl). The answer depends on
   * whom the daemon acts for (the local store, or a user's team project), which changes after a connect: a
   * restarted daemon answers from its local store until this window's sign-in is handed over. So it is read
   * again at each change of store or user (`setActing`), and only the latest read counts: an earlier one that
   * ends later (begun before the hand-over, or on a connection that dropped) never overwrites it.
   */
  async readIndex(): Promise<void> {
    const client = this.ctx.client;
    const root = this.ctx.workspaceRoot();
    if (!client || !root) return;
    const read = ++this.indexReads;
    let index: IndexState | null | undefined;
    let choiceNeeded = false;
    try {
      const st = await client.request('kb/status', { root, stale: false });
      const m = st.models.find((x) => x.model === st.activeModel) ?? st.models[0];
      const files = m?.byKind.file?.sources ?? 0;
      index = m && m.sources > 0 ? { files, sources: m.sources, lastIndexedAt: m.lastIndexedAt } : null;
    } catch (err) {
      if (read !== this.indexReads) return;
      index = undefined;
      // The folder waits for the user's choice of project (a team's repository): ask, and say so here until then.
      choiceNeeded = askProjectChoice(err, root);
      if (!choiceNeeded) {
        log().warn(`reading the index state for the status bar: ${describeError(err)}`);
        // A daemon just (re)started may not answer yet: look again while connected, so the state is not left unknown.
        if (this.ctx.client === client) {
          clearTimeout(this.indexTimer);
          this.indexTimer = setTimeout(() => void this.readIndex(), 2000);
        }
      }
    }
    if (read !== this.indexReads) return;
    this.index = index;
    this.choiceNeeded = choiceNeeded;
    this.render(this.ctx.state);
  }

  setAccount(label: string | null): void {
    this.account = label;
    this.render(this.ctx.state);
  }

  /** The daemon's store and user now (null: not read since the connection, so the `initialize` answer). */
  setActing(status: ActingStatus | null): void {
    const before = this.acting;
    this.acting = status;
    this.render(this.ctx.state);
    // Another store or user: another project for this folder, so another index state.
    if (status && (status.store !== before?.store || status.user?.id !== before?.user?.id)) void this.readIndex();
  }

  /** The text as shown, for tests and logs. */
  get text(): string {
    return this.item.text;
  }

  /** The command a click runs, for tests. */
  get command(): string | undefined {
    const c = this.item.command;
    return typeof c === 'string' ? c : c?.command;
  }

  /** The tooltip as shown, for tests. */
  get tooltip(): string {
    return typeof this.item.tooltip === 'string' ? this.item.tooltip : (this.item.tooltip?.value ?? '');
  }

  private render(s: ConnectionState): void {
    const i = this.item;
    i.backgroundColor = undefined;
    switch (s.kind) {
      case 'connecting':
        i.text = '$(loading~spin) Cairn';
        i.tooltip = s.attempt === 0 ? 'Cairn: connecting to the daemon…' : `Cairn: reconnecting (attempt ${s.attempt + 1})…`;
        i.command = 'cairn.showLog';
        return;
      case 'down':
        i.text = '$(error) Cairn';
        i.tooltip = `Cairn: ${s.message}\nClick to reconnect.`;
        i.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        i.command = 'cairn.reconnect';
        return;
      case 'ready': {
        const store = this.acting?.store ?? s.info.store;
        const user = this.acting ? this.acting.user : s.info.user;
        const who = this.account ?? (store === 'embedded' ? 'local' : user?.email ?? null);
        if (this.indexing !== null) {
          i.text = `$(sync~spin) Cairn: indexing ${Math.round(this.indexing)}%`;
          i.tooltip = 'Cairn is indexing the workspace';
          i.command = undefined;
          return;
        }
        if (store === 'supabase' && !user && !this.account) {
          i.text = '$(account) Cairn: sign in';
          i.tooltip = 'Cairn team mode: sign in to your Supabase project';
          i.command = 'cairn.signIn';
          return;
        }
        // Signed in here while the daemon still uses its local store: the hand-over is under way or failed.
        const pending = this.account && store !== 'supabase' ? ` (the daemon has not switched to your team project yet)` : '';
        const about = `Cairn ${s.info.version}, ${STORE_WORDS[store]}${who && who !== 'local' ? `, signed in as ${who}` : ''}${pending}.`;
        if (this.choiceNeeded) {
          i.text = `$(question) Cairn: choose a project`;
          i.tooltip = `${about}\nThis folder's repository is a project of a team you have not used with it: Cairn maps it to no project until you choose one. Click to choose.`;
          i.command = 'cairn.chooseProject';
          return;
        }
        if (this.index === null) {
          // Nothing to search or answer from yet: say so where the user looks, with the one click that fixes it.
          i.text = `$(database) Cairn: index this workspace`;
          i.tooltip = `${about}\nThis workspace is not indexed yet, so search and chat have nothing of it to draw on. Click to index it.`;
          i.command = 'cairn.indexWorkspace';
          return;
        }
        i.text = `$(check) Cairn${who && who !== 'local' ? `: ${who}` : ''}`;
        const indexed = this.index
          ? `\nIndexed: ${this.index.files} file${this.index.files === 1 ? '' : 's'}${this.index.lastIndexedAt ? `, last run ${new Date(this.index.lastIndexedAt).toLocaleString()}` : ''}.`
          : '';
        i.tooltip = `${about}${indexed}\nClick to search the knowledge base.`;
        i.command = 'cairn.searchKnowledgeBase';
        return;
      }
    }
  }

  dispose(): void {
    clearTimeout(this.indexTimer);
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
