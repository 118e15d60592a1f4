/** `sessions` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request, notification } from './define.js';

export const Visibility = z.enum(['private', 'team']);

export const Session = z.object({
  id: z.guid(),
  title: z.string().nullable(),
  projectId: z.guid().nullable(),
  agentId: z.guid().nullable().describe('The agent the session talks to; null is the built-in default agent.'),
  ownerId: z.guid().nullable().describe("Who started it; null once their account is deleted (a team session outlives its creator's account)."),
  visibility: Visibility,
  archived: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string().describe('Time of the newest message: the list is ordered by it.'),
});
export type Session = z.infer<typeof Session>;

/** What a stored message can be: what a person writes, and what their model and tools answered (no 'system': system prompts come only from the agent). */
export const MessageRole = z.enum(['user', 'assistant', 'tool']);
export const MessageStatus = z.enum(['streaming', 'complete', 'cancelled', 'failed']);

export const ToolCall = z.object({ id: z.string(), name: z.string(), args: z.record(z.string(), z.unknown()) });

export const Message = z.object({
  id: z.guid(),
  sessionId: z.guid(),
  seq: z.number().int().describe('Position in the session, ascending from 1.'),
  role: MessageRole,
  authorId: z.guid().nullable().describe('Who wrote it: the user who posted a user message, the user whose daemon generated a reply.'),
  content: z.string(),
  status: MessageStatus,
  toolCalls: z.array(ToolCall).nullable().describe('Tool calls the assistant asked for in this message.'),
  toolCallId: z.string().nullable().describe('For role `tool`: the call this result answers.'),
  name: z.string().nullable().describe("For role `tool`: the tool's name."),
  metadata: z.record(z.string(), z.unknown()).describe('Model, usage, error of a reply; sources of an offline answer.'),
  createdAt: z.string(),
});
export type Message = z.infer<typeof Message>;

/** A tool the model called while writing a reply, with its result once it came (`chat/tool` announces the same live). */
export const ToolStep = z.object({
  toolCallId: z.string().describe('The id the model gave the call.'),
  name: z.string().describe("The tool's name."),
  args: z.record(z.string(), z.unknown()).describe('The arguments the model called it with.'),
  status: z.enum(['running', 'done', 'error']).describe('`running` until its result is in; then `done`, or `error` when the tool failed.'),
  result: z.string().optional().describe('The result as the model sees it, shortened for display.'),
});
export type ToolStep = z.infer<typeof ToolStep>;

/**
 * A message as `sessions/get` returns it: a user message or a reply. The rows a reply's tool calls and results
 * are stored in (after the reply row, pointing back to it with `metadata.replyId`) are folded into its `tools`.
 */
export const SessionMessage = Message.extend({
  tools: z.array(ToolStep).describe("A reply's tool steps in the order the model took them; empty for a user message and a reply that used no tool."),
});
export type SessionMessage = z.infer<typeof SessionMessage>;

const exampleSession: Session = {
  id: '6f1d3c2a-8b7e-4c1f-9a2d-0e5b7c9d1a23',
  title: 'How does indexing resume?',
  projectId: '0b8e2f4c-1d3a-4e5f-8a7b-9c0d1e2f3a4b',
  agentId: null,
  ownerId: '4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d',
  visibility: 'private',
  archived: false,
  createdAt: '2026-11-22T01:02:03.000Z',
  updatedAt: '2026-11-22T01:04:10.000Z',
};

/** What the user may do in a session: `owner`, `write` (a teammate, member or above) or `read` (a viewer). */
export const SessionAccess = z
  .enum(['owner', 'write', 'read'])
  .describe('What the user may do here: `owner`, `write` (a teammate, member or above) or `read` (a viewer).');

const SessionRef = z.object({ sessionId: z.guid() });

export const sessionsRequests = {
  'sessions/create': request('sessions/create', {
    summary: 'Creates an empty session in the project of `projectId` or of the workspace folder `root`.',
    params: z.object({
      projectId: z.guid().optional(),
      root: z.string().optional().describe('Absolute path of a workspace folder; its project is used.'),
      title: z.string().max(200).optional(),
      agentId: z.string().optional().describe("An agent id, or `default` for the built-in agent."),
      visibility: Visibility.default('private'),
    }),
    result: Session,
    errors: ['NotFound', 'PermissionDenied', 'InvalidInput'],
    example: { params: { root: '/home/ana/src/cairn', title: 'How does indexing resume?' }, result: { ...exampleSession, updatedAt: exampleSession.createdAt } },
  }),
  'sessions/list': request('sessions/list', {
    summary: 'Sessions visible to the user (own and team-shared), most recent first, a page at a time.',
    params: z.object({
      projectId: z.guid().optional(),
      root: z.string().optional(),
      limit: z.number().int().min(1).max(200).default(50),
      before: z.string().optional().describe('`nextBefore` of the previous page.'),
      includeArchived: z.boolean().default(false),
    }),
    result: z.object({ sessions: z.array(Session), nextBefore: z.string().nullable() }),
    errors: ['NotSignedIn'],
    example: { params: { root: '/home/ana/src/cairn', limit: 20 }, result: { sessions: [exampleSession], nextBefore: null } },
  }),
  'sessions/get': request('sessions/get', {
    summary:
      'A session, what the user may do in it, and a page of its messages in order (`afterSeq` pages forward). ' +
      "Each reply carries its tool steps in `tools`, also those stored after the page's last row.",
    params: SessionRef.extend({
      afterSeq: z.number().int().min(0).default(0).describe('Read the rows stored after this `seq` (`nextAfterSeq` of the previous page).'),
      limit: z.number().int().min(1).max(500).default(200).describe('At most this many stored rows, tool steps included, make up the page.'),
    }),
    result: z.object({
      session: Session,
      access: SessionAccess,
      messages: z.array(SessionMessage).describe("User messages and replies in order; a tool step is in its reply's `tools`, never on its own."),
      nextAfterSeq: z.number().int().nullable().describe('`afterSeq` of the next page; null on the last page.'),
    }),
    errors: ['NotFound'],
    example: {
      params: { sessionId: exampleSession.id },
      result: {
        session: exampleSession,
        access: 'owner',
        messages: [
          {
            id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
            sessionId: exampleSession.id,
            seq: 1,
            role: 'user',
            authorId: exampleSession.ownerId,
            content: 'How does indexing resume after a crash?',
            status: 'complete',
            toolCalls: null,
            toolCallId: null,
            name: null,
            metadata: {},
            createdAt: '2026-11-22T01:04:08.000Z',
            tools: [],
          },
          {
            id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
            sessionId: exampleSession.id,
            seq: 2,
            role: 'assistant',
            authorId: exampleSession.ownerId,
            content: 'Each file is written in one transaction, so a crash loses at most the file in flight (daemon/src/kb/indexer.ts:40-72).',
            status: 'complete',
            toolCalls: null,
            toolCallId: null,
            name: null,
            metadata: { model: 'gpt-4o-mini', usage: { promptTokens: 812, completionTokens: 41 } },
            createdAt: '2026-11-22T01:04:10.000Z',
            tools: [
              {
                toolCallId: 'call_8XqZ1',
                name: 'search_knowledge_base',
                args: { query: 'resume indexing after crash' },
                status: 'done',
                result: '1. daemon/src/kb/indexer.ts:40-72 (score 0.031)\n…',
              },
            ],
          },
        ],
        nextAfterSeq: null,
      },
    },
  }),
  'sessions/rename': request('sessions/rename', {
    summary: 'Sets the title of a session.',
    params: SessionRef.extend({ title: z.string().min(1).max(200) }),
    result: Session,
    errors: ['NotFound', 'PermissionDenied', 'InvalidInput'],
    example: { params: { sessionId: exampleSession.id, title: 'Resumable indexing' }, result: { ...exampleSession, title: 'Resumable indexing' } },
  }),
  'sessions/archive': request('sessions/archive', {
    summary: 'Archives (or, with `archived: false`, restores) a session; archived sessions leave the default list.',
    params: SessionRef.extend({ archived: z.boolean().default(true) }),
    result: Session,
    errors: ['NotFound', 'PermissionDenied'],
    example: { params: { sessionId: exampleSession.id }, result: { ...exampleSession, archived: true } },
  }),
  'sessions/delete': request('sessions/delete', {
    summary: 'Deletes a session and its messages (owner only).',
    params: SessionRef,
    result: z.object({ deleted: z.literal(true) }),
    errors: ['NotFound', 'PermissionDenied'],
    example: { params: { sessionId: exampleSession.id }, result: { deleted: true } },
  }),
  'sessions/share': request('sessions/share', {
    summary: "Shares a session with the project's team (`team`) or takes it back (`private`).",
    params: SessionRef.extend({ visibility: Visibility }),
    result: Session,
    errors: ['NotFound', 'PermissionDenied'],
    example: { params: { sessionId: exampleSession.id, visibility: 'team' }, result: { ...exampleSession, visibility: 'team' } },
  }),
  'sessions/post': request('sessions/post', {
    summary:
      'Posts a note into a session as the user, without asking the agent for a reply (e.g. from another tool or ' +
      'agent through MCP); teammates see it like any message. Needs write access to the session.',
    params: SessionRef.extend({ content: z.string().min(1).max(100_000) }),
    result: Message,
    errors: ['NotFound', 'PermissionDenied'],
    example: {
      params: { sessionId: exampleSession.id, content: 'Note from Claude Code: the retry fix is in #412.' },
      result: {
        id: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
        sessionId: exampleSession.id,
        seq: 7,
        role: 'user',
        authorId: exampleSession.ownerId,
        content: 'Note from Claude Code: the retry fix is in #412.',
        status: 'complete',
        toolCalls: null,
        toolCallId: null,
        name: null,
        metadata: {},
        createdAt: '2026-11-22T01:05:00.000Z',
      },
    },
  }),
  'sessions/subscribe': request('sessions/subscribe', {
    summary: 'Subscribes this connection to the chat notifications of a session (deltas, tool activity, done).',
    params: SessionRef,
    result: z.object({ subscribed: z.literal(true) }),
    errors: ['NotFound'],
    example: { params: { sessionId: exampleSession.id }, result: { subscribed: true } },
  }),
  'sessions/unsubscribe': request('sessions/unsubscribe', {
    summary: "Stops this connection's chat notifications for a session.",
    params: SessionRef,
    result: z.object({ subscribed: z.literal(false) }),
    errors: [],
    example: { params: { sessionId: exampleSession.id }, result: { subscribed: false } },
  }),
} as const;

/** Why a `sessions/changed` was sent, so an open chat re-reads only what it has not seen. */
export const SessionChangeCause = z
  .enum(['session', 'reply', 'message', 'access', 'resync'])
  .describe(
    'Why: `session` its own fields (created, renamed, archived, shared, deleted); `reply` a message or reply that ' +
      "`chat/send` wrote in it, streamed on `session:<id>` as it was written; `message` a message its watchers have not " +
      "seen streamed (someone else's, another daemon's, `sessions/post`): re-read after the last `seq`; `access` what the " +
      "user may do there changed (re-read `access`); `resync` the change feed had a gap, so anything may have changed.",
  );
export type SessionChangeCause = z.infer<typeof SessionChangeCause>;

export const sessionsNotifications = {
  'sessions/changed': notification('sessions/changed', {
    summary:
      'A session was created, renamed, archived, shared, deleted or got a message (topic `sessions`). Someone ' +
      "else's message (a teammate's, in team mode) is also announced on `session:<id>`, as is a session leaving " +
      "the user's view (`deleted`: deleted, unshared, or the user left its team). `cause` says whether an open chat " +
      'has anything to re-read (after its last finished `seq`).',
    direction: 'daemon->client',
    params: z.object({
      sessionId: z.guid(),
      change: z.enum(['created', 'updated', 'deleted']),
      session: Session.nullable(),
      cause: SessionChangeCause,
      writer: z
        .guid()
        .nullable()
        .describe('The user whose change it is, when known (the author of a new message, who renamed or shared); null after a gap in the feed or a change of access.'),
    }),
    example: { sessionId: exampleSession.id, change: 'updated', session: exampleSession, cause: 'message', writer: '4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d' },
  }),
} as const;
