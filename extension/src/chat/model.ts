/**
 * The chat as the extension holds it: the open session, its entries and the reply streaming into it. It has no
 * `vscode` in it: the view (view.ts) feeds it the daemon's answers and notifications and mirrors it into the
 * webview, so the chat survives the view being hidden and the daemon restarting.
 */
import type { NotificationParamsOf, ResultOf } from '../../../daemon/src/protocol/index.js';
import type { ChatAccess, ChatEntry, ChatError, ToolActivity, ToWebview } from '../../../webview/src/messages.js';

/** A stored message as `sessions/get` returns it: a user message or a reply with its tool steps. */
export type StoredMessage = ResultOf<'sessions/get'>['messages'][number];
type StoredSession = ResultOf<'sessions/get'>['session'];

/** Names the writer of a user message: undefined for the user's own, else a name. */
export type AuthorOf = (authorId: string | null) => string | undefined;

/** Stored messages as chat entries (the daemon has folded each reply's tool steps into it). */
export function toEntries(messages: readonly StoredMessage[], authorOf: AuthorOf = () => undefined): ChatEntry[] {
  return messages.flatMap((m): ChatEntry[] => {
    if (m.role === 'user') {
      const author = authorOf(m.authorId);
      return [{ id: m.id, role: 'user', content: m.content, status: 'complete', tools: [], ...(author !== undefined ? { author } : {}) }];
    }
    if (m.role !== 'assistant') return [];
    const entry: ChatEntry = { id: m.id, role: 'assistant', content: m.content, status: m.status, tools: m.tools.map((t) => ({ ...t })) };
    const error = m.metadata?.error as { code?: string; message?: string } | undefined;
    if (error?.message) entry.error = { code: String(error.code ?? 'failed'), message: error.message };
    return [entry];
  });
}

export class ChatModel {
  sessionId: string | null = null;
  title: string | null = null;
  entries: ChatEntry[] = [];
  agentId = 'default';
  /** What the user may do in the open session; a new chat is their own. */
  access: ChatAccess = 'owner';
  /** The open session's project (its team's members name the authors). */
  projectId: string | null = null;
  error: ChatError | null = null;
  /** Whether the workspace folder has an index (`kb/status`), null until known: an empty chat offers to index it. */
  indexed: boolean | null = null;
  /** The open session's stored messages, oldest first: what a teammate's change is merged into. */
  messages: StoredMessage[] = [];
  /** Replies this daemon streams to us: their deltas are the truth until they finish. */
  readonly ownReplies = new Set<string>();

  /** A new, empty chat. */
  clear(): void {
    this.sessionId = null;
    this.title = null;
    this.entries = [];
    this.messages = [];
    this.ownReplies.clear();
    this.projectId = null;
    this.access = 'owner';
    this.error = null;
  }

  /** The session just read whole. */
  open(sessionId: string, session: StoredSession, access: ChatAccess, messages: StoredMessage[], authorOf: AuthorOf): void {
    // An error about another chat does not belong here; one about this chat (a reload) stays.
    if (this.sessionId !== sessionId) this.error = null;
    this.sessionId = sessionId;
    this.title = session.title;
    this.projectId = session.projectId;
    this.access = access;
    this.agentId = session.agentId ?? 'default';
    this.messages = messages;
    this.entries = toEntries(messages, authorOf);
  }

  /** Where a re-read starts: finished messages never change, so from the first one still streaming, or after the last. */
  rereadFrom(): number {
    const unfinished = this.messages.find((m) => m.status === 'streaming');
    return unfinished ? unfinished.seq - 1 : (this.messages.at(-1)?.seq ?? 0);
  }

  /** A re-read's header: the title, the project and the user's access (a teammate's role can change at any time). */
  reread(session: StoredSession, access: ChatAccess): void {
    this.title = session.title;
    this.projectId = session.projectId;
    this.access = access;
  }

  /** Merges the messages stored after `from` (a re-read) into the chat. */
  merge(from: number, fresh: readonly StoredMessage[], authorOf: AuthorOf): void {
    this.messages = [...this.messages.filter((m) => m.seq <= from), ...fresh];
    const previous = new Map(this.entries.map((e) => [e.id, e]));
    const merged = toEntries(this.messages, authorOf).map((e) => {
      const local = previous.get(e.id);
      // A reply streaming to us here: our deltas are newer than its last saved part.
      return local && this.ownReplies.has(e.id) && local.status === 'streaming' ? local : e;
    });
    // Entries not stored (a message that failed to send) stay where the user saw them.
    const stored = new Set(merged.map((e) => e.id));
    for (const e of this.entries) if (!stored.has(e.id) && (e.id.startsWith('local-') || this.ownReplies.has(e.id))) merged.push(e);
    this.entries = merged;
  }

  /** Whether a notification of `sessionId` is about this chat; while sending, the first session that speaks is ours (a delta can overtake `chat/send`'s answer). */
  isCurrent(sessionId: string, sending: boolean): boolean {
    return this.sessionId === sessionId || (this.sessionId === null && sending);
  }

  /** Whether a reply is still being written in the open chat. */
  get streaming(): ChatEntry | undefined {
    return this.entries.find((e) => e.status === 'streaming');
  }

  /** The entry of a reply streaming to us, made when its first notification arrives. */
  ensureReply(id: string): ChatEntry {
    this.ownReplies.add(id);
    let e = this.entries.find((x) => x.id === id);
    if (!e) {
      e = { id, role: 'assistant', content: '', status: 'streaming', tools: [] };
      this.entries.push(e);
    }
    return e;
  }

  delta(p: NotificationParamsOf<'chat/delta'>): void {
    this.ensureReply(p.messageId).content += p.delta;
  }

  /** A tool step of a reply: a new call, or the result of one already shown. */
  tool(p: NotificationParamsOf<'chat/tool'>): ToolActivity {
    const e = this.ensureReply(p.messageId);
    const activity: ToolActivity = { toolCallId: p.toolCallId, name: p.name, args: p.args, status: p.status, ...(p.result !== undefined ? { result: p.result } : {}) };
    const i = e.tools.findIndex((t) => t.toolCallId === p.toolCallId);
    if (i >= 0) e.tools[i] = activity;
    else e.tools.push(activity);
    return activity;
  }

  done(p: NotificationParamsOf<'chat/done'>): void {
    const e = this.ensureReply(p.messageId);
    e.status = p.status;
    if (p.error) e.error = p.error;
  }

  /** The daemon went away: what was streaming ended there. Returns whether an entry changed. */
  connectionLost(reason: string): boolean {
    let changed = false;
    for (const e of this.entries) {
      if (e.status === 'streaming') {
        e.status = 'failed';
        e.error = { code: 'DaemonStopped', message: `The Cairn daemon stopped during this reply (${reason}). What arrived is kept; ask again to continue.` };
        changed = true;
      }
    }
    return changed;
  }

  snapshot(connected: boolean): ToWebview['snapshot'] {
    return {
      sessionId: this.sessionId,
      title: this.title,
      entries: this.entries,
      agentId: this.agentId,
      connected,
      access: this.access,
      error: this.error,
      indexed: this.indexed,
    };
  }
}
