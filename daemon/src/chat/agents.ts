/** Agents: the built-in default (in code, id `default`) and the rows of `agents` the user can see. */
import { AgentToolName, type Agent } from '../protocol/agents.js';
import { RpcError } from '../protocol/errors.js';
import type { Store } from '../store/types.js';
import { toAgent } from './rows.js';

export const DEFAULT_AGENT_ID = 'default';

export const DEFAULT_AGENT: Agent = {
  id: DEFAULT_AGENT_ID,
  name: 'Cairn',
  description: "Answers questions about the project from its knowledge base and files, and keeps the project's tasks.",
  systemPrompt: [
    'You are Cairn, an assistant for a software team, working inside their editor.',
    "Answer from the project's knowledge base and files: search the knowledge base first, read files to confirm details,",
    'and cite what you use as path:startLine-endLine. Say plainly when you did not find something; never invent paths or APIs.',
    'Create or update tasks only when the user asks for it. Keep answers short and concrete.',
  ].join(' '),
  model: null,
  temperature: null,
  // Every tool (the protocol's list; tools.ts and LangChain load with the first chat, not here).
  tools: [...AgentToolName.options],
  teamId: null,
  builtIn: true,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listAgents(store: Store, projectId?: string): Promise<Agent[]> {
  const rows = await store.rpc('list_agents', { p_project_id: projectId ?? null });
  return [DEFAULT_AGENT, ...rows.map(toAgent)];
}

/** An agent by id or by name (the CLI's `--agent name`); `default`, null or a deleted agent give the built-in. */
export async function findAgent(store: Store, idOrName: string | null | undefined, opts: { strict?: boolean } = {}): Promise<Agent> {
  if (!idOrName || idOrName === DEFAULT_AGENT_ID) return DEFAULT_AGENT;
  const rows = await store.rpc('list_agents', { p_project_id: null });
  const row = UUID.test(idOrName) ? rows.find((r) => r.id === idOrName) : rows.find((r) => r.name.toLowerCase() === idOrName.toLowerCase());
  if (row) return toAgent(row);
  if (opts.strict) throw new RpcError('NotFound', `No agent named or with id "${idOrName}" is visible to you.`);
  return DEFAULT_AGENT;
}
