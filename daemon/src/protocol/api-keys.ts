/**
 * API keys of the signed-in user, for scripts and CI (the Edge Function cairn-api, docs/api-keys.md). Under
 * `auth/`: a key is a credential of the account. The server generates each key and keeps only its hash.
 */
import { z } from 'zod';
import { request } from './define.js';

export const ApiKey = z.object({
  id: z.guid(),
  name: z.string().describe('What the key is for, e.g. "CI docs job".'),
  prefix: z.string().describe('The first characters of the key (e.g. "cairn_ab12"), to recognise it.'),
  projectIds: z.array(z.guid()).nullable().describe('The projects the key may read; null: every project the user can read.'),
  expiresAt: z.string().nullable().describe('From this instant the key is refused; null: it does not expire.'),
  lastUsedAt: z.string().nullable().describe('The last request the key made.'),
  revokedAt: z.string().nullable().describe('When it was revoked; a revoked key is refused at once, for good.'),
  createdAt: z.string(),
  uses: z.number().int().describe('Requests the key has made (each is a row of api_usage).'),
});
export type ApiKey = z.infer<typeof ApiKey>;

const exampleKey: ApiKey = {
  id: '6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b',
  name: 'CI docs job',
  prefix: 'cairn_3f9a',
  projectIds: ['3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21'],
  expiresAt: '2027-03-07T00:00:00.000Z',
  lastUsedAt: null,
  revokedAt: null,
  createdAt: '2026-12-07T15:00:00.000Z',
  uses: 0,
};

export const apiKeysRequests = {
  'auth/createApiKey': request('auth/createApiKey', {
    summary:
      'Creates an API key for scripts and CI (cairn-api: search, shared sessions as Markdown), acting as the caller with ' +
      'what the caller may read, narrowed to the projects named. The key is in this answer once; only its hash is stored.',
    params: z.object({
      name: z.string().min(1).max(100).describe('What the key is for.'),
      projectIds: z
        .array(z.guid())
        .min(1)
        .max(100)
        .nullable()
        .default(null)
        .describe('Projects the key may read (ones the caller can read); null: every project the caller can read, now and later.'),
      expiresAt: z.iso.datetime({ offset: true }).nullable().default(null).describe('When the key stops working (in the future); null: never.'),
    }),
    result: ApiKey.extend({ key: z.string().describe('The key itself (`cairn_` and 64 hex digits): shown once, never again.') }),
    errors: ['NotSignedIn', 'InvalidInput', 'NotFound'],
    example: {
      params: { name: 'CI docs job', projectIds: ['3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21'], expiresAt: '2027-03-07T00:00:00.000Z' },
      result: { ...exampleKey, key: `cairn_3f9a${'0'.repeat(60)}` },
    },
  }),
  'auth/listApiKeys': request('auth/listApiKeys', {
    summary: "The caller's API keys, newest first, revoked and expired ones included (never the keys themselves).",
    params: z.object({}).default({}),
    result: z.array(ApiKey),
    errors: ['NotSignedIn'],
    example: { params: {}, result: [exampleKey] },
  }),
  'auth/revokeApiKey': request('auth/revokeApiKey', {
    summary: 'Revokes one of the caller\'s API keys: refused from the next request on, for good.',
    params: z.object({ keyId: z.guid().describe('The key, as auth/listApiKeys lists it.') }),
    result: z.object({ revoked: z.literal(true) }),
    errors: ['NotSignedIn', 'NotFound'],
    example: { params: { keyId: exampleKey.id }, result: { revoked: true } },
  }),
} as const;
