/**
 * The chat orchestrator: stores the user message, then generates the reply in the background and streams
 * it to every connection subscribed to `session:<id>`.
 *
 * Durability (ARCHITECTURE.md, invariant 7): the user message and an empty `streaming` reply row are committed before
 * `chat/send` returns; the reply's text is saved every `persistIntervalMs` (`sharedPersistIntervalMs` in a
 * team session, which teammates follow through those saves) while it streams, and the row
 * always ends `complete`, `cancelled` or `failed` (a crash leaves `streaming`, which the next start turns into
 * `failed`). Tool calls and results are stored as their own messages pointing back to the reply.
 *
 * The agent loop is a small loop over `model.bindTools(tools).stream()` rather than langchain's `createAgent`:
 * a `createAgent` graph stream adds time before the model request leaves (p50 9.4 ms against 2.0 ms for the
 * bound model's own stream on a quiet machine, 23-37 ms against 6-12 ms under load; ARCHITECTURE.md), and the
 * budget from `chat/send` to the first token is 25 ms (bench/chat.bench.ts reports `loopStartToRequestMs`). The AbortSignal passed to `stream()` reaches the
 * HTTP request to the model; tool calls stop at `maxToolCalls` per reply.
 */
import { resolve } from 'node:path';
import { redactForModel } from '../secrets/outbound.js';
import { redactSecrets } from '../secrets/index.js';
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ConfigHolder } from '../config.js';
import { RpcError, type ErrorCodeName } from '../protocol/errors.js';
import type { Connection, EventHub } from '../rpc/registry.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import { resolveProject } from '../workspace/project.js';
import { DEFAULT_AGENT, findAgent } from './agents.js';
import { SqlChatMessageHistory } from './history.js';
import { chatModelFor, checkModelChoice, createChatModel, describeProviderError, resolveModel, type ModelChoice } from './model.js';
import { offlineAnswer } from './offline.js';
import { toSession, type MessageRow, type SessionRow } from './rows.js';
import { shownResult } from './replies.js';
import { countMessageTokens, countTokens } from './tokens.js';
import { buildTools, toolDefinitions, type KbSearch } from './tools.js';
import { Workspace } from './workspace-files.js';
import { policyOptions } from '../workspace/policy.js';
import type { Agent } from '../protocol/agents.js';
import type { Usage } from '../protocol/chat.js';
import type { ParamsOf, ResultOf } from '../protocol/index.js';

export interface ChatOptions {
  /** Token budget for the history sent to the model (system prompt included). */
  historyTokens: number;
  /** Tool calls per reply before further calls are refused (the step limit). */
  maxToolCalls: number;
  /** How often the partial reply is saved while it streams. */
  persistIntervalMs: number;
  /**
   * The same in a session shared with a team: teammates' daemons see the reply through these saves (the
   * change feed), so they come often enough for their open chat to follow within a second.
   */
  sharedPersistIntervalMs: number;
  /** Ask the model for a session title after the first exchange (offline, the first message gives it). */
  titleWithModel: boolean;
}

import { REPLY_HEARTBEAT_MS } from './interrupted.js';

export const defaultChatOptions: ChatOptions = {
  historyTokens: 12_000,
  maxToolCalls: 8,
  persistIntervalMs: 1000,
  sharedPersistIntervalMs: 300,
  titleWithModel: true,
};

/** Where a reply goes when the project's team routes chat through its model gateway (null: the user's own settings). */
export type TeamModel = (store: Store, projectId: string | null, wanted: (string | null)[]) => Promise<ModelChoice | null>;

export interface ChatDeps {
  /** The store when a call does not bring its own (the request's store, which follows sign-in in team mode). */
  store: Store;
  config: ConfigHolder;
  hub: EventHub;
  log: Logger;
  kbSearch: KbSearch | null;
  /** The model of the project's team when it has a gateway, else null (teams/gateway.ts; passed by the host). */
  teamModel?: TeamModel | undefined;
  /** `$CAIRN_HOME`: the file tools never read the daemon's own data, even when the workspace contains it. */
  home: string;
  /** Keeps the daemon from closing the database under an in-flight reply. */
  track<T>(work: Promise<T>): Promise<T>;
  options?: Partial<ChatOptions>;
}

interface Run {
  sessionId: string;
  replyId: string;
  controller: AbortController;
  done: Promise<void>;
}

const DEFAULT_TITLE = 'New chat';

/** A short title from the first user message: its first line, without markup, cut at a word. */
export function deriveTitle(text: string): string {
  const line = text
    .replace(/```[\s\S]*?```/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.replace(/[#>*_`[\]]+/g, ' ').replace(/\s+/g, ' ').trim())
    .find((l) => l.length > 0);
  if (!line) return DEFAULT_TITLE;
  if (line.length <= 60) return line;
  const cut = line.slice(0, 60);
  const space = cut.lastIndexOf(' ');
  return `${space > 30 ? cut.slice(0, space) : cut}…`;
}

export class ChatOrchestrator {
  private readonly runs = new Map<string, Run>();
  /** The folder a local client last named per project, for a message that names only its session. */
  private readonly projectRoots = new Map<string, string>();
  /**
   * Session rows seen lately, for their project and agent (neither changes after creation), saving a read
   * before the model request. Access is still checked on every message, by `append_message`.
   */
  private readonly sessions = new Map<string, SessionRow>();
  /** Team members' names per project, for attributing their messages to the model (see authorNames). */
  private readonly memberNames = new Map<string, { at: number; names: Map<string, string> }>();

  private remember(row: SessionRow): void {
    if (this.sessions.size >= 1000) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(row.id, row);
  }

  /** Drops what is remembered of a deleted session. */
  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
  }
  private readonly options: ChatOptions;

  constructor(private readonly deps: ChatDeps) {
    this.options = { ...defaultChatOptions, ...deps.options };
  }

  /** Announces a session this daemon's chat just wrote in (its reply streamed on `session:<id>`). */
  private publishSession(row: SessionRow, change: 'created' | 'updated', store: Store): void {
    this.deps.hub.publish('sessions', 'sessions/changed', { sessionId: row.id, change, session: toSession(row), cause: 'reply', writer: store.user()?.id ?? null });
  }

  /**
   * Commits the user message and an empty streaming reply, starts generating, returns the ids. For an
   * existing session `append_message` is the visibility check (it raises not found), so the session row is
   * read only after the answer, while the reply starts.
   */
  async send(paramsIn: ParamsOf<'chat/send'>, connection?: Connection, store: Store = this.deps.store): Promise<ResultOf<'chat/send'>> {
    // Redacted before anything derives from it (the title is cut from its first line, which could cut a key
    // in half where no rule recognises it any more).
    const redacted = redactSecrets(paramsIn.content);
    const params = { ...paramsIn, content: redacted.text };
    const root = params.root ? resolve(params.root) : null;
    let created: SessionRow | null = null;
    if (!params.sessionId) {
      const projectId = params.projectId ?? (root ? (await resolveProject(store, root)).id : null);
      const agent = await findAgent(store, params.agentId, { strict: true });
      // Named after the question from the start: a reply that fails, is stopped, or dies with the daemon
      // leaves a session the user can tell apart, not another "New chat". The model may improve it later.
      created = await store.rpc('create_session', { p_project_id: projectId, p_title: deriveTitle(params.content), p_agent_id: agent.builtIn ? null : agent.id });
    }
    const sessionId = created?.id ?? params.sessionId!;
    if (this.runs.has(sessionId)) {
      throw new RpcError('Busy', 'A reply is still being generated in this session; cancel it (chat/cancel) or wait for chat/done.', { sessionId });
    }
    // Claimed before the first await below, so a second send to this session cannot slip in.
    const controller = new AbortController();
    const run: Run = { sessionId, replyId: '', controller, done: Promise.resolve() };
    this.runs.set(sessionId, run);
    try {
      const user = await store.rpc('append_message', { p_session_id: sessionId, p_role: 'user', p_content: params.content });
      const reply = await store.rpc('append_message', {
        p_session_id: sessionId,
        p_role: 'assistant',
        p_content: '',
        p_status: 'streaming',
        p_metadata: {},
      });
      run.replyId = reply.id;
      connection?.subscribe(`session:${sessionId}`);
      if (created) {
        this.remember(created);
        this.publishSession({ ...created, last_message_at: reply.created_at }, 'created', store);
      }
      run.done = this.deps.track(
        this.generate({ store, session: this.sessions.get(sessionId) ?? null, sessionId, root, userMessage: user, replyId: reply.id, agentId: params.agentId ?? null, controller }),
      );
      return { sessionId, messageId: user.id, replyId: reply.id, redactions: redacted.redactions };
    } catch (err) {
      this.runs.delete(sessionId);
      throw err;
    }
  }

  /** Stops the reply of a session (or the reply with this id). True when one was running. */
  cancel(by: { sessionId?: string; messageId?: string }): boolean {
    for (const run of this.runs.values()) {
      if ((by.sessionId && run.sessionId === by.sessionId) || (by.messageId && run.replyId === by.messageId)) {
        run.controller.abort(new RpcError('Cancelled', 'Cancelled by the user.'));
        return true;
      }
    }
    return false;
  }

  /** Resolves when no reply is being generated. */
  async idle(): Promise<void> {
    while (this.runs.size > 0) await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  /** Stops every reply (stored as failed: the daemon is going away) and waits for their final writes. */
  async dispose(): Promise<void> {
    for (const run of this.runs.values()) run.controller.abort(new Error('shutdown'));
    await this.idle();
  }

  /**
   * The file tools' folder: the one the client named, else the one a local client named for this project
   * before. Never the project's stored `root_uri`: in team mode any member can write it (`file:///` would root
   * `read_file` at `/`), so only a folder the local user opened may bound what the tools read.
   */
  private async workspaceFor(session: SessionRow, root: string | null): Promise<Workspace | null> {
    const projectId = session.project_id;
    if (projectId && root) this.projectRoots.set(projectId, root);
    const dir = root ?? (projectId ? this.projectRoots.get(projectId) : undefined);
    if (!dir) return null;
    try {
      return await Workspace.open(dir, policyOptions(this.deps.config.get(), this.deps.home));
    } catch {
      // The folder is gone: no file tools.
      return null;
    }
  }

  private async generate(job: {
    store: Store;
    /** The row when `send` created the session or it is remembered; otherwise read here. */
    session: SessionRow | null;
    sessionId: string;
    root: string | null;
    userMessage: MessageRow;
    replyId: string;
    agentId: string | null;
    controller: AbortController;
  }): Promise<void> {
    const { hub, log } = this.deps;
    const { store, sessionId, replyId, controller } = job;
    const topic = `session:${sessionId}`;
    const signal = controller.signal;

    let content = '';
    let index = 0;
    let saved = 0;
    let writes: Promise<unknown> = Promise.resolve();
    const usage: Usage = { model: '', promptTokens: 0, completionTokens: 0 };
    const metadata: Record<string, unknown> = {};

    const delta = (text: string) => {
      if (!text) return;
      content += text;
      hub.publish(topic, 'chat/delta', { sessionId, messageId: replyId, delta: text, index: index++ });
    };
    // Writes to the reply row go one after another, so the final status is never overtaken by a partial save.
    const write = (fn: () => Promise<unknown>) => {
      writes = writes.then(fn).catch((e: unknown) => log.warn('chat: saving the reply failed', { sessionId, replyId, error: String((e as Error)?.message ?? e) }));
      return writes;
    };
    let savedAt = Date.now();
    /** Whether teammates follow this reply (known once the session is read below). */
    let shared = job.session?.visibility === 'team';
    const { persistIntervalMs, sharedPersistIntervalMs } = this.options;
    const timer = setInterval(() => {
      const idle = Date.now() - savedAt;
      const due = content.length !== saved && idle >= (shared ? sharedPersistIntervalMs : persistIntervalMs) - 5;
      if (!due && idle < REPLY_HEARTBEAT_MS) return;
      const snapshot = content;
      saved = snapshot.length;
      savedAt = Date.now();
      void write(() => store.rpc('update_message', { p_message_id: replyId, p_content: snapshot }));
    }, Math.min(persistIntervalMs, sharedPersistIntervalMs));
    timer.unref();

    const recordUsage = (model: string, promptTokens: number, completionTokens: number) => {
      usage.model = model;
      usage.promptTokens += promptTokens;
      usage.completionTokens += completionTokens;
      // Through the team's gateway the gateway records usage from the provider's report; a row of ours would
      // only be a second, uncounted copy.
      if (choice?.viaGateway) return;
      void write(() =>
        store.rpc('record_usage', {
          p_model: model,
          p_prompt_tokens: promptTokens,
          p_completion_tokens: completionTokens,
          p_kind: 'chat',
          p_session_id: sessionId,
          p_message_id: replyId,
        }),
      );
    };

    let status: 'complete' | 'cancelled' | 'failed' = 'complete';
    let error: { code: ErrorCodeName; message: string } | undefined;
    let choice: ModelChoice | null = null;
    try {
      const session = job.session ?? (await store.rpc('get_session', { p_session_id: sessionId }));
      this.remember(session);
      shared = session.visibility === 'team';
      const [agent, workspace] = await Promise.all([
        findAgent(store, job.agentId ?? session.agent_id).catch(() => DEFAULT_AGENT),
        this.workspaceFor(session, job.root),
      ]);
      const chatConfig = this.deps.config.get().chat;
      choice =
        (await this.deps.teamModel?.(store, session.project_id, [agent.model, chatConfig.model])) ?? resolveModel(chatConfig, agent.model);
      if (!choice) {
        metadata.offline = true;
        metadata.sources = await offlineAnswer({
          store,
          question: job.userMessage.content,
          root: workspace?.root ?? null,
          kbSearch: this.deps.kbSearch,
          signal,
          emit: delta,
        });
      } else {
        const problem = checkModelChoice(choice);
        if (problem) throw new RpcError(problem.code, problem.message);
        metadata.model = choice.model;
        metadata.agentId = agent.id;
        await this.runAgent({ store, agent, choice, workspace, session, replyId, signal, delta, recordUsage, metadata });
      }
    } catch (err) {
      if (signal.aborted) {
        const reason = signal.reason;
        if (reason instanceof RpcError && reason.codeName === 'Cancelled') status = 'cancelled';
        else {
          status = 'failed';
          error = { code: 'Cancelled', message: 'The daemon shut down before the reply finished.' };
        }
      } else {
        status = 'failed';
        if (err instanceof RpcError) error = { code: err.codeName, message: err.message };
        else if (choice) error = describeProviderError(err, choice);
        else error = { code: 'InternalError', message: `The reply failed: ${String((err as Error)?.message ?? err).slice(0, 300)}` };
        log.warn('chat: reply failed', { sessionId, replyId, code: error.code, message: error.message });
      }
    } finally {
      clearInterval(timer);
    }

    if (usage.model) metadata.usage = { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens };
    if (error) metadata.error = error;
    await write(() => store.rpc('update_message', { p_message_id: replyId, p_content: content, p_status: status, p_metadata: metadata }));
    this.runs.delete(sessionId);
    hub.publish(topic, 'chat/done', {
      sessionId,
      messageId: replyId,
      status,
      ...(error ? { error } : {}),
      ...(usage.model ? { usage: { ...usage } } : {}),
      ...(metadata.historyTrimmed ? { historyTrimmed: metadata.historyTrimmed as { droppedMessages: number; keptTokens: number } } : {}),
    });
    try {
      const latest = await store.rpc('get_session', { p_session_id: sessionId });
      // Still the placeholder or the question's first line (nobody renamed it meanwhile): the first exchange titles it.
      if ((latest.title === DEFAULT_TITLE || latest.title === deriveTitle(job.userMessage.content)) && job.userMessage.seq === 1) {
        const title = await this.makeTitle(store, job.userMessage.content, content, choice);
        this.publishSession(await store.rpc('rename_session', { p_session_id: sessionId, p_title: title }), 'updated', store);
      } else {
        this.publishSession(latest, 'updated', store);
      }
    } catch (e) {
      log.warn('chat: updating the session after a reply failed', { sessionId, error: String((e as Error)?.message ?? e) });
    }
  }

  /**
   * The tool-calling loop: stream one model call; if it asked for tools, store and show the calls, run them
   * (each result stored and shown), and call the model again with the results; stop when it answers without
   * tools. After `maxToolCalls` calls the model is called once more without tools, so it must answer.
   */
  private async runAgent(ctx: {
    store: Store;
    agent: Agent;
    choice: ModelChoice;
    workspace: Workspace | null;
    session: SessionRow;
    replyId: string;
    signal: AbortSignal;
    delta: (text: string) => void;
    recordUsage: (model: string, prompt: number, completion: number) => void;
    metadata: Record<string, unknown>;
  }): Promise<void> {
    const { hub } = this.deps;
    const { store, agent, choice, session, replyId, signal, delta } = ctx;
    const sessionId = session.id;
    const topic = `session:${sessionId}`;
    const maxToolCalls = this.options.maxToolCalls;
    const history = new SqlChatMessageHistory(store, sessionId, replyId, {
      me: store.user()?.id ?? null,
      names: (ids) => this.authorNames(store, session.project_id, ids),
    });
    const system = ctx.workspace ? `${agent.systemPrompt}\nThe workspace folder is ${ctx.workspace.root}.` : agent.systemPrompt;
    const fitted = await history.forModel(system, this.options.historyTokens);
    if (fitted.dropped > 0) ctx.metadata.historyTrimmed = { droppedMessages: fitted.dropped, keptTokens: fitted.tokens };

    const tools = buildTools(
      { store, workspace: ctx.workspace, kbSearch: this.deps.kbSearch, projectId: session.project_id, sessionId, signal },
      agent.tools,
    );
    const byName = new Map(tools.map((t) => [t.name, t]));
    const model = chatModelFor(choice, agent.temperature);
    const withTools = tools.length > 0 ? model.bindTools(toolDefinitions(tools)) : model;
    const messages: BaseMessage[] = [...fitted.messages];
    let toolCallsUsed = 0;

    for (;;) {
      const lastStep = toolCallsUsed >= maxToolCalls;
      let full: AIMessageChunk | undefined;
      let usageSeen = false;
      let text = '';
      const stream = await (lastStep ? model : withTools).stream(redactMessages(messages), { signal });
      for await (const chunk of stream) {
        full = full ? full.concat(chunk) : chunk;
        text += chunk.text;
        delta(chunk.text);
        const u = chunk.usage_metadata;
        if (u && (u.input_tokens > 0 || u.output_tokens > 0)) {
          usageSeen = true;
          ctx.recordUsage(choice.model, u.input_tokens, u.output_tokens);
        }
      }
      if (!full) throw new Error('The model answered with an empty stream.');
      const calls = [
        ...(full.tool_calls ?? []).map((c) => ({ id: c.id ?? '', name: c.name, args: c.args, invalid: null as string | null })),
        ...(full.invalid_tool_calls ?? []).map((c) => ({ id: c.id ?? '', name: c.name ?? 'unknown', args: {}, invalid: c.error ?? 'arguments are not valid JSON' })),
      ].filter((c) => c.id);
      if (!usageSeen) {
        // Not every OpenAI-compatible server honours include_usage: count this call offline instead.
        ctx.recordUsage(choice.model, countMessageTokens(messages), countTokens(text + JSON.stringify(calls)));
      }
      if (calls.length === 0) return;
      if (lastStep) {
        delta(`${text ? '\n\n' : ''}(Stopped after ${maxToolCalls} tool calls, the limit for one reply. Ask again to continue.)`);
        return;
      }

      const ai = new AIMessage({ id: full.id, content: full.content, tool_calls: calls.map((c) => ({ id: c.id, name: c.name, args: c.args, type: 'tool_call' as const })) });
      messages.push(ai);
      await history.append(new AIMessage({ content: '', tool_calls: ai.tool_calls }));
      for (const c of calls) hub.publish(topic, 'chat/tool', { sessionId, messageId: replyId, toolCallId: c.id, name: c.name, args: c.args, status: 'running' });

      // One at a time: results arrive in the order the model asked, and file and task tools never race.
      for (const c of calls) {
        let result: string;
        let failed = false;
        const t = byName.get(c.name);
        if (c.invalid) [result, failed] = [`Error: the call to ${c.name} could not be read (${c.invalid}).`, true];
        else if (!t) [result, failed] = [`Error: there is no tool named ${c.name}. Available: ${[...byName.keys()].join(', ') || 'none'}.`, true];
        else if (toolCallsUsed >= maxToolCalls) [result, failed] = [`Refused: the limit of ${maxToolCalls} tool calls for one reply is reached; answer with what you have.`, true];
        else {
          toolCallsUsed++;
          try {
            const out: unknown = await t.invoke(c.args, { signal });
            result = typeof out === 'string' ? out : JSON.stringify(out);
          } catch (err) {
            if (signal.aborted) throw err;
            [result, failed] = [String((err as Error)?.message ?? err), true];
          }
        }
        // A tool's output (a file read, a grep line, a search hit) reaches the model, the stored session and
        // every subscribed client with detected secrets redacted.
        result = redactForModel(result);
        const tm = new ToolMessage({ content: result, tool_call_id: c.id, name: c.name, status: failed ? 'error' : 'success' });
        messages.push(tm);
        await history.append(tm);
        hub.publish(topic, 'chat/tool', {
          sessionId,
          messageId: replyId,
          toolCallId: c.id,
          name: c.name,
          args: c.args,
          status: failed ? 'error' : 'done',
          result: shownResult(result),
        });
      }
    }
  }

  /**
   * Names of other authors in a team session (display name, else email), as the team's member list gives
   * them; cached a minute per project. A courtesy: without it authors are named by a short id.
   */
  private async authorNames(store: Store, projectId: string | null, ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!projectId) return out;
    let known = this.memberNames.get(projectId);
    if (!known || Date.now() - known.at > 60_000 || ids.some((id) => !known!.names.has(id))) {
      try {
        const projects = await store.rpc('list_projects', {});
        const teamId = projects.find((p) => p.id === projectId)?.team_id;
        const members = teamId
          ? await store.rpc('list_team_members', { p_team_id: teamId })
          : [];
        known = { at: Date.now(), names: new Map(members.map((m) => [m.user_id, m.display_name ?? m.email ?? ''])) };
        if (this.memberNames.size >= 100) this.memberNames.delete(this.memberNames.keys().next().value!);
        this.memberNames.set(projectId, known);
      } catch {
        return out;
      }
    }
    for (const id of ids) {
      const name = known.names.get(id);
      if (name) out.set(id, name);
    }
    return out;
  }

  private async makeTitle(store: Store, question: string, answer: string, choice: ModelChoice | null): Promise<string> {
    const fallback = deriveTitle(question);
    if (!choice || !this.options.titleWithModel || !answer) return fallback;
    const signal = AbortSignal.timeout(15_000);
    try {
      const model = createChatModel(choice, { temperature: 0, maxRetries: 0 });
      let title = '';
      let usage: { input_tokens: number; output_tokens: number } | undefined;
      const stream = await model.stream(
        redactMessages([
          new SystemMessage('Write a title of at most six words for this conversation. Answer with the title only, no quotes.'),
          new HumanMessage(`User: ${question.slice(0, 2000)}\n\nAssistant: ${answer.slice(0, 2000)}`),
        ]),
        { signal },
      );
      for await (const c of stream) {
        title += c.text;
        if (c.usage_metadata) usage = c.usage_metadata;
      }
      if (usage) {
        await store
          .rpc('record_usage', { p_model: choice.model, p_prompt_tokens: usage.input_tokens, p_completion_tokens: usage.output_tokens, p_kind: 'title' })
          .catch(() => undefined);
      }
      const clean = title.replace(/^["'\s]+|["'.\s]+$/g, '').replace(/\s+/g, ' ').slice(0, 80);
      return clean.length > 0 ? clean : fallback;
    } catch {
      return fallback;
    }
  }
}

/**
 * The messages of a model request with detected secrets redacted in their text (system prompt, history,
 * other people's messages, tool results): the last door before the model, whatever wrote the rows. The
 * texts are memoised, so a long history costs one scan per row, not one per call.
 */
function redactMessages(messages: BaseMessage[]): BaseMessage[] {
  for (const m of messages) {
    if (typeof m.content === 'string') {
      const text = redactForModel(m.content);
      if (text !== m.content) m.content = text;
    } else if (Array.isArray(m.content)) {
      for (const part of m.content as Array<{ type?: string; text?: unknown }>) {
        if (part && part.type === 'text' && typeof part.text === 'string') part.text = redactForModel(part.text);
      }
    }
  }
  return messages;
}
