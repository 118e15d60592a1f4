/** SQL API rows (snake_case) to protocol objects (camelCase). */
import type { Session, Message } from '../protocol/sessions.js';
import type { Agent } from '../protocol/agents.js';
import type { Task } from '../protocol/tasks.js';
import type { MessageRow } from './history.js';

export interface SessionRow {
  id: string;
  project_id: string | null;
  owner_id: string;
  agent_id: string | null;
  title: string;
  visibility: 'private' | 'team';
  archived_at: string | null;
  last_message_at: string;
  message_count: number;
  created_at: string;
  updated_at: string;
}

export interface AgentRow {
  id: string;
  team_id: string | null;
  owner_id: string;
  name: string;
  description: string | null;
  system_prompt: string;
  model: string | null;
  temperature: number | null;
  tools: string[];
}

export interface TaskRow {
  id: string;
  project_id: string;
  session_id: string | null;
  title: string;
  description: string | null;
  status: Task['status'];
  created_at: string;
  updated_at: string;
}

/** PGlite returns Date objects for timestamptz, PostgREST returns ISO strings. */
export function iso(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'string' ? new Date(v).toISOString() : String(v);
}

export function toSession(r: SessionRow): Session {
  return {
    id: r.id,
    title: r.title,
    projectId: r.project_id,
    agentId: r.agent_id,
    ownerId: r.owner_id,
    visibility: r.visibility,
    archived: r.archived_at != null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.last_message_at),
  };
}

export function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    sessionId: r.session_id,
    seq: r.seq,
    role: r.role,
    authorId: r.author_id,
    content: r.content,
    status: r.status,
    toolCalls: r.tool_calls,
    toolCallId: r.tool_call_id,
    name: r.name,
    metadata: r.metadata ?? {},
    createdAt: iso(r.created_at),
  };
}

export function toAgent(r: AgentRow): Agent {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    systemPrompt: r.system_prompt,
    model: r.model,
    temperature: r.temperature,
    tools: r.tools as Agent['tools'],
    teamId: r.team_id,
    builtIn: false,
  };
}

export function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    projectId: r.project_id,
    sessionId: r.session_id,
    title: r.title,
    description: r.description,
    status: r.status,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}
