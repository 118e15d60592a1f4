/**
 * Live updates from other people and other daemons: turns the store's change feed (Supabase Realtime in
 * team mode, LISTEN/NOTIFY in the local stores) into `sessions/changed` notifications.
 *
 * The chat subsystem already announces what this daemon does itself (sessions it creates, renames, shares;
 * replies it streams), so the bridge passes on only what someone else caused:
 * - messages this daemon did not write (learned from the calls it makes, so the same user's other machine is
 *   heard too; without call observation, messages whose author is not the acting user);
 * - session rows whose visible state (title, visibility, archived, project) differs from what clients were
 *   last told. The bridge learns what this daemon wrote from the calls it makes (`observeCalls` of the
 *   SwitchableStore), so the feed's echo of a rename here compares equal and is dropped, while a teammate's
 *   rename is announced. A message posted here only touches the session's recency: not announced again.
 * - sessions that left the user's view: Realtime sends nothing about a row its subscriber can no longer
 *   read, so the schema records each such change in `access_changes` (a session unshared, a project
 *   moved out of a team, the user removed from a team), which the people who lost access can read. On one,
 *   the bridge re-reads the sessions its clients were shown (from `list_sessions` and the writes above) and
 *   announces the ones that are gone as deleted.
 *
 * One notification reuses the chat subsystem's declaration: `sessions/changed` on topic `sessions` (the
 * tree) and, for messages and deletions, on `session:<id>` too (an open chat re-reads the session after its
 * last `seq`, or closes).
 * Events of one session within `coalesceMs` become one notification per topic: a message insert and the
 * session row it touches arrive together.
 */
import { toSession, type SessionRow } from '../chat/rows.js';
import type { Session } from '../protocol/sessions.js';
import type { DaemonDeps, EventHub, HandlerRegistry, Subsystem } from '../rpc/registry.js';
import type { Logger } from '../log/logger.js';
import type { CallObserver } from '../store/switchable.js';
import { StoreError, type ChangeEvent, type Store } from '../store/types.js';

interface Pending {
  timer: NodeJS.Timeout;
  /** What happened to the session row (anyone's change; compared with what clients were last told). */
  sessionOp: ChangeEvent['op'] | null;
  /**
   * Why open chats must re-read, if they must: someone else posted or updated a message, the role changed, or
   * the feed had a gap (which wins: anything may have changed).
   */
  reread: 'message' | 'access' | 'resync' | null;
  /** Who wrote the messages, when it was one known person. */
  writer: string | null | undefined;
  /** Messages of the session that changed; those this daemon wrote are dropped at flush time. */
  messageIds: Set<string>;
}

export interface LiveBridgeOptions {
  store: Store & { observeCalls?(observer: CallObserver): () => void };
  hub: EventHub;
  log: Logger;
  coalesceMs?: number;
}

const fingerprint = (s: Session) => JSON.stringify([s.title, s.visibility, s.archived, s.projectId]);

/** What clients were last told about a session. */
interface Known {
  print: string;
  projectId: string | null;
}

/** How many message ids this daemon remembers writing (its replies' saves echo back for a few seconds). */
const WRITTEN_HERE_LIMIT = 4096;

/** SQL API functions that return the session row they changed. */
const SESSION_WRITES = new Set(['create_session', 'rename_session', 'share_session', 'archive_session']);

function hasId(value: unknown): value is { id: string } {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

export class LiveBridge {
  private readonly pending = new Map<string, Pending>();
  /** What clients were last told about each session, to tell a real change from a recency touch. */
  private readonly known = new Map<string, Known>();
  /** Sessions this daemon deleted, whose DELETE event is its own echo. */
  private readonly deletedHere = new Set<string>();
  /** Messages this daemon wrote (newest last, bounded), whose feed events are its own echo. */
  private readonly writtenHere = new Set<string>();
  /** Authors of messages seen in the feed and not announced yet (by message id), to name the writer. */
  private readonly authors = new Map<string, string | null>();
  private readonly inFlight = new Set<Promise<void>>();
  private off: (() => Promise<void>) | null = null;
  private stopObserving: (() => void) | null = null;
  private stopped = false;
  private readonly coalesceMs: number;

  constructor(private readonly opts: LiveBridgeOptions) {
    this.coalesceMs = opts.coalesceMs ?? 60;
  }

  async start(): Promise<void> {
    this.stopObserving = this.opts.store.observeCalls?.((fn, args, result) => this.learn(fn, args, result)) ?? null;
    this.off = await this.opts.store.onChange((event) => this.onEvent(event));
  }

  /** What this daemon changed itself, as the chat subsystem announced it. */
  private learn(fn: string, args: Record<string, unknown>, result: unknown): void {
    if (SESSION_WRITES.has(fn) && hasId(result)) {
      this.remember(toSession(result as SessionRow));
    } else if (fn === 'get_session' && hasId(result)) {
      // A chat opened on a session the tree may never have listed: known from now on, so losing access to it
      // is announced. What clients were told of a known one stays (announce compares with it).
      if (!this.known.has(result.id)) this.remember(toSession(result as SessionRow));
    } else if (fn === 'list_sessions' && Array.isArray(result)) {
      // What a client's tree now shows: the sessions to re-check when access is revoked.
      for (const row of result) if (hasId(row)) this.remember(toSession(row as SessionRow));
    } else if (fn === 'append_message' && hasId(result)) {
      this.wroteMessage(result.id);
    } else if (fn === 'update_message' && typeof args.p_message_id === 'string') {
      this.wroteMessage(args.p_message_id);
    } else if (fn === 'delete_session' && typeof args.p_session_id === 'string') {
      this.known.delete(args.p_session_id);
      this.deletedHere.add(args.p_session_id);
    }
  }

  private wroteMessage(id: string): void {
    this.writtenHere.delete(id);
    this.writtenHere.add(id);
    if (this.writtenHere.size > WRITTEN_HERE_LIMIT) this.writtenHere.delete(this.writtenHere.values().next().value!);
  }

  private remember(session: Session): void {
    this.known.set(session.id, { print: fingerprint(session), projectId: session.projectId });
  }

  /** Stops listening and drops what was not announced yet. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopObserving?.();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    const off = this.off;
    this.off = null;
    await off?.();
    await Promise.allSettled([...this.inFlight]);
  }

  private onEvent(event: ChangeEvent): void {
    if (this.stopped) return;
    const me = this.opts.store.user()?.id ?? null;
    const r = event.record;
    if (event.table === 'access_changes') {
      this.onAccessChange(r, me);
    } else if (event.table === 'messages') {
      const sessionId = typeof r.session_id === 'string' ? r.session_id : null;
      if (!sessionId) return;
      if (this.opts.store.observeCalls) {
        // Whether this daemon wrote it is decided at flush time: the echo can overtake the call's answer.
        if (typeof r.id === 'string') this.mark(sessionId).messageIds.add(r.id);
      } else if (me === null || r.author_id !== me) {
        this.noteMessage(this.mark(sessionId), typeof r.author_id === 'string' ? r.author_id : null);
      }
      if (this.opts.store.observeCalls && typeof r.id === 'string') this.authors.set(r.id, typeof r.author_id === 'string' ? r.author_id : null);
    } else if (event.table === 'sessions') {
      const sessionId = typeof r.id === 'string' ? r.id : null;
      if (!sessionId) return;
      if (event.op === 'DELETE' && this.deletedHere.delete(sessionId)) return;
      // Without call observation, the owner's own changes are taken to be this daemon's.
      if (!event.resync && !this.opts.store.observeCalls && me !== null && r.owner_id === me) return;
      const p = this.mark(sessionId);
      // A delete wins over an update seen in the same window; an insert stays an insert.
      if (event.op === 'DELETE' || p.sessionOp === null) p.sessionOp = event.op;
      // After a gap in the feed the store cannot say what changed: messages may have arrived, so open chats
      // re-read the session (by `seq`, so nothing is shown twice).
      if (event.resync) p.reread = 'resync';
    }
  }

  /**
   * What someone may see or do changed: re-read the sessions it may concern; those no longer visible are
   * announced gone, and after a role change the others are announced to open chats, which re-read what the
   * user may now do there.
   */
  private onAccessChange(r: Record<string, unknown>, me: string | null): void {
    let affected: string[];
    let reread = false;
    if (r.reason === 'session_unshared' && typeof r.session_id === 'string') {
      affected = [r.session_id];
    } else if (r.reason === 'project_unshared' && typeof r.project_id === 'string') {
      affected = [...this.known].filter(([, k]) => k.projectId === r.project_id).map(([id]) => id);
    } else if (r.reason === 'member_removed' && me !== null && r.user_id === me) {
      // Which projects were the team's is not known here: every session shown is checked once.
      affected = [...this.known.keys()];
    } else if (r.reason === 'role_changed' && me !== null && r.user_id === me) {
      affected = [...this.known.keys()];
      reread = true;
    } else {
      return;
    }
    for (const sessionId of affected) {
      const p = this.mark(sessionId);
      p.sessionOp ??= 'UPDATE';
      if (reread && p.reread !== 'resync') p.reread = 'access';
    }
  }

  /** A message its clients have not seen streamed: open chats re-read; the writer is kept while it is one person. */
  private noteMessage(p: Pending, author: string | null): void {
    if (p.reread === null) p.reread = 'message';
    p.writer = p.writer === undefined || p.writer === author ? author : null;
  }

  private mark(sessionId: string): Pending {
    let p = this.pending.get(sessionId);
    if (!p) {
      p = {
        timer: setTimeout(() => this.flush(sessionId), this.coalesceMs),
        sessionOp: null,
        reread: null,
        writer: undefined,
        messageIds: new Set(),
      };
      this.pending.set(sessionId, p);
    }
    return p;
  }

  private flush(sessionId: string): void {
    const p = this.pending.get(sessionId);
    this.pending.delete(sessionId);
    if (!p || this.stopped) return;
    for (const id of p.messageIds) if (!this.writtenHere.has(id)) this.noteMessage(p, this.authors.get(id) ?? null);
    for (const id of p.messageIds) this.authors.delete(id);
    // Only this daemon's own messages echoed back: nothing to tell anyone.
    if (!p.reread && p.sessionOp === null) return;
    const work = this.announce(sessionId, p).catch((err: unknown) =>
      this.opts.log.warn('live update could not be announced', { sessionId, error: err instanceof Error ? err.message : String(err) }),
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async announce(sessionId: string, p: Pending): Promise<void> {
    const { hub } = this.opts;
    // What clients were told, taken before the read: the call observer learns from the read itself.
    const before = this.known.get(sessionId)?.print;
    const session = p.sessionOp === 'DELETE' ? null : await this.read(sessionId);
    if (this.stopped) return;
    if (!session) {
      // Deleted, or no longer visible to this user (unshared, removed from the team): gone from their view.
      // A session its clients were never shown is nobody's business here (a DELETE reaches every subscriber).
      if (before === undefined) return;
      this.known.delete(sessionId);
      const gone = { sessionId, change: 'deleted' as const, session: null, cause: p.sessionOp === 'DELETE' ? ('session' as const) : ('access' as const), writer: null };
      hub.publish('sessions', 'sessions/changed', gone);
      hub.publish(`session:${sessionId}`, 'sessions/changed', gone);
      return;
    }
    const print = fingerprint(session);
    this.remember(session);
    if (!p.reread && before === print) return;
    const change = p.sessionOp === 'INSERT' ? ('created' as const) : ('updated' as const);
    const note = { sessionId, change, session, cause: p.reread ?? ('session' as const), writer: p.reread === 'message' ? (p.writer ?? null) : null };
    hub.publish('sessions', 'sessions/changed', note);
    if (p.reread) hub.publish(`session:${sessionId}`, 'sessions/changed', note);
  }

  /** The session as the acting user sees it now, or null when they cannot see it. */
  private async read(sessionId: string): Promise<Session | null> {
    try {
      return toSession(await this.opts.store.rpc('get_session', { p_session_id: sessionId }));
    } catch (err) {
      if (err instanceof StoreError && (err.kind === 'not_found' || err.kind === 'permission_denied')) return null;
      throw err;
    }
  }
}

/** The bridge as a subsystem: runs in every store mode, from start to shutdown (composed in host/run.ts). */
export const registerLive: Subsystem = async (_registry: HandlerRegistry, deps: DaemonDeps) => {
  const live = new LiveBridge({ store: deps.store, hub: deps.hub, log: deps.log });
  await live.start();
  return { dispose: () => live.stop() };
};
