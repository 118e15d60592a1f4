/**
 * What the embedded (PGlite) and Postgres-URL stores share: both run the SQL API in their own process as the
 * local user, through `runAsUser`, and filter the LISTEN/NOTIFY change feed by what that user may see. They
 * differ only in how a unit of database work is scheduled (`schedule`): PGlite has one connection, so its
 * calls queue in order; a pg pool runs them at once and tracks them for a clean close.
 */
import { readSchemaStatus } from './migrate.js';
import {
  FunctionCatalog,
  callFunction,
  changeVisible,
  parseChange,
  readStats,
  runAsUser,
  toStoreError,
  userClaims,
  type JwtClaims,
  type SqlDb,
  type SqlTx,
} from './sql.js';
import type { ChangeEvent, RpcName, RpcRest, RpcResult, SchemaStatus, Store, StoreMode, StoreUser } from './types.js';

export abstract class SqlApiStore implements Store {
  abstract readonly mode: StoreMode;
  protected readonly catalog = new FunctionCatalog();
  protected closed = false;
  /** Calls of the SQL API queued or running, and who waits for them to drain (`whenIdle`). */
  private callsInFlight = 0;
  private idleWaiters: (() => void)[] = [];

  protected constructor(
    protected readonly sql: SqlDb,
    protected readonly localUser: StoreUser,
    protected readonly migrationsDir: string,
  ) {}

  /** Runs one unit of database work; rejects once the store is closed. */
  protected abstract schedule<T>(work: () => Promise<T>): Promise<T>;

  abstract onChange(listener: (event: ChangeEvent) => void): Promise<() => Promise<void>>;

  abstract close(): Promise<void>;

  user(): StoreUser {
    return this.localUser;
  }

  rpc<F extends RpcName>(fn: F, ...rest: RpcRest<F>): Promise<RpcResult<F>> {
    return this.rpcAs(userClaims(this.localUser), fn, ...rest);
  }

  /** Calls the SQL API with arbitrary claims (another user, aal2, anon): for tests of multi-user behaviour. */
  rpcAs<F extends RpcName>(claims: JwtClaims, fn: F, ...[args, opts]: RpcRest<F>): Promise<RpcResult<F>> {
    this.callsInFlight++;
    return this.schedule(async () => {
      opts?.signal?.throwIfAborted();
      try {
        return await runAsUser(this.sql, claims, (tx) => callFunction<RpcResult<F>>(tx, this.catalog, fn, args ?? {}));
      } catch (err) {
        throw toStoreError(err);
      }
    }).finally(() => {
      if (--this.callsInFlight > 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    });
  }

  whenIdle(): Promise<void> {
    if (this.callsInFlight === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs `fn` as the connection's own role (seeding, maintenance). Never exposed over RPC. */
  asOwner<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.schedule(() => this.sql.transaction(fn));
  }

  schemaStatus(): Promise<SchemaStatus> {
    return this.schedule(() => readSchemaStatus(this.sql, this.migrationsDir));
  }

  stats(): Promise<{ tables: Record<string, number>; bytes: number | null }> {
    return this.schedule(() => readStats(this.sql));
  }

  /** A NOTIFY payload handler that passes on the events the local user may see. */
  protected visibleChanges(listener: (event: ChangeEvent) => void): (payload: string) => void {
    const claims = userClaims(this.localUser);
    return (payload) => {
      const ev = parseChange(payload);
      if (!ev) return;
      this.schedule(() => runAsUser(this.sql, claims, (tx) => changeVisible(tx, ev)))
        .then((visible) => visible && listener(ev))
        .catch(() => undefined);
    };
  }
}
