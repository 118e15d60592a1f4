/** SQL API rows (snake_case) to protocol objects (camelCase). */
import { MessageRole, MessageStatus, ToolCall, Visibility, type Session, type Message } from '../protocol/sessions.js';
import { AgentToolName, type Agent } from '../protocol/agents.js';
import { TaskStatus, type Task } from '../protocol/tasks.js';
import { jsonObject, type TableRow } from '../store/types.js';

export type SessionRow = TableRow<'sessions'>;
export type MessageRow = TableRow<'messages'>;
export type AgentRow = TableRow<'agents'>;
export type TaskRow = TableRow<'tasks'>;

/** A tool this daemon can give an agent (a stored name it does not know is left out). */
const isToolName = (t: string): t is Agent['tools'][number] => AgentToolName.safeParse(t).success;

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
    visibility: Visibility.parse(r.visibility),
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
    role: MessageRole.parse(r.role),
    authorId: r.author_id,
    content: r.content,
    status: MessageStatus.parse(r.status),
    toolCalls: r.tool_calls === null ? null : ToolCall.array().parse(r.tool_calls),
    toolCallId: r.tool_call_id,
    name: r.name,
    metadata: jsonObject(r.metadata) ?? {},
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
    tools: r.tools.filter(isToolName),
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
    status: TaskStatus.parse(r.status),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}
