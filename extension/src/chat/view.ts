/**
 * The `cairn.chat` webview view: the bridge between the daemon, the chat model (model.ts) and the webview. It
 * asks the daemon, feeds the answers and notifications to the model and mirrors the model into the webview:
 * the webview restores its last snapshot from getState at once, and the extension re-sends the truth.
 */
import * as vscode from 'vscode';
import type { NotificationParamsOf, ResultOf } from '../../../daemon/src/protocol/index.js';
import {
  parseFromWebview,
  type AgentOption,
  type ChatAccess,
  type ChatEntry,
  type ChatError,
  type FixAction,
  type FromWebviewMessage,
  type ToWebview,
  type ToWebviewMessage,
} from '../../../webview/src/messages.js';
import type { Ctx } from '../ctx.js';
import { errorName, explain } from '../errors.js';
import { describeError, log } from '../log.js';
import { openWorkspaceLocation } from '../locations.js';
import { SECRET_CHOICES, screenOutgoing, type SecretChoice } from './secret-guard.js';
import { chatPageHtml } from './html.js';
import { ChatModel, type StoredMessage } from './model.js';

const DELTA_FLUSH_MS = 16;

const READ_ONLY_REFUSAL =
  'Not sent: you can read this team session, but posting needs the member role. A team owner or admin can change your role.';

export class ChatViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'cairn.chat';
  private view: vscode.WebviewView | null = null;
  private readonly chat = new ChatModel();
  private agents: AgentOption[] = [{ id: 'default', name: 'Cairn', description: 'The built-in agent' }];
  /** A `chat/send` in flight (settles when it answered or failed), else null. */
  private sending: Promise<void> | null = null;
  /** Names of the people who wrote in the open session, by user id (teammates in a shared session). */
  private readonly authors = new Map<string, string>();
  /** The user the daemon acts as, their own messages being "You"; undefined until read (`auth/status`), then kept by `auth/changed`. */
  private me: string | null | undefined = undefined;
  private offeredActions = new Set<string>(['cairn.reconnect', 'cairn.showLog', 'cairn.setModelApiKey', 'cairn.signIn', 'cairn.indexWorkspace', 'workbench.action.openSettings']);
  private pendingDeltas = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** A re-read of the open session is running, and whether another change arrived meanwhile. */
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  /** Secret warnings shown in the webview, waiting for the user's choice. */
  private readonly secretQuestions = new Map<string, { message: string; answer: (choice: SecretChoice) => void }>();

  constructor(private readonly ctx: Ctx) {
    // `kb/changed` tells the chat when the workspace gets indexed (the topic is re-subscribed on every connect).
    void ctx.subscribe('kb');
    ctx.pushExtension(
      ctx.onNotification('chat/delta', (p) => this.onDelta(p)),
      ctx.onNotification('chat/tool', (p) => this.onTool(p)),
      ctx.onNotification('chat/done', (p) => this.onDone(p)),
      ctx.onNotification('sessions/changed', (p) => this.onSessionChanged(p)),
      ctx.onNotification('auth/changed', (p) => (this.me = p.user?.id ?? null)),
      ctx.onNotification('kb/changed', (p) => {
        // Once indexed, only a removal or a model change can take the index away. (Any folder's change: the
        // daemon names roots by their real path, which may differ from the editor's.)
        if (this.chat.indexed !== true || p.reason === 'remove' || p.reason === 'model') void this.readIndexState();
      }),
      ctx.onDidConnect(() => void this.onConnected()),
      ctx.onDidChangeState((s) => {
        if (s.kind === 'down') this.onConnectionLost(s.message);
        // The webview drops a "Reconnect" error once connected again; so does the model.
        if (s.kind === 'ready' && this.chat.error?.actions.some((a) => a.command === 'cairn.reconnect')) this.chat.error = null;
        this.post('connection', { connected: s.kind === 'ready', message: s.kind === 'down' ? s.message : s.kind === 'connecting' ? 'Connecting to the Cairn daemon…' : null });
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const root = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [root] };
    view.webview.html = chatPageHtml({ cspSource: view.webview.cspSource, asset: (p) => view.webview.asWebviewUri(vscode.Uri.joinPath(root, p)).toString() });
    view.webview.onDidReceiveMessage((raw) => {
      const msg = parseFromWebview(raw);
      if (!msg) {
        log().warn('ignored a malformed message from the chat webview');
        return;
      }
      void this.handle(msg).catch((err) => this.showError(explain(err)));
    });
    view.onDidChangeVisibility(() => view.visible && this.sendSnapshot());
    view.onDidDispose(() => {
      if (this.view === view) this.view = null;
    });
  }

  /** The chat as the extension holds it (tests read it; the webview renders it). */
  snapshot(): ToWebview['snapshot'] {
    return this.chat.snapshot(this.ctx.client !== null);
  }

  /** Reads whether the workspace folder is indexed, and re-renders the chat when that changed. */
  private async readIndexState(): Promise<void> {
    const client = this.ctx.client;
    const root = this.ctx.workspaceRoot();
    let indexed: boolean | null = null;
    if (client && root) {
      try {
        const status = await client.request('kb/status', { root, stale: false });
        indexed = status.models.some((m) => m.sources > 0);
      } catch (err) {
        log().warn(`could not read the index state of ${root}: ${describeError(err)}`);
      }
    }
    if (indexed === this.chat.indexed) return;
    this.chat.indexed = indexed;
    this.sendSnapshot();
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand('cairn.chat.focus');
  }

  newChat(): void {
    if (this.chat.sessionId) void this.ctx.unsubscribeSession(this.chat.sessionId);
    this.chat.clear();
    this.sendSnapshot();
    this.post('focus', {});
  }

  async openSession(sessionId: string): Promise<void> {
    const client = this.ctx.client;
    if (!client) throw new Error('The Cairn daemon is not running.');
    if (this.chat.sessionId && this.chat.sessionId !== sessionId) void this.ctx.unsubscribeSession(this.chat.sessionId);
    const read = await readSession(client, sessionId, 0);
    if (!read) return;
    await this.learnAuthors(read.messages, read.session.projectId);
    this.chat.open(sessionId, read.session, read.access, read.messages, (id) => this.authorLabel(id));
    await this.ctx.subscribeSession(sessionId);
    this.sendSnapshot();
  }

  /** Sends a message as if typed in the chat (the UI, the walkthrough and tests use this). */
  async send(content: string): Promise<void> {
    // A viewer's post would only come back PermissionDenied: say why here, and keep the daemon out of it.
    if (this.chat.access === 'read') {
      this.showError({ message: READ_ONLY_REFUSAL, actions: [] });
      return;
    }
    const client = this.ctx.client;
    if (!client) {
      this.showError({ message: 'The Cairn daemon is not running, so this message was not sent.', actions: [{ label: 'Reconnect', command: 'cairn.reconnect' }, { label: 'Show Log', command: 'cairn.showLog' }] });
      return;
    }
    if (this.sending || this.chat.streaming) {
      this.showError({ message: 'Cairn is still answering; stop it or wait for the reply.', actions: [] });
      return;
    }
    let sent!: () => void;
    this.sending = new Promise<void>((resolve) => (sent = resolve));
    this.chat.error = null;
    // A secret in the message is caught before it leaves the machine: the user redacts, sends anyway or cancels.
    let outgoing: string | null;
    try {
      outgoing = await screenOutgoing(content, (text) => client.request('secrets/check', { text }), (question) => this.askAboutSecrets(question));
    } catch (err) {
      outgoing = null;
      const e = explain(err);
      this.showError({ message: `Not sent: the message could not be checked for secrets: ${e.message}`, actions: e.actions });
    }
    if (outgoing === null) {
      this.post('draft', { text: content });
      this.sending = null;
      sent();
      return;
    }
    content = outgoing;
    const local: ChatEntry = { id: `local-${Date.now()}`, role: 'user', content, status: 'pending', tools: [] };
    this.chat.entries.push(local);
    this.sendSnapshot();
    try {
      const root = this.ctx.workspaceRoot();
      const r = await client.request('chat/send', {
        content,
        agentId: this.chat.agentId,
        ...(this.chat.sessionId ? { sessionId: this.chat.sessionId } : {}),
        ...(root ? { root } : {}),
      });
      local.id = r.messageId;
      local.status = 'complete';
      if (this.chat.sessionId !== r.sessionId) {
        this.chat.sessionId = r.sessionId;
        await this.ctx.subscribeSession(r.sessionId);
      }
      this.chat.ensureReply(r.replyId);
      this.sendSnapshot();
    } catch (err) {
      local.status = 'failed';
      const e = explain(err);
      local.error = { code: 'send', message: e.message };
      this.sendSnapshot();
      this.showError({ message: `Not sent: ${e.message}`, actions: e.actions });
      // Refused, perhaps because the user's role changed since the chat was read: read what they may do now.
      if (errorName(err) === 'PermissionDenied' && this.chat.sessionId) void this.refresh();
    } finally {
      this.sending = null;
      sent();
    }
  }

  /**
   * Asks what to do with a message holding a secret: in the chat view when it is showing, else in a modal.
   * A view that goes away meanwhile counts as Cancel.
   */
  private async askAboutSecrets(question: string): Promise<SecretChoice> {
    const view = this.view;
    if (view?.visible) {
      const warningId = `secret-${Date.now()}-${this.secretQuestions.size}`;
      return new Promise<SecretChoice>((resolve) => {
        const gone = view.onDidDispose(() => answer('cancel'));
        const answer = (choice: SecretChoice) => {
          gone.dispose();
          this.secretQuestions.delete(warningId);
          resolve(choice);
        };
        this.secretQuestions.set(warningId, { message: question, answer });
        this.post('secretWarning', { warningId, message: question });
      });
    }
    const picked = await vscode.window.showWarningMessage(question, { modal: true }, SECRET_CHOICES.redact, SECRET_CHOICES.send);
    return picked === SECRET_CHOICES.redact ? 'redact' : picked === SECRET_CHOICES.send ? 'send' : 'cancel';
  }

  async stop(): Promise<void> {
    const streaming = this.chat.streaming;
    if (!streaming || !this.ctx.client) return;
    await this.ctx.client.request('chat/cancel', { messageId: streaming.id });
  }

  private async handle(msg: FromWebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.sendSnapshot();
        // A webview that was rebuilt while a question waited asks it again.
        for (const [warningId, q] of this.secretQuestions) this.post('secretWarning', { warningId, message: q.message });
        void this.readIndexState();
        this.post('agents', { agents: this.agents, selected: this.chat.agentId });
        void this.loadAgents();
        return;
      case 'send':
        this.chat.agentId = msg.body.agentId;
        return this.send(msg.body.content);
      case 'stop':
        return this.stop();
      case 'copy':
        await vscode.env.clipboard.writeText(msg.body.text);
        void vscode.window.setStatusBarMessage('Cairn: copied to the clipboard', 2000);
        return;
      case 'insert': {
        const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
        if (!editor) {
          void vscode.window.showInformationMessage('Cairn: open a file to insert the code into.');
          return;
        }
        await editor.edit((b) => {
          for (const sel of editor.selections) b.replace(sel, msg.body.text);
        });
        return;
      }
      case 'selectAgent':
        this.chat.agentId = msg.body.agentId;
        return;
      case 'newChat':
        return this.newChat();
      case 'dismissError':
        this.chat.error = null;
        return;
      case 'runAction':
        if (!this.offeredActions.has(msg.body.command)) {
          log().warn(`the chat webview asked for a command it was not offered: ${msg.body.command}`);
          return;
        }
        await vscode.commands.executeCommand(msg.body.command, ...(msg.body.args ?? []));
        return;
      case 'openLocation':
        return openWorkspaceLocation(msg.body);
      case 'secretChoice': {
        this.secretQuestions.get(msg.body.warningId)?.answer(msg.body.choice);
        return;
      }
      case 'openFull': {
        const entry = this.chat.entries.find((e) => e.id === msg.body.messageId);
        if (!entry) return;
        const doc = await vscode.workspace.openTextDocument({ content: entry.content, language: 'markdown' });
        await vscode.window.showTextDocument(doc);
        return;
      }
    }
  }

  private async loadAgents(): Promise<void> {
    if (!this.ctx.client) return;
    try {
      const { agents } = await this.ctx.client.request('agents/list', {});
      const list = agents.map((a) => ({ id: a.id, name: a.name, description: a.description }));
      if (!list.some((a) => a.id === 'default')) list.unshift({ id: 'default', name: 'Cairn', description: 'The built-in agent' });
      this.agents = list;
      this.post('agents', { agents: this.agents, selected: this.chat.agentId });
    } catch (err) {
      log().warn(`agents/list: ${describeError(err)}`);
    }
  }

  private isCurrent(sessionId: string): boolean {
    return this.chat.isCurrent(sessionId, this.sending !== null);
  }

  private onDelta(p: NotificationParamsOf<'chat/delta'>): void {
    if (!this.isCurrent(p.sessionId)) return;
    this.chat.delta(p);
    this.pendingDeltas.set(p.messageId, (this.pendingDeltas.get(p.messageId) ?? '') + p.delta);
    this.flushTimer ??= setTimeout(() => this.flushDeltas(), DELTA_FLUSH_MS);
  }

  private flushDeltas(): void {
    this.flushTimer = undefined;
    for (const [messageId, delta] of this.pendingDeltas) this.post('delta', { messageId, delta });
    this.pendingDeltas.clear();
  }

  private onTool(p: NotificationParamsOf<'chat/tool'>): void {
    if (!this.isCurrent(p.sessionId)) return;
    const activity = this.chat.tool(p);
    this.flushDeltas();
    this.post('tool', { messageId: p.messageId, activity });
  }

  private onDone(p: NotificationParamsOf<'chat/done'>): void {
    // Every failure reaches the Output channel, also of a chat that is not open.
    if (p.status === 'failed') log().error(`chat reply failed (${p.error?.code ?? 'unknown'}): ${describeError(p.error ?? 'no reason given')}`);
    if (!this.isCurrent(p.sessionId)) return;
    this.chat.done(p);
    this.flushDeltas();
    this.post('done', { messageId: p.messageId, status: p.status, ...(p.error ? { error: p.error } : {}) });
    if (p.status === 'failed' && p.error) this.showError(explain({ codeName: p.error.code, message: p.error.message }));
  }

  /**
   * Someone else changed the open session (a teammate posted or renamed it, in team mode) or it left the
   * user's view (deleted, unshared, or they left its team).
   */
  private onSessionChanged(p: NotificationParamsOf<'sessions/changed'>): void {
    if (p.sessionId !== this.chat.sessionId) return;
    if (p.change === 'deleted') {
      this.newChat();
      this.showError({ message: 'This chat is no longer available to you: it was deleted, unshared, or you are no longer in its team.', actions: [] });
      return;
    }
    const retitled = p.session !== null && p.session.title !== this.chat.title;
    if (p.session) this.chat.title = p.session.title;
    // Its own fields, or a reply this view watched stream: nothing to re-read, the title is in hand.
    if (p.cause === 'session' || p.cause === 'reply') {
      if (retitled) this.sendSnapshot();
      return;
    }
    void this.refresh();
  }

  /** Re-reads the open session from its first unfinished message on, one read at a time. */
  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        // A message being sent gets its id when chat/send answers; re-read after that, not before.
        while (this.sending) await this.sending;
        try {
          await this.mergeFromStore();
        } catch (err) {
          log().warn(`could not re-read the open chat after a change: ${describeError(err)}`);
        }
      } while (this.refreshAgain);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async mergeFromStore(): Promise<void> {
    const client = this.ctx.client;
    const sessionId = this.chat.sessionId;
    if (!client || !sessionId) return;
    const from = this.chat.rereadFrom();
    const fresh = await readSession(client, sessionId, from, () => this.chat.sessionId === sessionId);
    if (!fresh) return;
    this.chat.reread(fresh.session, fresh.access);
    await this.learnAuthors(fresh.messages, this.chat.projectId);
    if (this.chat.sessionId !== sessionId) return;
    this.chat.merge(from, fresh.messages, (id) => this.authorLabel(id));
    this.sendSnapshot();
  }

  /** "You" for the user's own messages (undefined), else the writer's name, email, or "A teammate". */
  private authorLabel(authorId: string | null): string | undefined {
    if (authorId === null || authorId === this.me) return undefined;
    return this.authors.get(authorId) ?? 'A teammate';
  }

  /** Learns who the user is and the names of other authors (from the members of the project's team). */
  private async learnAuthors(messages: readonly StoredMessage[], projectId: string | null): Promise<void> {
    const client = this.ctx.client;
    if (!client) return;
    try {
      if (this.me === undefined) this.me = (await client.request('auth/status', {})).user?.id ?? null;
      const unknown = messages.some((m) => m.role === 'user' && m.authorId !== null && m.authorId !== this.me && !this.authors.has(m.authorId));
      if (!unknown || !projectId) return;
      const teamId = (await client.request('workspace/listProjects', {})).projects.find((p) => p.id === projectId)?.teamId;
      if (!teamId) return;
      for (const m of await client.request('teams/members', { teamId })) this.authors.set(m.userId, m.displayName || m.email || 'A teammate');
    } catch (err) {
      log().warn(`could not name the authors of the open chat: ${describeError(err)}`);
    }
  }

  private onConnectionLost(reason: string): void {
    if (this.chat.connectionLost(reason)) this.sendSnapshot();
  }

  private async onConnected(): Promise<void> {
    // Another daemon (a restart) may act as someone else: read it again when needed.
    this.me = undefined;
    void this.readIndexState();
    if (!this.chat.sessionId) {
      this.sendSnapshot();
      return;
    }
    try {
      await this.openSession(this.chat.sessionId);
    } catch (err) {
      log().warn(`could not reload the open chat after reconnecting: ${describeError(err)}`);
      this.sendSnapshot();
    }
  }

  private offer(actions: FixAction[]): FixAction[] {
    for (const a of actions) this.offeredActions.add(a.command);
    return actions;
  }

  /**
   * The model key or settings changed: an error whose fix was exactly that is no longer true, so it goes (the
   * failed reply keeps its own error in the log).
   */
  modelSettingsChanged(): void {
    if (!this.chat.error?.actions.some((a) => a.command === 'cairn.setModelApiKey')) return;
    this.chat.error = null;
    this.sendSnapshot();
  }

  /** Shows an error in place (kept in the chat model until dismissed, a send, or another chat, or its fix). */
  private showError(error: ChatError): void {
    this.chat.error = { message: error.message, actions: this.offer(error.actions) };
    this.post('error', this.chat.error);
  }

  private sendSnapshot(): void {
    this.flushDeltas();
    this.post('snapshot', this.snapshot());
  }

  private post<K extends keyof ToWebview>(type: K, body: ToWebview[K]): void {
    void this.view?.webview.postMessage({ type, body } as ToWebviewMessage);
  }
}

type Client = NonNullable<Ctx['client']>;

/**
 * Reads a session's messages stored after `afterSeq`, all pages; null when `stillWanted` says the chat moved
 * on to another session meanwhile.
 */
async function readSession(
  client: Client,
  sessionId: string,
  afterSeq: number,
  stillWanted: () => boolean = () => true,
): Promise<{ session: ResultOf<'sessions/get'>['session']; access: ChatAccess; messages: StoredMessage[] } | null> {
  const messages: StoredMessage[] = [];
  for (;;) {
    const page = await client.request('sessions/get', { sessionId, afterSeq, limit: 500 });
    if (!stillWanted()) return null;
    messages.push(...page.messages);
    if (page.nextAfterSeq === null) return { session: page.session, access: page.access, messages };
    afterSeq = page.nextAfterSeq;
  }
}
