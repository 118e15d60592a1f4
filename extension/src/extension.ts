/**
 * Entry point. Activation is lazy (views, commands, the URI handler, the Accounts menu) and returns quickly:
 * the daemon connection starts in the background and every command waits for it or explains itself.
 * VS Code shows nothing when activation throws, so activate catches and shows its own error.
 */
import * as vscode from 'vscode';
import { Ctx } from './ctx.js';
import { ChatViewProvider } from './chat/view.js';
import { SessionsTree } from './sessions/tree.js';
import { StatusBar } from './status.js';
import { AuthService } from './auth/service.js';
import { CairnAuthProvider } from './auth/provider.js';
import { AuditLogView } from './teams/audit.js';
import { TeamMode } from './teams/mode.js';
import { InvitationPrompts } from './teams/invitations.js';
import { registerCommands, type Parts } from './commands.js';
import { DocumentView } from './documents.js';
import { registerChatIntegration } from './participant.js';
import { describeError, log } from './log.js';
import { affectsDaemon, MODEL_KEY_SECRET } from './settings.js';

/** What activate returns: the live parts, for other extensions' automation and the integration tests. */
export interface CairnApi extends Parts {
  readonly activationMs: number;
}

export async function activate(context: vscode.ExtensionContext): Promise<CairnApi | undefined> {
  const started = performance.now();
  try {
    const ctx = new Ctx(context);
    const status = new StatusBar(ctx);
    const auth = new AuthService(ctx);
    const chat = new ChatViewProvider(ctx);
    const sessions = new SessionsTree(ctx);
    const audit = new AuditLogView(ctx, auth);
    const teamMode = new TeamMode(ctx, auth);
    const documents = new DocumentView(ctx);
    const parts: Parts = { ctx, chat, sessions, status, auth, audit, teamMode, documents };
    new InvitationPrompts(ctx, teamMode, () => parts);
    const authProvider = new CairnAuthProvider(auth);
    ctx.pushExtension(
      log(),
      status,
      auth,
      authProvider,
      vscode.window.registerWebviewViewProvider(ChatViewProvider.viewType, chat),
      vscode.window.createTreeView('cairn.sessions', { treeDataProvider: sessions, showCollapseAll: true }),
      vscode.window.registerUriHandler({ handleUri: (uri) => auth.handleUri(uri) }),
      vscode.authentication.registerAuthenticationProvider(CairnAuthProvider.id, 'Cairn', authProvider, { supportsMultipleAccounts: false }),
      auth.onDidChangeSession((s) => status.setAccount(s?.user.email ?? null)),
      teamMode.onDidChange((s) => status.setActing(s)),
      auth.onDidChangeDaemonUser(() => sessions.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => affectsDaemon(e) && void modelChanged(ctx, chat, e.affectsConfiguration('cairn.model'))),
      context.secrets.onDidChange((e) => e.key === MODEL_KEY_SECRET && void modelChanged(ctx, chat, true)),
    );
    registerCommands(parts);
    ctx.pushExtension(...registerChatIntegration(ctx));
    ctx.start();
    void auth.reload().catch((err) => log().warn(`loading the stored session: ${describeError(err)}`));
    const activationMs = performance.now() - started;
    log().info(`activated in ${activationMs.toFixed(1)} ms`);
    return { ...parts, activationMs };
  } catch (err) {
    const message = describeError(err);
    log().error(`activation failed: ${message}`);
    void vscode.window.showErrorMessage(`Cairn failed to start: ${message}`, 'Show Log').then((a) => a && log().show());
    return undefined;
  }
}

/** Hands changed settings or the key to the daemon; a model error in the chat goes once its fix is in. */
async function modelChanged(ctx: Ctx, chat: ChatViewProvider, model: boolean): Promise<void> {
  try {
    await ctx.configure();
    if (model) chat.modelSettingsChanged();
  } catch (err) {
    log().warn(`configure: ${describeError(err)}`);
  }
}

export function deactivate(): void {
  // Everything is in context.subscriptions; the daemon keeps running for other windows and the CLI.
}
