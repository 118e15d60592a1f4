/**
 * One Ctx owns the daemon connection, configuration and cleanup. Two disposal lists: the extension's lifetime
 * (commands, views, providers: registered once) and the connection's lifetime (per-connection listeners:
 * dropped and rebuilt on every reconnect), so reconnecting never leaks or loses registrations.
 */
import * as vscode from 'vscode';
import type { NotificationMethod, NotificationParamsOf, ResultOf } from '../../daemon/src/protocol/index.js';
import type { DaemonClient } from './client.js';
import { connectDaemon, whenClosed } from './connection.js';
import { daemonSecrets, daemonSettings } from './settings.js';
import { describeError, log } from './log.js';

export type ConnectionState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'ready'; info: ResultOf<'initialize'> }
  /** `transient`: the connection dropped and a reconnect is under way (a daemon restart), not a failure to start. */
  | { kind: 'down'; message: string; retryAt: number | null; transient: boolean };

type AnyListener = (params: never) => void;

const MAX_BACKOFF_MS = 15_000;

export class Ctx implements vscode.Disposable {
  private connectionDisposables: vscode.Disposable[] = [];
  private readonly notificationListeners = new Map<NotificationMethod, Set<AnyListener>>();
  private readonly topics = new Set<string>();
  /** Sessions whose chat notifications this window follows (`sessions/subscribe`). */
  private readonly sessions = new Set<string>();
  private readonly stateEmitter = new vscode.EventEmitter<ConnectionState>();
  private readonly connectEmitter = new vscode.EventEmitter<DaemonClient>();
  private wake: (() => void) | null = null;
  private disposed = false;
  private current: DaemonClient | null = null;
  private connState: ConnectionState = { kind: 'connecting', attempt: 0 };

  /** Fires on every connection state change (status bar, views). */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires after each successful (re)connect, once initialize has answered and topics are re-subscribed. */
  readonly onDidConnect = this.connectEmitter.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    extension.subscriptions.push(this.stateEmitter, this.connectEmitter, this);
  }

  get client(): DaemonClient | null {
    return this.current;
  }

  get state(): ConnectionState {
    return this.connState;
  }

  /** Extension-lifetime registration. */
  pushExtension(...d: vscode.Disposable[]): void {
    this.extension.subscriptions.push(...d);
  }

  /** Connection-lifetime registration: disposed when this connection ends. */
  pushConnection(...d: vscode.Disposable[]): void {
    this.connectionDisposables.push(...d);
  }

  /** The first workspace folder on disk, which the daemon maps to a project. */
  workspaceRoot(): string | null {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    return folder ? folder.uri.fsPath : null;
  }

  /** Listens to a daemon notification on every connection, present and future. */
  onNotification<N extends NotificationMethod>(method: N, listener: (params: NotificationParamsOf<N>) => void): vscode.Disposable {
    let set = this.notificationListeners.get(method);
    if (!set) {
      this.notificationListeners.set(method, (set = new Set()));
      if (this.current) this.attachNotification(this.current, method);
    }
    set.add(listener as AnyListener);
    return new vscode.Disposable(() => set.delete(listener as AnyListener));
  }

  /** Subscribes to a notification topic now and again after every reconnect. */
  async subscribe(topic: string): Promise<void> {
    this.topics.add(topic);
    if (this.current) await this.current.request('daemon/subscribe', { topics: [topic] }).catch((e) => log().warn(`subscribe ${topic}: ${describeError(e)}`));
  }

  async unsubscribe(topic: string): Promise<void> {
    if (!this.topics.delete(topic) || !this.current) return;
    await this.current.request('daemon/unsubscribe', { topics: [topic] }).catch(() => undefined);
  }

  /**
   * Follows a session's chat notifications now and again after every reconnect, through `sessions/subscribe`,
   * which checks that the user may see the session.
   */
  async subscribeSession(sessionId: string): Promise<void> {
    this.sessions.add(sessionId);
    if (this.current) await this.current.request('sessions/subscribe', { sessionId }).catch((e) => log().warn(`subscribe to session ${sessionId}: ${describeError(e)}`));
  }

  async unsubscribeSession(sessionId: string): Promise<void> {
    if (!this.sessions.delete(sessionId) || !this.current) return;
    await this.current.request('sessions/unsubscribe', { sessionId }).catch(() => undefined);
  }

  /** Waits for a ready connection (up to `timeoutMs`); null when the daemon stays unavailable. */
  async waitForClient(timeoutMs: number): Promise<DaemonClient | null> {
    if (this.current) return this.current;
    // A daemon that failed to start will not be fixed by waiting: the command explains at once instead.
    if (this.connState.kind === 'down' && !this.connState.transient) return null;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sub.dispose();
        resolve(this.current);
      }, timeoutMs);
      const sub = this.onDidChangeState((s) => {
        if (s.kind === 'ready' || (s.kind === 'down' && !s.transient)) {
          clearTimeout(timer);
          sub.dispose();
          resolve(this.current);
        }
      });
    });
  }

  /** Starts the connect loop: find or start the daemon, initialize, then reconnect with backoff when it drops. */
  start(): void {
    void this.loop();
  }

  /** Skips the current backoff wait (the "Reconnect" action). */
  reconnect(): void {
    if (this.current) void this.current.close();
    this.wake?.();
  }

  /** Hands fresh settings and keys to the daemon (after a settings or secret change). */
  async configure(): Promise<void> {
    if (!this.current) return;
    await this.current.request('daemon/configure', {
      settings: daemonSettings(),
      secrets: await daemonSecrets(this.extension.secrets),
    });
  }

  private setState(s: ConnectionState): void {
    this.connState = s;
    this.stateEmitter.fire(s);
  }

  private attachNotification(client: DaemonClient, method: NotificationMethod): void {
    const off = client.onNotification(method, (params) => {
      for (const l of this.notificationListeners.get(method) ?? []) {
        try {
          (l as (p: unknown) => void)(params);
        } catch (err) {
          log().error(`${method} listener: ${describeError(err)}`);
        }
      }
    });
    this.pushConnection(new vscode.Disposable(off));
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.disposed) {
      this.setState({ kind: 'connecting', attempt });
      const started = Date.now();
      // Read while the daemon is found or started, not after (the web host's secret storage is a round trip).
      const secrets = daemonSecrets(this.extension.secrets);
      secrets.catch(() => undefined);
      try {
        const client = await connectDaemon(this.extension);
        const info = await client.request('initialize', {
          clientName: 'cairn-vscode',
          clientVersion: String(this.extension.extension.packageJSON.version ?? '0.0.0'),
          settings: daemonSettings(),
          secrets: await secrets,
        });
        if (this.disposed) {
          await client.close();
          return;
        }
        this.current = client;
        for (const method of this.notificationListeners.keys()) this.attachNotification(client, method);
        if (this.topics.size > 0) await client.request('daemon/subscribe', { topics: [...this.topics] });
        for (const sessionId of this.sessions) {
          await client.request('sessions/subscribe', { sessionId }).catch((e) => log().warn(`subscribe to session ${sessionId}: ${describeError(e)}`));
        }
        attempt = 0;
        log().info(`connected to daemon ${info.version} (store ${info.store}) in ${Date.now() - started} ms`);
        this.setState({ kind: 'ready', info });
        this.connectEmitter.fire(client);
        log().warn(`daemon ${await whenClosed(client)}`);
      } catch (err) {
        log().error(`daemon connection failed: ${describeError(err)}`);
        this.current = null;
        this.dropConnection();
        const delay = Math.min(500 * 2 ** attempt, MAX_BACKOFF_MS);
        attempt++;
        this.setState({ kind: 'down', message: describeError(err), retryAt: Date.now() + delay, transient: false });
        await this.sleep(delay);
        continue;
      }
      this.current = null;
      this.dropConnection();
      if (this.disposed) return;
      // The daemon went away (restart, crash, shutdown): retry at once (a crashed daemon's successor is started
      // by that very attempt), then back off.
      this.setState({ kind: 'down', message: 'The Cairn daemon stopped; reconnecting…', retryAt: Date.now(), transient: true });
      if (attempt > 0) await this.sleep(Math.min(250 * 2 ** attempt, MAX_BACKOFF_MS));
      attempt++;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private dropConnection(): void {
    const list = this.connectionDisposables;
    this.connectionDisposables = [];
    for (const d of list) d.dispose();
  }

  dispose(): void {
    this.disposed = true;
    this.wake?.();
    const c = this.current;
    this.current = null;
    this.dropConnection();
    void c?.close();
  }
}
