/**
 * A reply and its tool steps. The reply row exists from the reply's first token on; the model's tool calls
 * and their results are stored after it, as rows whose `metadata.replyId` names the reply. This is the one
 * place they are joined to it again: for the model's history (history.ts) and for `sessions/get`.
 *
 * A step joins a reply only when the same person's daemon wrote both, so a teammate's row that names my
 * reply is never taken for one of its steps; a step whose reply is not at hand is left out.
 */
import type { Message, SessionMessage, ToolStep } from '../protocol/sessions.js';
import type { Store } from '../store/types.js';
import { toMessage } from './rows.js';

/** The reply a stored row is a tool step of, or null for a user message or a reply. */
export function replyIdOf(m: Message): string | null {
  return typeof m.metadata?.replyId === 'string' ? m.metadata.replyId : null;
}

/** A user message or a reply, with the rows of the reply's tool steps in the order they were stored. */
export interface Turn {
  message: Message;
  steps: Message[];
}

/** Rows in `seq` order to user messages and replies, each reply with its step rows. */
export function foldReplies(rows: readonly Message[]): Turn[] {
  const turns: Turn[] = [];
  const replies = new Map<string, Turn>();
  for (const m of rows) {
    const replyId = replyIdOf(m);
    if (replyId === null) {
      const turn = { message: m, steps: [] };
      turns.push(turn);
      if (m.role === 'assistant') replies.set(m.id, turn);
      continue;
    }
    const reply = replies.get(replyId);
    if (reply && reply.message.authorId === m.authorId) reply.steps.push(m);
  }
  return turns;
}

/** How much of a tool's result a client is shown (the model gets it whole). */
const SHOWN_RESULT_CHARS = 2000;

export function shownResult(result: string): string {
  return result.length > SHOWN_RESULT_CHARS ? `${result.slice(0, SHOWN_RESULT_CHARS)}…` : result;
}

/** A reply's step rows as the tool steps `chat/tool` announced: each call `running` until its result row. */
export function toolSteps(steps: readonly Message[]): ToolStep[] {
  const out: ToolStep[] = [];
  for (const s of steps) {
    if (s.role === 'assistant') {
      for (const c of s.toolCalls ?? []) out.push({ toolCallId: c.id, name: c.name, args: c.args, status: 'running' });
    } else if (s.role === 'tool') {
      const t = out.find((x) => x.toolCallId === s.toolCallId);
      if (t) {
        t.status = 'done';
        t.result = shownResult(s.content);
      }
    }
  }
  return out;
}

/** Stored rows as `sessions/get` returns them: user messages and replies, each reply with its `tools`. */
export function toSessionMessages(rows: readonly Message[]): SessionMessage[] {
  return foldReplies(rows).map((t) => ({ ...t.message, tools: toolSteps(t.steps) }));
}

const READ_AHEAD = 1000;

/**
 * A page of `sessions/get`: the rows after `afterSeq` (at most `limit`), folded. When more rows follow, they
 * are read too for the steps of the page's replies stored after the page (a teammate's messages can come
 * between a reply and its steps); the next page then leaves those steps out, their reply being in this one.
 */
export async function readSessionPage(
  store: Store,
  sessionId: string,
  afterSeq: number,
  limit: number,
): Promise<{ messages: SessionMessage[]; nextAfterSeq: number | null }> {
  const rows = (await store.rpc('list_messages', { p_session_id: sessionId, p_after_seq: afterSeq, p_limit: limit })).map(toMessage);
  if (rows.length < limit) return { messages: toSessionMessages(rows), nextAfterSeq: null };
  const nextAfterSeq = rows[rows.length - 1]!.seq;
  const replies = new Set(rows.filter((m) => m.role === 'assistant' && replyIdOf(m) === null).map((m) => m.id));
  const later: Message[] = [];
  for (let after = nextAfterSeq; replies.size > 0; ) {
    const more = (await store.rpc('list_messages', { p_session_id: sessionId, p_after_seq: after, p_limit: READ_AHEAD })).map(toMessage);
    for (const m of more) {
      const replyId = replyIdOf(m);
      if (replyId !== null && replies.has(replyId)) later.push(m);
    }
    if (more.length < READ_AHEAD) break;
    after = more[more.length - 1]!.seq;
  }
  return { messages: toSessionMessages([...rows, ...later]), nextAfterSeq };
}
