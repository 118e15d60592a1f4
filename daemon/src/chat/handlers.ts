/**
 * The chat subsystem: `chat/*`, `sessions/*`, `agents/*` and `tasks/*` handlers over the orchestrator and
 * the SQL API. At start it marks replies a crash left `streaming` as `failed`.
 */
import { isAbsolute, resolve } from 'node:path';
import { searchKnowledgeBase } from '../kb/search.js';
import { RpcError } from '../protocol/errors.js';
import { SessionAccess } from '../protocol/sessions.js';
import type { DaemonDeps, HandlerRegistry, Subsystem } from '../rpc/registry.js';
import type { Store } from '../store/types.js';
import { resolveProject } from '../workspace/project.js';
import { DEFAULT_AGENT_ID, listAgents } from './agents.js';
import { failInterruptedReplies } from './interrupted.js';
import type { ChatOrchestrator, ChatOptions, TeamModel } from './orchestrator.js';
import { toAgent, toMessage, toSession, toTask, type SessionRow } from './rows.js';
import { readSessionPage } from './replies.js';
import { PathRefused, Workspace } from './workspace-files.js';
import { policyOptions } from '../workspace/policy.js';
import { redactText, scanText } from '../secrets/index.js';
import type { KbSearch } from './tools.js';

async function projectOf(store: Store, p: { projectId?: string; root?: string }): Promise<string> {
  if (p.projectId) return p.projectId;
  if (p.root) return (await resolveProject(store, resolve(p.root))).id;
  throw new RpcError('InvalidParams', 'Give projectId or root (the workspace folder).');
}

/**
 * Registers the handlers; `options` lets tests and benchmarks tune budgets and intervals; `teamModel` is the
 * team's model gateway (the host passes teams/gateway.ts's).
 */
export function createChatSubsystem(options: Partial<ChatOptions> = {}, kbSearchOverride?: KbSearch, teamModel?: TeamModel): Subsystem {
  return async (registry: HandlerRegistry, deps: DaemonDeps) => {
    const { store } = deps;
    const kbSearch: KbSearch = kbSearchOverride ?? ((s, q, signal) => searchKnowledgeBase(s, deps.config, q, signal));
    // The orchestrator (and LangChain with it) loads with the first chat, not with every daemon.
    let loaded: ChatOrchestrator | null = null;
    let loading: Promise<ChatOrchestrator> | null = null;
    const orchestrator = () =>
      (loading ??= import('./orchestrator.js').then(
        (m) => (loaded = new m.ChatOrchestrator({ store, config: deps.config, hub: deps.hub, log: deps.log, kbSearch, teamModel, home: deps.home, track: (w) => deps.track(w), options })),
      ));
    const chat = {
      send: async (...args: Parameters<ChatOrchestrator['send']>) => (await orchestrator()).send(...args),
      // Nothing runs before the orchestrator is loaded, so there is nothing to cancel or forget.
      cancel: (p: Parameters<ChatOrchestrator['cancel']>[0]) => loaded?.cancel(p) ?? false,
      forget: (sessionId: string) => loaded?.forget(sessionId),
      dispose: async () => {
        if (loading) await (await loading.catch(() => null))?.dispose();
      },
    };

    // A lone embedded daemon owns every streaming reply of its user; on a shared Postgres, only stale ones.
    // No answer waits for it: it runs once the first client is answered, or before a reply is started (so it
    // never fails a reply of this daemon's own).
    let swept: Promise<void> | null = store.user() ? null : Promise.resolve();
    const sweepOnce = () =>
      (swept ??= failInterruptedReplies(store, store.mode !== 'embedded').then((failed) => {
        if (failed > 0) deps.log.info('chat: replies interrupted by the last shutdown marked failed', { count: failed });
      }));
    if (deps.afterStart) deps.afterStart('stale-reply sweep', sweepOnce);
    else await sweepOnce();
    // The tokenizer's ranks take a few hundred ms and tens of MB to load: only once a chat is opened.
    let tokenizerWarm = false;
    const warmTokenizer = () => {
      if (!tokenizerWarm) (tokenizerWarm = true), setImmediate(() => void import('./tokens.js').then((m) => m.countTokens('')));
    };
    const onShutdown = () => void chat.dispose();
    deps.shutdownSignal.addEventListener('abort', onShutdown, { once: true });

    const publishSession = (row: SessionRow, change: 'created' | 'updated', writer: string | null) =>
      deps.hub.publish('sessions', 'sessions/changed', { sessionId: row.id, change, session: toSession(row), cause: 'session', writer });

    registry.handle('chat/send', async (p, ctx) => {
      warmTokenizer();
      await sweepOnce().catch(() => undefined);
      return chat.send(p, ctx.connection, ctx.store);
    });
    registry.handle('chat/cancel', async (p) => ({ cancelled: chat.cancel(p) }));

    registry.handle('sessions/create', async (p, ctx) => {
      const projectId = p.projectId ?? (p.root ? (await resolveProject(ctx.store, resolve(p.root))).id : null);
      const row = await ctx.store.rpc('create_session', {
        p_project_id: projectId,
        p_title: p.title ?? null,
        p_agent_id: p.agentId && p.agentId !== DEFAULT_AGENT_ID ? p.agentId : null,
        p_visibility: p.visibility,
      });
      ctx.connection.subscribe(`session:${row.id}`);
      publishSession(row, 'created', ctx.store.user()?.id ?? null);
      return toSession(row);
    });
    registry.handle('sessions/list', async (p, ctx) => {
      const projectId = p.projectId ?? (p.root ? (await resolveProject(ctx.store, resolve(p.root))).id : null);
      const rows = await ctx.store.rpc('list_sessions', {
        p_project_id: projectId,
        p_limit: p.limit,
        p_before: p.before ?? null,
        p_include_archived: p.includeArchived,
      });
      const sessions = rows.map(toSession);
      return { sessions, nextBefore: rows.length === p.limit ? sessions[sessions.length - 1]!.updatedAt : null };
    });
    registry.handle('sessions/get', async (p, ctx) => {
      warmTokenizer();
      // A reply the last daemon left streaming is shown as failed, never as still streaming.
      await sweepOnce().catch(() => undefined);
      const [row, access, page] = await Promise.all([
        ctx.store.rpc('get_session', { p_session_id: p.sessionId }),
        ctx.store.rpc('session_access', { p_session_id: p.sessionId }),
        readSessionPage(ctx.store, p.sessionId, p.afterSeq, p.limit),
      ]);
      return { session: toSession(row), access: SessionAccess.parse(access), ...page };
    });
    registry.handle('sessions/rename', async (p, ctx) => {
      const row = await ctx.store.rpc('rename_session', { p_session_id: p.sessionId, p_title: p.title });
      publishSession(row, 'updated', ctx.store.user()?.id ?? null);
      return toSession(row);
    });
    registry.handle('sessions/archive', async (p, ctx) => {
      const row = await ctx.store.rpc('archive_session', { p_session_id: p.sessionId, p_archived: p.archived });
      publishSession(row, 'updated', ctx.store.user()?.id ?? null);
      return toSession(row);
    });
    registry.handle('sessions/share', async (p, ctx) => {
      const row = await ctx.store.rpc('share_session', { p_session_id: p.sessionId, p_visibility: p.visibility });
      publishSession(row, 'updated', ctx.store.user()?.id ?? null);
      return toSession(row);
    });
    registry.handle('sessions/delete', async (p, ctx) => {
      chat.cancel({ sessionId: p.sessionId });
      await ctx.store.rpc('delete_session', { p_session_id: p.sessionId });
      chat.forget(p.sessionId);
      deps.hub.publish('sessions', 'sessions/changed', { sessionId: p.sessionId, change: 'deleted', session: null, cause: 'session', writer: ctx.store.user()?.id ?? null });
      return { deleted: true as const };
    });
    registry.handle('sessions/post', async (p, ctx) => {
      // append_message is the access check: NotFound for a session the user cannot see, PermissionDenied for read-only.
      const message = await ctx.store.rpc('append_message', { p_session_id: p.sessionId, p_role: 'user', p_content: p.content });
      const session = toSession(await ctx.store.rpc('get_session', { p_session_id: p.sessionId }));
      const change = { sessionId: p.sessionId, change: 'updated' as const, session, cause: 'message' as const, writer: message.author_id };
      deps.hub.publish('sessions', 'sessions/changed', change);
      deps.hub.publish(`session:${p.sessionId}`, 'sessions/changed', change);
      return toMessage(message);
    });
    // What the chat view asks before a message leaves the machine; the text is neither stored nor logged.
    registry.handle('secrets/check', async (p) => {
      const findings = scanText(p.text);
      return { findings, redacted: redactText(p.text, findings) };
    });
    registry.handle('workspace/readFile', async (p) => {
      if (!isAbsolute(p.root)) throw new RpcError('InvalidInput', 'root must be an absolute path', { field: 'root' });
      try {
        const ws = await Workspace.open(p.root, policyOptions(deps.config.get(), deps.home));
        return { text: await ws.readFile(p.path, p.startLine, p.endLine) };
      } catch (err) {
        if (err instanceof PathRefused) throw new RpcError('InvalidInput', err.message, { field: 'path' });
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RpcError('InvalidInput', `No such workspace folder: ${p.root}`, { field: 'root' });
        throw err;
      }
    });
    registry.handle('sessions/subscribe', async (p, ctx) => {
      // get_session raises NotFound for a session the user cannot see, so nobody listens in on others' chats.
      await ctx.store.rpc('get_session', { p_session_id: p.sessionId });
      ctx.connection.subscribe(`session:${p.sessionId}`);
      return { subscribed: true as const };
    });
    registry.handle('sessions/unsubscribe', async (p, ctx) => {
      ctx.connection.unsubscribe(`session:${p.sessionId}`);
      return { subscribed: false as const };
    });

    registry.handle('agents/list', async (p, ctx) => ({ agents: await listAgents(ctx.store, p.projectId) }));
    registry.handle('agents/create', async (p, ctx) => {
      const row = await ctx.store.rpc('create_agent', {
        p_name: p.name,
        p_system_prompt: p.systemPrompt,
        p_description: p.description ?? null,
        p_model: p.model ?? null,
        p_temperature: p.temperature ?? null,
        p_tools: p.tools ?? [],
        p_team_id: p.teamId ?? null,
      });
      return toAgent(row);
    });
    registry.handle('agents/update', async (p, ctx) => {
      const patch: Record<string, unknown> = {};
      if (p.patch.name !== undefined) patch.name = p.patch.name;
      if (p.patch.description !== undefined) patch.description = p.patch.description;
      if (p.patch.systemPrompt !== undefined) patch.system_prompt = p.patch.systemPrompt;
      if (p.patch.model !== undefined) patch.model = p.patch.model;
      if (p.patch.temperature !== undefined) patch.temperature = p.patch.temperature;
      if (p.patch.tools !== undefined) patch.tools = p.patch.tools;
      return toAgent(await ctx.store.rpc('update_agent', { p_agent_id: p.agentId, p_patch: patch }));
    });
    registry.handle('agents/delete', async (p, ctx) => {
      await ctx.store.rpc('delete_agent', { p_agent_id: p.agentId });
      return { deleted: true as const };
    });

    registry.handle('tasks/list', async (p, ctx) => {
      const rows = await ctx.store.rpc('list_tasks', { p_project_id: await projectOf(ctx.store, p), p_status: p.status ?? null });
      return { tasks: rows.map(toTask) };
    });
    registry.handle('tasks/create', async (p, ctx) => {
      const row = await ctx.store.rpc('create_task', {
        p_project_id: await projectOf(ctx.store, p),
        p_title: p.title,
        p_description: p.description ?? null,
        p_session_id: p.sessionId ?? null,
      });
      return toTask(row);
    });
    registry.handle('tasks/update', async (p, ctx) =>
      toTask(await ctx.store.rpc('update_task', { p_task_id: p.taskId, p_patch: p.patch })),
    );

    return {
      async dispose() {
        deps.shutdownSignal.removeEventListener('abort', onShutdown);
        await chat.dispose();
      },
    };
  };
}

