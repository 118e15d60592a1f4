/**
 * The store the daemon hands to its subsystems: the local store it opened at start (embedded PGlite or a
 * Postgres URL), swapped for a SupabaseStore when the user signs in to a team project and back when they
 * sign out. Subsystems keep one Store reference for the daemon's lifetime, so every call goes to whichever
 * store is current, and change-feed listeners follow the swap instead of going quiet.
 */
import { redactWriteArgs } from '../secrets/outbound.js';
import { openStore } from './index.js';
import type { SupabaseStore } from './supabase.js';
import type { ChangeEvent, DocumentStorage, OpenedHow, RpcName, RpcRest, RpcResult, SchemaStatus, Store, StoreMode, StoreUser } from './types.js';

type Listener = (event: ChangeEvent) => void;
export type CallObserver = (fn: string, args: Record<string, unknown>, result: unknown) => void;

interface Subscription {
  readonly listener: Listener;
  /** Unsubscribes from the store it was made on; null while not subscribed (the new store refused). */
  off: (() => Promise<void>) | null;
}

/** The embedded store's backup, offered only while that store is current (see core/handlers.ts's capability check). */
type BackupFn = (file: string) => Promise<unknown>;

export class SwitchableStore implements Store {
  private current: Store;
  private team: SupabaseStore | null = null;
  private readonly subscriptions = new Set<Subscription>();
  private readonly callObservers = new Set<CallObserver>();
  private readonly swapListeners = new Set<() => void>();
  /** Swaps and subscriptions run one at a time, so no listener ends up on a store that was swapped out. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  onSwap(listener: () => void): void {
    this.swapListeners.add(listener);
  }

  /** Told when a listener cannot follow a swap (e.g. Realtime refused); `resubscribe` retries it. */
  onSubscribeError: (err: unknown) => void = () => undefined;

  constructor(readonly local: Store) {
    this.current = local;
  }

  get mode(): StoreMode {
    return this.current.mode;
  }

  get opened(): OpenedHow | undefined {
    return this.local.opened;
  }

  engineHeapBytes(): number | null {
    return this.local.engineHeapBytes?.() ?? null;
  }

  /** The mode of the store the daemon falls back to on sign-out. */
  get localMode(): 'embedded' | 'postgres' {
    return this.local.mode === 'postgres' ? 'postgres' : 'embedded';
  }

  /** The team project's store while signed in, else null. */
  get teamStore(): SupabaseStore | null {
    return this.team;
  }

  get backup(): BackupFn | undefined {
    const fn = (this.current as Partial<{ backup: BackupFn }>).backup;
    return typeof fn === 'function' ? fn.bind(this.current) : undefined;
  }

  user(): StoreUser | null {
    return this.current.user();
  }

  /** The current store's file storage: Supabase Storage while signed in to a team project, else null. */
  documents(): DocumentStorage | null {
    return this.current.documents?.() ?? null;
  }

  async rpc<F extends RpcName>(fn: F, ...rest: RpcRest<F>): Promise<RpcResult<F>> {
    // Messages, titles and tasks are stored (and shared) with detected secrets redacted, whoever wrote them.
    const [argsIn, ...more] = rest as unknown as [Record<string, unknown> | undefined, ...unknown[]];
    const redacted = [redactWriteArgs(fn, argsIn), ...more] as unknown as RpcRest<F>;
    const result = await this.current.rpc(fn, ...redacted);
    const args = redacted[0];
    for (const observer of this.callObservers) {
      try {
        observer(fn, args ?? {}, result);
      } catch {
        // An observer's fault must not fail a call that succeeded.
      }
    }
    return result;
  }

  /**
   * Sees every successful call made through this store, with its result: the live bridge learns from it what
   * this daemon changed itself, so the change feed's echo of it is not announced twice.
   */
  observeCalls(observer: CallObserver): () => void {
    this.callObservers.add(observer);
    return () => this.callObservers.delete(observer);
  }

  schemaStatus(): Promise<SchemaStatus> {
    return this.current.schemaStatus();
  }

  stats(): Promise<{ tables: Record<string, number>; bytes: number | null }> {
    return this.current.stats();
  }

  whenIdle(): Promise<void> {
    return this.current.whenIdle?.() ?? Promise.resolve();
  }

  onChange(listener: Listener): Promise<() => Promise<void>> {
    return this.serially(async () => {
      const sub: Subscription = { listener, off: await this.current.onChange(listener) };
      this.subscriptions.add(sub);
      return () =>
        this.serially(async () => {
          this.subscriptions.delete(sub);
          const off = sub.off;
          sub.off = null;
          await off?.();
        });
    });
  }

  /** Makes `store` current (closing a previous team store), moving every change listener onto it. */
  useTeam(store: SupabaseStore): Promise<void> {
    return this.serially(async () => {
      const previous = this.team;
      this.team = store;
      await this.swapTo(store);
      if (previous && previous !== store) await previous.close();
    });
  }

  /** Back to the local store; the team store forgets the user at once and closes. */
  useLocal(): Promise<void> {
    return this.serially(async () => {
      const team = this.team;
      this.team = null;
      team?.clearSession();
      await this.swapTo(this.local);
      await team?.close();
    });
  }

  /** Subscribes again the listeners a swap could not move (call after the connection or token recovers). */
  resubscribe(): Promise<number> {
    return this.serially(async () => {
      let moved = 0;
      for (const sub of this.subscriptions) {
        if (sub.off) continue;
        try {
          sub.off = await this.current.onChange(sub.listener);
          moved++;
        } catch (err) {
          this.onSubscribeError(err);
        }
      }
      return moved;
    });
  }

  /** Listeners that are not receiving changes (a swap could not move them). */
  get detachedListeners(): number {
    return [...this.subscriptions].filter((s) => s.off === null).length;
  }

  async close(): Promise<void> {
    await this.serially(async () => {
      if (this.closed) return;
      this.closed = true;
      for (const sub of this.subscriptions) {
        const off = sub.off;
        sub.off = null;
        await off?.().catch(() => undefined);
      }
      this.subscriptions.clear();
      const team = this.team;
      this.team = null;
      try {
        await team?.close();
      } finally {
        await this.local.close();
      }
    });
  }

  private async swapTo(next: Store): Promise<void> {
    if (next === this.current) return;
    this.current = next;
    // What callers cached (project ids) belongs to the previous database (or the previous user's view of it).
    for (const listener of this.swapListeners) listener();
    for (const sub of this.subscriptions) {
      const off = sub.off;
      sub.off = null;
      await off?.().catch(() => undefined);
      try {
        sub.off = await next.onChange(sub.listener);
      } catch (err) {
        this.onSubscribeError(err);
      }
    }
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The daemon's store factory (host/run.ts): the local store from `openStore`, ready to switch to team mode. */
export async function openSwitchableStore(home: string, env: NodeJS.ProcessEnv = process.env): Promise<SwitchableStore> {
  return new SwitchableStore(await openStore(home, env));
}
