/**
 * Team-mode test harness: a Supabase "project" (the three test servers on one migrated PGlite), people who
 * sign up and sign in through the real `@supabase/supabase-js` as the extension does, and SupabaseStores
 * acting with their tokens as the daemon does. The live suite points the same helpers at a real project.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import * as OTPAuth from 'otpauth';
import WebSocket from 'ws';
import { freshDb, type TestDb } from '../support/db.js';
import { startSupabaseTestServers, type SupabaseTestServers } from '../support/supabase/index.js';
import { SupabaseStore, type SupabaseSession, type SupabaseStoreOptions } from '../../daemon/src/store/supabase.js';
import { findMigrationsDir, listMigrations } from '../../daemon/src/store/migrate.js';
import type { ChangeEvent } from '../../daemon/src/store/types.js';

export const realtimeTransport = WebSocket as unknown as typeof globalThis.WebSocket;

export interface Project {
  url: string;
  anonKey: string;
  /** The project administrator's key, for confirming test users as a real project's admin would (tests only). */
  serviceRoleKey?: string;
  /** Present for the local test project only. */
  servers?: SupabaseTestServers;
  tdb?: TestDb;
  close(): Promise<void>;
}

export async function startProject(opts: Omit<Parameters<typeof startSupabaseTestServers>[0], 'db'> = {}): Promise<Project> {
  // A Supabase project has the storage schema (the kb-documents bucket and its policies come with it).
  const tdb = await freshDb(undefined, { storage: true });
  const servers = await startSupabaseTestServers({ db: tdb.db, ...opts });
  return {
    url: servers.url,
    anonKey: servers.anonKey,
    serviceRoleKey: servers.serviceRoleKey,
    servers,
    tdb,
    async close() {
      await servers.close();
      await tdb.close();
    },
  };
}

/** A Supabase client configured as the extension configures it for sign-in. */
export function signInClient(project: { url: string; anonKey: string }): SupabaseClient {
  return createClient(project.url, project.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, flowType: 'pkce' },
    realtime: { transport: realtimeTransport },
  });
}

export interface Person {
  id: string;
  email: string;
  password: string;
  /** The extension's auth client (holds the session, refreshes it). */
  auth: SupabaseClient;
  session(): SupabaseSession;
  /** How many times the daemon asked this person's client for a fresh token. */
  refreshRounds: number;
  totpSecret: string | null;
}

function sessionOf(s: { access_token: string; refresh_token: string } | null | undefined): SupabaseSession {
  if (!s) throw new Error('no session');
  return { accessToken: s.access_token, refreshToken: s.refresh_token };
}

/**
 * Signs a new person up, confirms their email as the project's administrator would (email confirmations are
 * on, as in supabase/config.toml: sign-up alone gives no session), and signs them in.
 */
export async function signUp(project: Project, name: string, password = `pw-${name}-12345`): Promise<Person> {
  const email = `${name}-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const { data, error } = await signInClient(project).auth.signUp({ email, password });
  if (error) throw error;
  if (!data.session) await confirmEmail(project, data.user!.id);
  return signIn(project, email, password);
}

/** The project administrator's client (the service-role key: tests only, never the daemon). */
export function adminClient(project: Project): SupabaseClient {
  if (!project.serviceRoleKey) throw new Error("this needs the project's service-role key");
  return createClient(project.url, project.serviceRoleKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: realtimeTransport } });
}

/** Confirms a user's email through the Auth admin API (the service-role key: tests only, never the daemon). */
export async function confirmEmail(project: Project, userId: string): Promise<void> {
  const { error } = await adminClient(project).auth.admin.updateUserById(userId, { email_confirm: true });
  if (error) throw error;
}

/** A signed-up person from existing credentials (the live suite's test users). */
export async function signIn(project: { url: string; anonKey: string }, email: string, password: string): Promise<Person> {
  const auth = signInClient(project);
  const { data, error } = await auth.auth.signInWithPassword({ email, password });
  if (error) throw error;
  let current = sessionOf(data.session);
  auth.auth.onAuthStateChange((_event, s) => {
    if (s) current = sessionOf(s);
  });
  return { id: data.user.id, email, password, auth, session: () => current, refreshRounds: 0, totpSecret: null };
}

export function totpCode(secret: string): string {
  return new OTPAuth.TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secret) }).generate();
}

/** Enrols a TOTP factor (once) and verifies it, leaving the person's session at aal2. */
export async function reachAal2(person: Person): Promise<void> {
  let factorId: string;
  if (!person.totpSecret) {
    const { data, error } = await person.auth.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'laptop' });
    if (error) throw error;
    person.totpSecret = data.totp.secret;
    factorId = data.id;
  } else {
    const { data, error } = await person.auth.auth.mfa.listFactors();
    if (error) throw error;
    factorId = data.totp[0]!.id;
  }
  const { error } = await person.auth.auth.mfa.challengeAndVerify({ factorId, code: totpCode(person.totpSecret) });
  if (error) throw error;
}

export function shippedMigrations(): string[] {
  return listMigrations(findMigrationsDir()).map((m) => m.version);
}

/** The daemon's store for a person: their token, and a refresh round that asks their client. */
export async function storeFor(project: { url: string; anonKey: string }, person: Person, extra: Partial<SupabaseStoreOptions> = {}): Promise<SupabaseStore> {
  return SupabaseStore.connect(
    {
      url: project.url,
      anonKey: project.anonKey,
      shippedMigrations: shippedMigrations(),
      realtime: { heartbeatIntervalMs: 1000, timeout: 3000 },
      async onTokenExpired() {
        person.refreshRounds++;
        const { data, error } = await person.auth.auth.refreshSession();
        if (error || !data.session) return null;
        return { accessToken: data.session.access_token, refreshToken: data.session.refresh_token };
      },
      ...extra,
    },
    person.session(),
  );
}

/** Records a store's change events and waits for the one a test expects. */
export class ChangeLog {
  readonly events: ChangeEvent[] = [];
  private waiters: { match: (e: ChangeEvent) => boolean; resolve: (e: ChangeEvent) => void }[] = [];

  push = (e: ChangeEvent): void => {
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.match(e)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(e);
      }
    }
  };

  /** Resolves with the first matching event at index `from` or later (earlier ones are history). */
  waitFor(match: (e: ChangeEvent) => boolean, ms = 3000, what = 'change event', from = 0): Promise<ChangeEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.resolve !== done);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; saw ${JSON.stringify(this.events)}`));
      }, ms);
      const done = (e: ChangeEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ match, resolve: done });
    });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
