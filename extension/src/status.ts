/** The status bar item: connecting, ready, indexing n%, signed in as …, or an error with the action that fixes it. */
import * as vscode from 'vscode';
import type { ConnectionState, Ctx } from './ctx.js';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('cairn.status', vscode.StatusBarAlignment.Left, 10);
  private indexing: number | null = null;
  private account: string | null = null;
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

  /** The text as shown, for tests and logs. */
  get text(): string {
    return this.item.text;
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
        const who = this.account ?? (s.info.store === 'embedded' ? 'local' : s.info.user?.email ?? null);
        if (this.indexing !== null) {
          i.text = `$(sync~spin) Cairn: indexing ${Math.round(this.indexing)}%`;
          i.tooltip = 'Cairn is indexing the workspace';
          i.command = undefined;
          return;
        }
        if (s.info.store === 'supabase' && !s.info.user && !this.account) {
          i.text = '$(account) Cairn: sign in';
          i.tooltip = 'Cairn team mode: sign in to your Supabase project';
          i.command = 'cairn.signIn';
          return;
        }
        i.text = `$(check) Cairn${who && who !== 'local' ? `: ${who}` : ''}`;
        i.tooltip = `Cairn ${s.info.version}, ${s.info.store} store${who ? `, signed in as ${who}` : ''}. Click to search the knowledge base.`;
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
