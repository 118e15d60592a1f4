/**
 * Every message between the chat webview and the extension, declared once. The extension validates what the
 * webview sends with these zod schemas (a webview is untrusted input); the webview imports only the types.
 * To add a message: add its schema here, handle it on the receiving side, and the compiler lists what is missing.
 */
// zod/mini: the same validation as zod with a tree-shakable API, so the extension bundle stays small.
import * as z from 'zod/mini';
import type { NotificationParamsOf, ResultOf } from '../../daemon/src/protocol/index.js';
import type { Message, ToolStep } from '../../daemon/src/protocol/sessions.js';
import type { Agent } from '../../daemon/src/protocol/agents.js';

/** A tool step of a reply, as `chat/tool` announces it and `sessions/get` returns it. */
export type ToolActivity = ToolStep;

/** How a reply ended, with its readable error (`chat/done`). */
type ReplyDone = NotificationParamsOf<'chat/done'>;

/** One bubble of the chat: a user message or a reply with its tool steps folded in. */
export interface ChatEntry {
  id: string;
  role: Extract<Message['role'], 'user' | 'assistant'>;
  content: string;
  /** A stored message's status, or `pending` for the user's message until `chat/send` commits it. */
  status: Message['status'] | 'pending';
  tools: ToolActivity[];
  error?: NonNullable<ReplyDone['error']>;
  /** Who wrote a user message when it was not the user (a teammate in a shared session): a name or email. */
  author?: string;
}

/** A button that runs an extension command: the fix an error offers. */
export interface FixAction {
  readonly label: string;
  readonly command: string;
  readonly args?: unknown[];
}

export type AgentOption = Pick<Agent, 'id' | 'name' | 'description'>;

/** What the user may do in the open chat (`sessions/get` access): `read` is a team viewer, shown without a composer. */
export type ChatAccess = ResultOf<'sessions/get'>['access'];

/** An error shown in place, with the actions that fix it. */
export interface ChatError {
  message: string;
  actions: FixAction[];
}

/** Extension → webview. */
export interface ToWebview {
  /** The whole chat (after opening a session, a reconnect, or the view becoming visible again). */
  snapshot: {
    sessionId: string | null;
    title: string | null;
    entries: ChatEntry[];
    agentId: string;
    connected: boolean;
    access: ChatAccess;
    /** The error in place, kept with the chat so a view that was hidden when it happened still shows it. */
    error: ChatError | null;
    /** Whether the workspace folder has an index (an empty chat then offers "Index this workspace"); null when unknown. */
    indexed: boolean | null;
  };
  /** A piece of the streaming reply. */
  delta: { messageId: string; delta: string };
  tool: { messageId: string; activity: ToolActivity };
  done: Pick<ReplyDone, 'messageId' | 'status' | 'error'>;
  agents: { agents: AgentOption[]; selected: string };
  connection: { connected: boolean; message: string | null };
  /** An error shown in place, with the actions that fix it. */
  error: ChatError;
  /** Focus the input (after "New Chat"). */
  focus: Record<string, never>;
  /**
   * The message just submitted holds what looks like a secret: ask "Redact and send" / "Send anyway" / "Cancel"
   * (answered with `secretChoice`). `message` names the kinds and lines, never the values.
   */
  secretWarning: { warningId: string; message: string };
  /** Put this text back into the input (a message the user chose not to send). */
  draft: { text: string };
}

/** Webview → extension, validated by the extension. */
const text = (max: number) => z.string().check(z.maxLength(max));
const id = z.string().check(z.minLength(1), z.maxLength(200));
export const FromWebviewSchemas = {
  ready: z.object({}),
  send: z.object({ content: z.string().check(z.minLength(1), z.maxLength(100_000)), agentId: id }),
  stop: z.object({}),
  copy: z.object({ text: text(10 * 1024 * 1024) }),
  insert: z.object({ text: text(10 * 1024 * 1024) }),
  selectAgent: z.object({ agentId: id }),
  newChat: z.object({}),
  /** The user dismissed the error in place. */
  dismissError: z.object({}),
  /** Runs the command of an in-place error action; the extension accepts only commands it offered. */
  runAction: z.object({ command: text(200), args: z.optional(z.array(z.unknown()).check(z.maxLength(5))) }),
  openFull: z.object({ messageId: text(100) }),
  /** The user's answer to a `secretWarning`. */
  secretChoice: z.object({ warningId: id, choice: z.enum(['redact', 'send', 'cancel']) }),
  /** The user clicked a location cited in the chat (`src/a.ts:10-20`): open that file at those lines. */
  openLocation: z.object({
    path: z.string().check(z.minLength(1), z.maxLength(4096)),
    startLine: z.int().check(z.minimum(1), z.maximum(10_000_000)),
    endLine: z.int().check(z.minimum(1), z.maximum(10_000_000)),
  }),
} as const;
export type FromWebview = { [K in keyof typeof FromWebviewSchemas]: z.infer<(typeof FromWebviewSchemas)[K]> };

export type Envelope<Map, K extends keyof Map = keyof Map> = K extends keyof Map ? { type: K; body: Map[K] } : never;
export type ToWebviewMessage = Envelope<ToWebview>;
export type FromWebviewMessage = Envelope<FromWebview>;

/** Validates one message from the webview; null when it is not one of ours. */
export function parseFromWebview(raw: unknown): FromWebviewMessage | null {
  if (!raw || typeof raw !== 'object') return null;
  const { type, body } = raw as { type?: unknown; body?: unknown };
  if (typeof type !== 'string' || !(type in FromWebviewSchemas)) return null;
  const parsed = FromWebviewSchemas[type as keyof FromWebview].safeParse(body ?? {});
  return parsed.success ? ({ type, body: parsed.data } as FromWebviewMessage) : null;
}

/** Replies over this size are shown as plain text with a way to open them whole; markdown-rendering megabytes freezes a webview. */
export const MAX_RENDERED_CHARS = 200_000;
