/**
 * OAuth sign-ins in flight. supabase-js keeps one PKCE verifier per storage, so a second attempt would
 * overwrite the first's: each attempt therefore has its own client (with private in-memory storage) and an
 * unguessable `attempt` id in its redirect URL. The callback must name a live attempt, or it is rejected as
 * stale or foreign; once one attempt finishes, every other one is stale. No `vscode` here.
 */
import { randomBytes } from 'node:crypto';
import { SignInError } from './sign-in-checks.js';

/** How long a sign-in link stays good. */
export const ATTEMPT_TTL_MS = 10 * 60_000;

export interface Attempt<Client, Settings, Session> {
  client: Client;
  settings: Settings;
  createdAt: number;
  resolve(session: Session): void;
  reject(err: Error): void;
}

/** What a callback's query comes to. */
export type Claim<Client, Settings, Session> =
  /** It names no live attempt (stale, or not started in this window). */
  | { kind: 'unknown' }
  /** Its attempt failed (expired, refused by the provider, no code): the attempt's promise is rejected. */
  | { kind: 'failed' }
  /** Its attempt, taken out of the list, and the authorization code to exchange. */
  | { kind: 'code'; attempt: Attempt<Client, Settings, Session>; code: string };

export class SignInAttempts<Client, Settings, Session> {
  private readonly live = new Map<string, Attempt<Client, Settings, Session>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** An unguessable id for a new attempt's redirect URL. */
  static newId(): string {
    return randomBytes(16).toString('base64url');
  }

  /** Starts attempt `id` (once its redirect URL is made): what it comes to. Timed-out attempts go first. */
  start(id: string, client: Client, settings: Settings): Promise<Session> {
    this.expire();
    return new Promise<Session>((resolve, reject) => {
      this.live.set(id, { client, settings, createdAt: this.now(), resolve, reject });
    });
  }

  /** The user gave up on an attempt: its callback, if one still comes, is stale. */
  cancel(id: string): void {
    this.live.delete(id);
  }

  /** Reads a callback's query (`attempt=…&code=…`, or `error=…`). */
  claim(query: string): Claim<Client, Settings, Session> {
    const q = new URLSearchParams(query);
    const id = q.get('attempt') ?? '';
    const attempt = this.live.get(id);
    if (!attempt) return { kind: 'unknown' };
    this.live.delete(id);
    const failed = (message: string): Claim<Client, Settings, Session> => {
      attempt.reject(new SignInError(message));
      return { kind: 'failed' };
    };
    if (this.now() - attempt.createdAt > ATTEMPT_TTL_MS) return failed('this sign-in link expired. Run "Cairn: Sign In" again.');
    const error = q.get('error_description') ?? q.get('error');
    if (error) return failed(`sign-in was cancelled or refused by the provider: ${error}`);
    const code = q.get('code');
    if (!code) return failed('the sign-in link carries no authorization code.');
    return { kind: 'code', attempt, code };
  }

  /** One attempt finished: every other one is stale, and a late callback for it must not replace the session. */
  supersede(): void {
    for (const other of this.live.values()) other.reject(new SignInError('another sign-in finished first; this one was discarded.'));
    this.live.clear();
  }

  private expire(): void {
    for (const [id, a] of this.live) {
      if (this.now() - a.createdAt > ATTEMPT_TTL_MS) {
        a.reject(new SignInError('sign-in timed out.'));
        this.live.delete(id);
      }
    }
  }
}
