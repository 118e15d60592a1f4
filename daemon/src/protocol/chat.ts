/** `chat` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request, notification } from './define.js';
import { ToolStep } from './sessions.js';

const sessionId = '6f1d3c2a-8b7e-4c1f-9a2d-0e5b7c9d1a23';
const replyId = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

export const Usage = z
  .object({ model: z.string(), promptTokens: z.number().int(), completionTokens: z.number().int() })
  .describe("The tokens a reply cost, summed over its model calls, as the provider counted them.");
export type Usage = z.infer<typeof Usage>;

export const chatRequests = {
  'chat/send': request('chat/send', {
    summary:
      'Commits the user message (creating a session when `sessionId` is absent) and returns at once; the reply streams ' +
      'as `chat/delta`, `chat/tool` and `chat/done` on topic `session:<id>`, to which this connection is subscribed.',
    params: z.object({
      sessionId: z.guid().optional(),
      root: z.string().optional().describe('Workspace folder: its project, knowledge base and files are the context.'),
      projectId: z.guid().optional(),
      content: z.string().min(1).max(100_000),
      agentId: z.string().optional().describe('An agent id, or `default`; a new session remembers it.'),
    }),
    result: z.object({
      sessionId: z.guid(),
      messageId: z.guid().describe('The stored user message.'),
      replyId: z.guid().describe('The assistant reply, stored as `streaming` until `chat/done`.'),
      redactions: z
        .number()
        .int()
        .describe('Secrets (keys, tokens, passwords, JWTs) replaced by `[redacted: <rule>]` in the stored message, the session title and what the model receives; 0 when none.')
    }),
    errors: ['NotFound', 'PermissionDenied', 'Busy'],
    example: {
      params: { root: '/home/ana/src/cairn', content: 'How does indexing resume after a crash?' },
      result: { sessionId, messageId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a', replyId, redactions: 0 },
    },
  }),
  'chat/cancel': request('chat/cancel', {
    summary: 'Stops the reply being generated in a session (or the reply `messageId`); the partial reply is stored as cancelled.',
    params: z
      .object({ sessionId: z.guid().optional(), messageId: z.guid().optional() })
      .refine((p) => p.sessionId || p.messageId, { message: 'give sessionId or messageId' }),
    result: z.object({ cancelled: z.boolean() }),
    errors: [],
    example: { params: { sessionId }, result: { cancelled: true } },
  }),
} as const;

export const chatNotifications = {
  'chat/delta': notification('chat/delta', {
    summary: 'A piece of reply text; `index` counts the deltas of the message from 0, so a client can spot a gap.',
    direction: 'daemon->client',
    params: z.object({ sessionId: z.guid(), messageId: z.guid(), delta: z.string(), index: z.number().int() }),
    example: { sessionId, messageId: replyId, delta: ' each file', index: 3 },
  }),
  'chat/tool': notification('chat/tool', {
    summary: 'The agent called a tool (`running`) or got its result (`done` or `error`).',
    direction: 'daemon->client',
    params: z.object({ sessionId: z.guid(), messageId: z.guid().describe('The reply the step belongs to.') }).extend(ToolStep.shape),
    example: {
      sessionId,
      messageId: replyId,
      toolCallId: 'call_8XqZ1',
      name: 'search_knowledge_base',
      args: { query: 'resume indexing after crash' },
      status: 'done',
      result: '1. daemon/src/kb/indexer.ts:40-72 (score 0.031)\n…',
    },
  }),
  'chat/done': notification('chat/done', {
    summary: 'The reply ended: complete, cancelled or failed (with a readable `error` and its code name).',
    direction: 'daemon->client',
    params: z.object({
      sessionId: z.guid(),
      messageId: z.guid(),
      status: z.enum(['complete', 'cancelled', 'failed']),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
      usage: Usage.optional(),
      historyTrimmed: z.object({ droppedMessages: z.number().int(), keptTokens: z.number().int() }).optional().describe("Older messages left out of the model's context to fit its token budget (still stored in the session)."),
    }),
    example: { sessionId, messageId: replyId, status: 'complete', usage: { model: 'gpt-4o-mini', promptTokens: 812, completionTokens: 41 } },
  }),
} as const;
