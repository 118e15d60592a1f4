/**
 * Chat history in the database, as LangChain's `BaseListChatMessageHistory`: the session's messages read and
 * written through the SQL API (`list_messages`, `append_message`) as the acting user, so RLS scopes it to
 * sessions that user may see. `forModel()` fits the history into a token budget, dropping the oldest turns
 * whole (keeping the system prompt) so a long session never overflows the model's context.
 *
 * Who speaks to the model: the system prompt comes only from the agent definition (no stored row is ever a
 * system message), and only the acting user's own rows keep their roles (their questions, their model's
 * replies and tool steps). Every other author's rows, whatever role they were stored with, reach the model
 * as user content that names its author, so a teammate's text can never pose as the system, the model or a
 * tool result in someone else's session.
 */
import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, trimMessages, type BaseMessage } from '@langchain/core/messages';
import type { Store } from '../store/types.js';
import type { Message } from '../protocol/sessions.js';
import { toMessage } from './rows.js';
import { foldReplies } from './replies.js';
import { countMessageTokens, countTokens } from './tokens.js';

const PAGE = 1000;

export async function listAllMessages(store: Store, sessionId: string, signal?: AbortSignal): Promise<Message[]> {
  const out: Message[] = [];
  let after = 0;
  for (;;) {
    const page = await store.rpc('list_messages', { p_session_id: sessionId, p_after_seq: after, p_limit: PAGE }, { signal });
    out.push(...page.map(toMessage));
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.seq;
  }
}

/** Whose history it is, and how other authors are named to the model. */
export interface Attribution {
  /** The acting user; null when unknown, which makes every row someone else's. */
  me: string | null;
  /** Names of other authors (display name or email), for the lines that attribute their messages. */
  names?(authorIds: string[]): Promise<Map<string, string>>;
}

/** How another author is named to the model. */
function authorLabel(authorId: string | null, names: ReadonlyMap<string, string>): string {
  if (!authorId) return 'a former member (account deleted)';
  // A display name is the teammate's own text: one short line, no brackets.
  const name = names.get(authorId)?.replace(/[\r\n[\]]+/g, ' ').trim().slice(0, 100);
  return name || `teammate ${authorId.slice(0, 8)}`;
}

/**
 * Another person's row as the model sees it: user content saying who wrote it. Their model's replies are
 * quoted the same way (nothing another daemon stored is trusted as this model's words); their tool steps
 * are left out. Null when there is nothing to show.
 */
function quoted(r: Message, names: ReadonlyMap<string, string>): HumanMessage | null {
  if (r.content.length === 0 || r.status === 'streaming') return null;
  const who = authorLabel(r.authorId, names);
  if (r.role === 'user') return new HumanMessage({ id: r.id, content: `[Message from ${who}]\n${r.content}` });
  if (r.role === 'assistant') return new HumanMessage({ id: r.id, content: `[Reply the assistant gave ${who}]\n${r.content}` });
  return null;
}

/**
 * Rows to LangChain messages. A reply's tool steps (joined to it by replies.ts) are put back before the
 * reply, in the order the model saw them. Replies still streaming are left out, and so are tool calls whose
 * results never arrived (a cancel during a tool), which OpenAI-compatible APIs reject. Only `me`'s rows keep
 * their roles (and only their replies keep their tool steps); other authors' rows are quoted as user
 * content naming the author (`names`).
 */
export function rowsToMessages(rows: Message[], me: string | null, names: ReadonlyMap<string, string> = new Map()): BaseMessage[] {
  const out: BaseMessage[] = [];
  const emitToolSteps = (steps: Message[]) => {
    const answered = new Set(steps.filter((s) => s.role === 'tool' && s.toolCallId).map((s) => s.toolCallId!));
    const kept = new Set<string>();
    for (const s of steps) {
      if (s.role === 'assistant' && s.toolCalls && s.toolCalls.length > 0) {
        if (!s.toolCalls.every((c) => answered.has(c.id))) continue;
        s.toolCalls.forEach((c) => kept.add(c.id));
        out.push(new AIMessage({ id: s.id, content: s.content, tool_calls: s.toolCalls.map((c) => ({ id: c.id, name: c.name, args: c.args, type: 'tool_call' as const })) }));
      } else if (s.role === 'tool' && s.toolCallId && kept.has(s.toolCallId)) {
        out.push(new ToolMessage({ id: s.id, content: s.content, tool_call_id: s.toolCallId, name: s.name ?? undefined }));
      }
    }
  };
  for (const { message: r, steps } of foldReplies(rows)) {
    if (me === null || r.authorId !== me) {
      const q = quoted(r, names);
      if (q) out.push(q);
      continue;
    }
    if (r.role === 'user') out.push(new HumanMessage({ content: r.content, id: r.id }));
    else if (r.role === 'assistant') {
      if (r.status === 'streaming') continue;
      emitToolSteps(steps);
      if (r.content.length > 0) out.push(new AIMessage({ content: r.content, id: r.id }));
    }
  }
  return out;
}

function textOf(m: BaseMessage): string {
  return typeof m.content === 'string' ? m.content : m.content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : '')).join('');
}

export class SqlChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ['cairn', 'chat', 'history'];

  constructor(
    private readonly store: Store,
    readonly sessionId: string,
    /** Set on tool steps so they are read back before the reply they belong to. */
    private readonly replyId: string | null = null,
    /** Whose history it is; by default the store's acting user, with other authors named by a short id. */
    private readonly attribution: Attribution = { me: store.user?.()?.id ?? null },
  ) {
    super();
  }

  async getMessages(): Promise<BaseMessage[]> {
    const rows = await listAllMessages(this.store, this.sessionId);
    const { me, names } = this.attribution;
    const others = [...new Set(rows.filter((r) => r.authorId !== null && r.authorId !== me).map((r) => r.authorId!))];
    return rowsToMessages(rows, me, others.length > 0 && names ? await names(others) : new Map());
  }

  async addMessage(message: BaseMessage): Promise<void> {
    await this.append(message);
  }

  /** Appends and returns the stored row (its id and seq). */
  async append(message: BaseMessage, extra: { status?: Message['status']; metadata?: Record<string, unknown> } = {}): Promise<Message> {
    const type = message.getType();
    const metadata = { ...(this.replyId ? { replyId: this.replyId } : {}), ...extra.metadata };
    const common = { p_session_id: this.sessionId, p_content: textOf(message), p_status: extra.status ?? 'complete', p_metadata: metadata };
    if (type === 'human') return toMessage(await this.store.rpc('append_message', { ...common, p_role: 'user' }));
    if (type === 'tool') {
      const t = message as ToolMessage;
      return toMessage(await this.store.rpc('append_message', { ...common, p_role: 'tool', p_tool_call_id: t.tool_call_id, p_name: t.name ?? null }));
    }
    if (type === 'ai') {
      const calls = (message as AIMessage).tool_calls ?? [];
      return toMessage(await this.store.rpc('append_message', {
        ...common,
        p_role: 'assistant',
        p_tool_calls: calls.length > 0 ? calls.map((c) => ({ id: c.id ?? '', name: c.name, args: c.args })) : null,
      }));
    }
    // System prompts live in the agent definition, never in a session.
    throw new Error(`Messages of type ${type} cannot be stored in a session.`);
  }

  /**
   * The history ready for a model: the system prompt plus the newest turns that fit `maxTokens`, whole
   * turns only (a trimmed history starts on a user message). When even the newest user message is over the
   * budget its head is kept, cut to fit.
   */
  async forModel(systemPrompt: string, maxTokens: number): Promise<{ messages: BaseMessage[]; dropped: number; tokens: number }> {
    const all = [new SystemMessage(systemPrompt), ...(await this.getMessages())];
    return fitToBudget(all, maxTokens);
  }
}

export async function fitToBudget(all: BaseMessage[], maxTokens: number): Promise<{ messages: BaseMessage[]; dropped: number; tokens: number }> {
  const system = all[0]?.getType() === 'system' ? [all[0]] : [];
  const lastHumanAt = all.findLastIndex((m) => m.getType() === 'human');
  const lastHuman = lastHumanAt >= 0 ? all[lastHumanAt]! : null;
  let messages: BaseMessage[];
  if (lastHuman && countMessageTokens([...system, ...all.slice(lastHumanAt)]) > maxTokens) {
    // Even the newest turn alone is over the budget: keep the head of the user's message, cut to fit.
    const room = Math.max(32, maxTokens - countMessageTokens(system) - 16);
    let text = textOf(lastHuman);
    // Tokens are 3-4 characters; shrink by characters until the count fits.
    while (countTokens(text) > room && text.length > 0) text = text.slice(0, Math.floor(text.length * 0.8));
    messages = [...system, new HumanMessage(`${text}\n[message cut to fit the model's context]`)];
  } else {
    messages = await trimMessages(all, { maxTokens, strategy: 'last', tokenCounter: countMessageTokens, includeSystem: true, startOn: 'human' });
  }
  return { messages, dropped: all.length - messages.length, tokens: countMessageTokens(messages) };
}
