/** Shows the signed-in Cairn account in VS Code's Accounts menu, backed by AuthService. */
import * as vscode from 'vscode';
import type { Session } from '@supabase/supabase-js';
import type { AuthService } from './service.js';

export class CairnAuthProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  static readonly id = 'cairn';
  private readonly emitter = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.emitter.event;
  private last: vscode.AuthenticationSession | null = null;
  private readonly sub: vscode.Disposable;

  constructor(private readonly auth: AuthService) {
    this.sub = auth.onDidChangeSession((s) => this.update(s));
    this.last = toVsSession(auth.current);
  }

  private update(s: Session | null): void {
    const next = toVsSession(s);
    const prev = this.last;
    this.last = next;
    if (prev && next && prev.id === next.id) this.emitter.fire({ added: [], removed: [], changed: [next] });
    else this.emitter.fire({ added: next ? [next] : [], removed: prev ? [prev] : [], changed: [] });
  }

  async getSessions(): Promise<vscode.AuthenticationSession[]> {
    return this.last ? [this.last] : [];
  }

  async createSession(): Promise<vscode.AuthenticationSession> {
    await this.auth.signInInteractive();
    const s = toVsSession(this.auth.current);
    if (!s) throw new Error('Cairn sign-in did not complete.');
    return s;
  }

  async removeSession(): Promise<void> {
    await this.auth.signOut();
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

function toVsSession(s: Session | null): vscode.AuthenticationSession | null {
  if (!s) return null;
  return {
    id: s.user.id,
    accessToken: s.access_token,
    account: { id: s.user.id, label: s.user.email ?? s.user.id },
    scopes: [],
  };
}
