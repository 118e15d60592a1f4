/**
 * The `cairn.chat` webview view. The extension keeps the chat model (session, entries, streaming reply) and
 * mirrors it into the webview, so the chat survives the view being hidden and the daemon restarting: the
 * webview restores its last snapshot from getState at once, and the extension re-sends the truth.
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

type Message = ResultOf<'sessions/get'>['messages'][number];

const DELTA_FLUSH_MS = 16;

const READ_ONLY_REFUSAL =
  'Not sent: you can read this team session, but posting needs the member role. A team owner or admin can change your role.';

export class ChatViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'cairn.chat';
  private view: vscode.WebviewView | null = null;
  private sessionId: string | null = null;
  private title: string | null = null;
  private entries: ChatEntry[] = [];
  private agentId = 'default';
  private agents: AgentOption[] = [{ id: 'default', name: 'Cairn', description: 'The built-in agent' }];
  /** A `chat/send` in flight (settles when it answered or failed), else null. */
  private sending: Promise<void> | null = null;
  /** What the user may do in the open session; a new chat is their own. */
  private access: ChatAccess = 'owner';
  /** Names of the people who wrote in the open session, by user id (teammates in a shared session). */
  private readonly authors = new Map<string, string>();
  /** The user the daemon acts as, their own messages being "You"; undefined until read (`auth/status`), then kept by `auth/changed`. */
  private me: string | null | undefined = undefined;
  /** The open session's project (its team's members name the authors). */
  private projectId: string | null = null;
  private error: ChatError | null = null;
  private offeredActions = new Set<string>(['cairn.reconnect', 'cairn.showLog', 'cairn.setModelApiKey', 'cairn.signIn', 'cairn.indexWorkspace', 'workbench.action.openSettings']);
  private pendingDeltas = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** The open session's stored messages, oldest first: what a teammate's change is merged into. */
  private messages: Message[] = [];
  /** Replies this daemon streams to us: their deltas are the truth until they finish. */
  private readonly ownReplies = new Set<string>();
  /** A re-read of the open session is running, and whether another change arrived meanwhile. */
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  /** Whether the workspace folder has an index (`kb/status`), null until known: an empty chat offers to index it. */
  private indexed: boolean | null = null;
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
        if (this.indexed !== true || p.reason === 'remove' || p.reason === 'model') void this.readIndexState();
      }),
      ctx.onDidConnect(() => void this.onConnected()),
      ctx.onDidChangeState((s) => {
        if (s.kind === 'down') this.onConnectionLost(s.message);
        // The webview drops a "Reconnect" error once connected again; so does the model.
        if (s.kind === 'ready' && this.error?.actions.some((a) => a.command === 'cairn.reconnect')) this.error = null;
        this.post('connection', { connected: s.kind === 'ready', message: s.kind === 'down' ? s.message : s.kind === 'connecting' ? 'Connecting to the Cairn daemon…' : null });
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const root = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [root] };
    view.webview.html = renderHtml(view.webview, root);
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
    return {
      sessionId: this.sessionId,
      title: this.title,
      entries: this.entries,
      agentId: this.agentId,
      connected: this.ctx.client !== null,
      access: this.access,
      error: this.error,
      indexed: this.indexed,
    };
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
    if (indexed === this.indexed) return;
    this.indexed = indexed;
    this.sendSnapshot();
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand('cairn.chat.focus');
  }

  newChat(): void {
    if (this.sessionId) void this.ctx.unsubscribeSession(this.sessionId);
    this.sessionId = null;
    this.title = null;
    this.entries = [];
    this.messages = [];
    this.ownReplies.clear();
    this.projectId = null;
    this.access = 'owner';
    this.error = null;
    this.sendSnapshot();
    this.post('focus', {});
  }

  async openSession(sessionId: string): Promise<void> {
    const client = this.ctx.client;
    if (!client) throw new Error('The Cairn daemon is not running.');
    if (this.sessionId && this.sessionId !== sessionId) void this.ctx.unsubscribeSession(this.sessionId);
    const messages: Message[] = [];
    let afterSeq = 0;
    let session: ResultOf<'sessions/get'>['session'] | null = null;
    let access: ChatAccess = 'owner';
    for (;;) {
      const page = await client.request('sessions/get', { sessionId, afterSeq, limit: 500 });
      session = page.session;
      access = page.access;
      messages.push(...page.messages);
      if (page.nextAfterSeq === null) break;
      afterSeq = page.nextAfterSeq;
    }
    // An error about another chat does not belong here; one about this chat (a reload) stays.
    if (this.sessionId !== sessionId) this.error = null;
    this.sessionId = sessionId;
    this.title = session.title;
    this.projectId = session.projectId;
    this.access = access;
    this.agentId = session.agentId ?? 'default';
    this.messages = messages;
    await this.learnAuthors(messages, session.projectId);
    this.entries = toEntries(messages, (id) => this.authorLabel(id));
    await this.ctx.subscribeSession(sessionId);
    this.sendSnapshot();
  }

  /** Sends a message as if typed in the chat (the UI, the walkthrough and tests use this). */
  async send(content: string): Promise<void> {
    // A viewer's post would only come back PermissionDenied: say why here, and keep the daemon out of it.
    if (this.access === 'read') {
      this.showError({ message: READ_ONLY_REFUSAL, actions: [] });
      return;
    }
    const client = this.ctx.client;
    if (!client) {
      this.showError({ message: 'The Cairn daemon is not running, so this message was not sent.', actions: [{ label: 'Reconnect', command: 'cairn.reconnect' }, { label: 'Show Log', command: 'cairn.showLog' }] });
      return;
    }
    if (this.sending || this.entries.some((e) => e.status === 'streaming')) {
      this.showError({ message: 'Cairn is still answering; stop it or wait for the reply.', actions: [] });
      return;
    }
    let sent!: () => void;
    this.sending = new Promise<void>((resolve) => (sent = resolve));
    this.error = null;
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
    this.entries.push(local);
    this.sendSnapshot();
    try {
      const root = this.ctx.workspaceRoot();
      const r = await client.request('chat/send', {
        content,
        agentId: this.agentId,
        ...(this.sessionId ? { sessionId: this.sessionId } : {}),
        ...(root ? { root } : {}),
      });
      local.id = r.messageId;
      local.status = 'complete';
      if (this.sessionId !== r.sessionId) {
        this.sessionId = r.sessionId;
        await this.ctx.subscribeSession(r.sessionId);
      }
      this.ensureReply(r.replyId);
      this.sendSnapshot();
    } catch (err) {
      local.status = 'failed';
      const e = explain(err);
      local.error = { code: 'send', message: e.message };
      this.sendSnapshot();
      this.showError({ message: `Not sent: ${e.message}`, actions: e.actions });
      // Refused, perhaps because the user's role changed since the chat was read: read what they may do now.
      if (errorName(err) === 'PermissionDenied' && this.sessionId) void this.refresh();
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
    const streaming = this.entries.find((e) => e.status === 'streaming');
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
        this.post('agents', { agents: this.agents, selected: this.agentId });
        void this.loadAgents();
        return;
      case 'send':
        this.agentId = msg.body.agentId;
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
        this.agentId = msg.body.agentId;
        return;
      case 'newChat':
        return this.newChat();
      case 'dismissError':
        this.error = null;
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
        const entry = this.entries.find((e) => e.id === msg.body.messageId);
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
      this.post('agents', { agents: this.agents, selected: this.agentId });
    } catch (err) {
      log().warn(`agents/list: ${describeError(err)}`);
    }
  }

  private ensureReply(id: string): ChatEntry {
    this.ownReplies.add(id);
    let e = this.entries.find((x) => x.id === id);
    if (!e) {
      e = { id, role: 'assistant', content: '', status: 'streaming', tools: [] };
      this.entries.push(e);
    }
    return e;
  }

  private isCurrent(sessionId: string): boolean {
    // A delta can overtake chat/send's answer; while sending, the first session that speaks is ours.
    return this.sessionId === sessionId || (this.sessionId === null && this.sending !== null);
  }

  private onDelta(p: NotificationParamsOf<'chat/delta'>): void {
    if (!this.isCurrent(p.sessionId)) return;
    const e = this.ensureReply(p.messageId);
    e.content += p.delta;
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
    const e = this.ensureReply(p.messageId);
    const activity = { toolCallId: p.toolCallId, name: p.name, args: p.args, status: p.status, ...(p.result !== undefined ? { result: p.result } : {}) };
    const i = e.tools.findIndex((t) => t.toolCallId === p.toolCallId);
    if (i >= 0) e.tools[i] = activity;
    else e.tools.push(activity);
    this.flushDeltas();
    this.post('tool', { messageId: p.messageId, activity });
  }

  private onDone(p: NotificationParamsOf<'chat/done'>): void {
    // Every failure reaches the Output channel, also of a chat that is not open.
    if (p.status === 'failed') log().error(`chat reply failed (${p.error?.code ?? 'unknown'}): ${describeError(p.error ?? 'no reason given')}`);
    if (!this.isCurrent(p.sessionId)) return;
    const e = this.ensureReply(p.messageId);
    e.status = p.status;
    if (p.error) e.error = p.error;
    this.flushDeltas();
    this.post('done', { messageId: p.messageId, status: p.status, ...(p.error ? { error: p.error } : {}) });
    if (p.status === 'failed' && p.error) this.showError(explain({ codeName: p.error.code, message: p.error.message }));
  }

  /**
   * Someone else changed the open session (a teammate posted or renamed it, in team mode) or it left the
   * user's view (deleted, unshared, or they left its team).
   */
  private onSessionChanged(p: NotificationParamsOf<'sessions/changed'>): void {
    if (p.sessionId !== this.sessionId) return;
    if (p.change === 'deleted') {
      this.newChat();
      this.showError({ message: 'This chat is no longer available to you: it was deleted, unshared, or you are no longer in its team.', actions: [] });
      return;
    }
    const retitled = p.session !== null && p.session.title !== this.title;
    if (p.session) this.title = p.session.title;
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
    const sessionId = this.sessionId;
    if (!client || !sessionId) return;
    // Finished messages never change: read from the first one still streaming, or after the last.
    const unfinished = this.messages.find((m) => m.status === 'streaming');
    const from = unfinished ? unfinished.seq - 1 : (this.messages.at(-1)?.seq ?? 0);
    const fresh: Message[] = [];
    let afterSeq = from;
    for (;;) {
      const page = await client.request('sessions/get', { sessionId, afterSeq, limit: 500 });
      if (this.sessionId !== sessionId) return;
      this.title = page.session.title;
      this.projectId = page.session.projectId;
      // A teammate's role can change at any time; it shows at the next re-read.
      this.access = page.access;
      fresh.push(...page.messages);
      if (page.nextAfterSeq === null) break;
      afterSeq = page.nextAfterSeq;
    }
    this.messages = [...this.messages.filter((m) => m.seq <= from), ...fresh];
    await this.learnAuthors(fresh, this.projectId);
    if (this.sessionId !== sessionId) return;
    const previous = new Map(this.entries.map((e) => [e.id, e]));
    const merged = toEntries(this.messages, (id) => this.authorLabel(id)).map((e) => {
      const local = previous.get(e.id);
      // A reply streaming to us here: our deltas are newer than its last saved part.
      return local && this.ownReplies.has(e.id) && local.status === 'streaming' ? local : e;
    });
    // Entries not stored (a message that failed to send) stay where the user saw them.
    const stored = new Set(merged.map((e) => e.id));
    for (const e of this.entries) if (!stored.has(e.id) && (e.id.startsWith('local-') || this.ownReplies.has(e.id))) merged.push(e);
    this.entries = merged;
    this.sendSnapshot();
  }

  /** "You" for the user's own messages (undefined), else the writer's name, email, or "A teammate". */
  private authorLabel(authorId: string | null): string | undefined {
    if (authorId === null || authorId === this.me) return undefined;
    return this.authors.get(authorId) ?? 'A teammate';
  }

  /** Learns who the user is and the names of other authors (from the members of the project's team). */
  private async learnAuthors(messages: Message[], projectId: string | null): Promise<void> {
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
    let changed = false;
    for (const e of this.entries) {
      if (e.status === 'streaming') {
        e.status = 'failed';
        e.error = { code: 'DaemonStopped', message: `The Cairn daemon stopped during this reply (${reason}). What arrived is kept; ask again to continue.` };
        changed = true;
      }
    }
    if (changed) this.sendSnapshot();
  }

  private async onConnected(): Promise<void> {
    // Another daemon (a restart) may act as someone else: read it again when needed.
    this.me = undefined;
    void this.readIndexState();
    if (!this.sessionId) {
      this.sendSnapshot();
      return;
    }
    try {
      await this.openSession(this.sessionId);
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
    if (!this.error?.actions.some((a) => a.command === 'cairn.setModelApiKey')) return;
    this.error = null;
    this.sendSnapshot();
  }

  /** Shows an error in place (kept in the chat model until dismissed, a send, or another chat, or its fix). */
  private showError(error: ChatError): void {
    this.error = { message: error.message, actions: this.offer(error.actions) };
    this.post('error', this.error);
  }

  private sendSnapshot(): void {
    this.flushDeltas();
    this.post('snapshot', this.snapshot());
  }

  private post<K extends keyof ToWebview>(type: K, body: ToWebview[K]): void {
    void this.view?.webview.postMessage({ type, body } as ToWebviewMessage);
  }
}

/**
 * Folds stored messages into chat entries. A reply's tool calls and results are stored after the reply row
 * (which exists from its first token on) and point back to it with `metadata.replyId` (daemon/src/chat/history.ts):
 * they join that reply, as its live `chat/tool` notifications do.
 */
export function toEntries(messages: Message[], authorOf: (authorId: string | null) => string | undefined = () => undefined): ChatEntry[] {
  const entries: ChatEntry[] = [];
  const replies = new Map<string, ChatEntry>();
  for (const m of messages) {
    const replyId = typeof m.metadata?.replyId === 'string' ? m.metadata.replyId : null;
    if (replyId !== null) {
      const reply = replies.get(replyId);
      if (!reply) continue;
      if (m.role === 'assistant') {
        for (const t of m.toolCalls ?? []) reply.tools.push({ toolCallId: t.id, name: t.name, args: t.args, status: 'running' });
      } else if (m.role === 'tool') {
        const t = reply.tools.find((x) => x.toolCallId === m.toolCallId);
        if (t) {
          t.status = 'done';
          t.result = m.content.slice(0, 2000);
        }
      }
    } else if (m.role === 'user') {
      const author = authorOf(m.authorId);
      entries.push({ id: m.id, role: 'user', content: m.content, status: 'complete', tools: [], ...(author !== undefined ? { author } : {}) });
    } else if (m.role === 'assistant') {
      const entry: ChatEntry = { id: m.id, role: 'assistant', content: m.content, status: m.status, tools: [] };
      const error = m.metadata?.error as { code?: string; message?: string } | undefined;
      if (error?.message) entry.error = { code: String(error.code ?? 'failed'), message: error.message };
      entries.push(entry);
      replies.set(m.id, entry);
    }
  }
  return entries;
}

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}

function renderHtml(webview: vscode.Webview, root: vscode.Uri): string {
  const n = nonce();
  const asset = (p: string) => webview.asWebviewUri(vscode.Uri.joinPath(root, p)).toString();
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource} 'nonce-${n}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('codicons/codicon.css')}" id="vscode-codicon-stylesheet" nonce="${n}">
<link rel="stylesheet" href="${asset('main.css')}" nonce="${n}">
<title>Cairn Chat</title>
</head>
<body>
<div id="app" data-csp-nonce="${n}"></div>
<script nonce="${n}" src="${asset('main.js')}"></script>
</body>
</html>`;
}
