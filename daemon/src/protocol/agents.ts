/** `agents` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request } from './define.js';

/** Names of the tools an agent may be given. */
export const AgentToolName = z.enum(['search_knowledge_base', 'read_file', 'list_files', 'grep', 'create_task', 'update_task']);

export const Agent = z.object({
  id: z.string().describe('A uuid, or `default` for the built-in agent.'),
  name: z.string(),
  description: z.string().nullable(),
  systemPrompt: z.string(),
  model: z.string().nullable().describe('Overrides the configured chat model; null uses it.'),
  temperature: z.number().nullable(),
  tools: z.array(AgentToolName),
  teamId: z.guid().nullable(),
  builtIn: z.boolean(),
});
export type Agent = z.infer<typeof Agent>;

const AgentFields = z.object({
  name: z.string().min(1).max(80),
  systemPrompt: z.string().min(1).max(20_000),
  description: z.string().max(500).nullable().optional(),
  model: z.string().max(200).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  tools: z.array(AgentToolName).optional(),
});

const reviewer: Agent = {
  id: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  name: 'reviewer',
  description: 'Reviews diffs against the team conventions in the knowledge base.',
  systemPrompt: 'You review code. Cite the convention you apply as path:line.',
  model: null,
  temperature: 0.2,
  tools: ['search_knowledge_base', 'read_file', 'grep'],
  teamId: null,
  builtIn: false,
};

export const agentsRequests = {
  'agents/list': request('agents/list', {
    summary: "The built-in default agent, then the user's own and their teams' agents.",
    params: z.object({ projectId: z.guid().optional() }),
    result: z.object({ agents: z.array(Agent) }),
    errors: ['NotSignedIn'],
    example: { params: {}, result: { agents: [reviewer] } },
  }),
  'agents/create': request('agents/create', {
    summary: 'Creates an agent owned by the user, or by a team (`teamId`, admin or owner).',
    params: AgentFields.extend({ teamId: z.guid().optional() }),
    result: Agent,
    errors: ['PermissionDenied', 'Conflict', 'InvalidInput'],
    example: {
      params: { name: 'reviewer', systemPrompt: reviewer.systemPrompt, description: reviewer.description, temperature: 0.2, tools: reviewer.tools },
      result: reviewer,
    },
  }),
  'agents/update': request('agents/update', {
    summary: 'Changes some fields of an agent; the built-in agent cannot change.',
    params: z.object({ agentId: z.guid(), patch: AgentFields.partial() }),
    result: Agent,
    errors: ['NotFound', 'PermissionDenied', 'Conflict', 'InvalidInput'],
    example: { params: { agentId: reviewer.id, patch: { temperature: 0 } }, result: { ...reviewer, temperature: 0 } },
  }),
  'agents/delete': request('agents/delete', {
    summary: 'Deletes an agent; sessions that used it fall back to the default agent.',
    params: z.object({ agentId: z.guid() }),
    result: z.object({ deleted: z.literal(true) }),
    errors: ['NotFound', 'PermissionDenied'],
    example: { params: { agentId: reviewer.id }, result: { deleted: true } },
  }),
} as const;

export const agentsNotifications = {} as const;
