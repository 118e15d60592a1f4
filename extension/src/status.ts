/**
 * The status bar item: connecting, ready, indexing n%, signed in as …, or an error with the action that fixes it.
 * The store and user come from the daemon's latest `auth/status` (`setActing`), not the `initialize` answer,
 * which a sign-in or sign-out hand-over makes stale without a reconnect.
 */
import * as vscode from 'vscode';
import type { ConnectionState, Ctx } from './ctx.js';
import type { ActingStatus } from './teams/mode.js';

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
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'Cairn';
    this.subs.push(ctx.onDidChangeState((s) => this.render(s)));
    this.render(ctx.state);
    this.item.show();
  }

  setIndexing(percentage: number | null): void {
    this.indexing = percentage;
    this.render(this.ctx.state);
  }

  setAccount(label: string | null): void {
    this.account = label;
    this.render(this.ctx.state);
  }

  /** The daemon's store and user now (null: not read since the connection, so the `initialize` answer). */
  setActing(status: ActingStatus | null): void {
    this.acting = status;
    this.render(this.ctx.state);
  }

  /** The text as shown, for tests and logs. */
  get text(): string {
    return this.item.text;
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
        i.text = `$(check) Cairn${who && who !== 'local' ? `: ${who}` : ''}`;
        // Signed in here while the daemon still uses its local store: the hand-over is under way or failed.
        const pending = this.account && store !== 'supabase' ? ` (the daemon has not switched to your team project yet)` : '';
        i.tooltip = `Cairn ${s.info.version}, ${STORE_WORDS[store]}${who && who !== 'local' ? `, signed in as ${who}` : ''}${pending}. Click to search the knowledge base.`;
        i.command = 'cairn.searchKnowledgeBase';
        return;
      }
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
