/**
 * `auth` namespace of the Cairn protocol: who the daemon acts as, and the hand-over of a Supabase session
 * from the client that signed the user in (the extension) to the daemon, which then switches from its
 * local store to the team project. See define.ts for the declaration shape.
 */
import { z } from 'zod';
import { notification, request } from './define.js';
import { storeModeSchema, userSchema } from './core.js';

const exampleUser = { id: '8a6e0804-2bd0-4672-b79d-d97027f9071a', email: 'ana@example.com' };
const exampleToken =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4YTZlMDgwNC0yYmQwLTQ2NzItYjc5ZC1kOTcwMjdmOTA3MWEiLCJlbWFpbCI6ImFuYUBleGFtcGxlLmNvbSIsImFhbCI6ImFhbDEiLCJleHAiOjE3OTUzMTk5MjB9.c2lnbmF0dXJl';

/** How long the daemon waits for a fresh session after announcing `auth/tokenExpired`. */
export const TOKEN_REFRESH_DEADLINE_MS = 10_000;

export const authRequests = {
  'auth/status': request('auth/status', {
    summary: 'The store mode and the acting user (in the embedded store, the one local user; null when team mode has no user yet).',
    params: z.object({}),
    result: z.object({ store: storeModeSchema, signedIn: z.boolean(), user: userSchema.nullable() }),
    errors: [],
    example: {
      params: {},
      result: { store: 'embedded', signedIn: true, user: exampleUser },
    },
  }),
  'auth/setSession': request('auth/setSession', {
    summary:
      'Hands the Supabase session the client signed in with (and every refreshed token after it) to the daemon. The first ' +
      'call connects to the project, refusing one whose schema is behind, and switches the daemon to team mode; later calls ' +
      'for the same user and project only replace the token. It joins no team: invitations wait for the user (teams/myInvitations).',
    params: z.object({
      supabaseUrl: z
        .url()
        .optional()
        .describe('Project URL; defaults to the project already connected, then to CAIRN_SUPABASE_URL in the daemon environment.'),
      anonKey: z.string().min(1).optional().describe('The project anon (publishable) key, not a secret; same defaults as supabaseUrl.'),
      accessToken: z.string().min(1).describe('The user access token (a JWT).'),
      refreshToken: z.string().optional(),
      expiresAt: z.number().int().nullable().optional().describe('Expiry of the access token, in Unix seconds.'),
    }),
    result: z.object({
      store: z.literal('supabase'),
      user: userSchema,
      aal: z.enum(['aal1', 'aal2']).describe('Authenticator assurance level of the token; managing team members needs aal2.'),
    }),
    errors: ['NotSignedIn', 'SchemaBehind', 'InvalidInput', 'Busy', 'NotImplementedInStore'],
    example: {
      params: {
        supabaseUrl: 'https://abcdefghijklmnop.supabase.co',
        anonKey: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl',
        accessToken: exampleToken,
        refreshToken: 'v1.MzQ1Njc4OTAxMjM0',
        expiresAt: 1795319920,
      },
      result: { store: 'supabase', user: exampleUser, aal: 'aal1' },
    },
  }),
  'auth/signOut': request('auth/signOut', {
    summary: 'Forgets the Supabase session and switches the daemon back to its local store (embedded or Postgres URL).',
    params: z.object({}),
    result: z.object({ store: z.enum(['embedded', 'postgres']), user: userSchema.nullable() }),
    errors: [],
    example: { params: {}, result: { store: 'embedded', user: { id: '3f0c1a52-7d8e-4b9f-a1c2-d3e4f5a6b7c8', email: null } } },
  }),
  'auth/deleteAccount': request('auth/deleteAccount', {
    summary:
      'Deletes the signed-in user\'s own account in the team project (SQL `delete_my_account`), then signs out as `auth/signOut` ' +
      'does. Their private sessions, personal projects, agents, API keys and every team whose only member they are go with it; ' +
      'teams keep what they shared, shown as written by a deleted user. Refused, with nothing changed, when they are the last ' +
      'owner of a team with other members (InvalidInput, reason `lastOwner`) or have a verified second factor and this ' +
      'sign-in did not prove it (PermissionDenied, reason `secondFactor`). Team mode only: the embedded and Postgres-URL ' +
      'stores have one local user, who is not deleted (NotImplementedInStore).',
    params: z.object({
      email: z
        .string()
        .min(1)
        .describe("The signed-in user's email, typed by the user as confirmation; compared case-insensitively with the token's."),
    }),
    result: z.object({
      deleted: z.literal(true),
      store: z.enum(['embedded', 'postgres']).describe('The local store the daemon switched back to.'),
      user: userSchema.nullable(),
    }),
    errors: ['NotSignedIn', 'InvalidInput', 'PermissionDenied', 'NotImplementedInStore'],
    example: {
      params: { email: exampleUser.email },
      result: { deleted: true, store: 'embedded', user: { id: '3f0c1a52-7d8e-4b9f-a1c2-d3e4f5a6b7c8', email: null } },
    },
  }),
} as const;

export const authNotifications = {
  'auth/changed': notification('auth/changed', {
    summary:
      'The daemon now acts as someone else (topic `auth`): a client signed in to a team project, as another user, or ' +
      'signed out. The same shape as `auth/status`. Every window sharing the daemon re-reads its tree and what it shows ' +
      'about the user; a refreshed token for the same user is not a change.',
    direction: 'daemon->client',
    params: z.object({ store: storeModeSchema, signedIn: z.boolean(), user: userSchema.nullable() }),
    example: { store: 'supabase', signedIn: true, user: exampleUser },
  }),
  'auth/tokenExpired': notification('auth/tokenExpired', {
    summary:
      'The Supabase access token expired (topic `auth`): refresh the session and call `auth/setSession` within ' +
      '`respondWithinMs`; the calls waiting for it then resume, or fail with NotSignedIn after the deadline. Sent once ' +
      'per expired token, however many calls noticed it.',
    direction: 'daemon->client',
    params: z.object({ reason: z.string(), respondWithinMs: z.number().int() }),
    example: { reason: 'The access token expired at 2026-11-22T02:10:00.000Z', respondWithinMs: TOKEN_REFRESH_DEADLINE_MS },
  }),
} as const;
