/**
 * `auth` namespace of the Cairn protocol. For now only the status of the acting user; team-mode sign-in
 * methods join this namespace with the Supabase store. See define.ts for the declaration shape.
 */
import { z } from 'zod';
import { request } from './define.js';
import { storeModeSchema, userSchema } from './core.js';

export const authRequests = {
  'auth/status': request('auth/status', {
    summary: 'The store mode and the acting user (in the embedded store, the one local user; null when team mode has no user yet).',
    params: z.object({}),
    result: z.object({ store: storeModeSchema, signedIn: z.boolean(), user: userSchema.nullable() }),
    errors: [],
    example: {
      params: {},
      result: { store: 'embedded', signedIn: true, user: { id: '8a6e0804-2bd0-4672-b79d-d97027f9071a', email: null } },
    },
  }),
} as const;

export const authNotifications = {} as const;
