/**
 * `core` namespace of the Cairn protocol: the connection lifecycle (`initialize`, `shutdown`), the daemon's
 * own methods (`daemon/*`: configuration, status, metrics, subscriptions, backup) and the two `$/`
 * notifications shared by every method (progress and cancellation). See define.ts for the declaration shape.
 */
import { z } from 'zod';
import { request, notification } from './define.js';

export const storeModeSchema = z.enum(['embedded', 'postgres', 'supabase']);

export const userSchema = z
  .object({ id: z.string(), email: z.string().nullable() })
  .describe('The acting user; in the embedded store, the one local user.');

/** Settings a client hands to the daemon; each field is optional and replaces only itself. */
export const settingsSchema = z
  .object({
    chat: z
      .object({
        baseUrl: z.string().url().nullable().optional().describe('OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1.'),
        model: z.string().min(1).nullable().optional(),
      })
      .optional(),
    embeddings: z
      .object({
        provider: z
          .enum(['local-hash', 'openai', 'model2vec'])
          .optional()
          .describe('`local-hash` (offline default), `openai` (any OpenAI-compatible endpoint) or `model2vec` (a Model2Vec model folder on disk, offline).'),
        model: z.string().min(1).nullable().optional().describe('The model name for `openai`; the absolute path of the model folder for `model2vec`.'),
        baseUrl: z.string().url().nullable().optional(),
        dimensions: z.number().int().positive().max(16000).nullable().optional(),
      })
      .optional(),
    excludes: z.array(z.string()).max(1000).optional().describe('Extra exclude globs for indexing (gitignore syntax).'),
    maxFileBytes: z.number().int().positive().optional().describe('Files larger than this are not indexed.'),
    secretsAllow: z
      .array(z.string().min(1).max(1000))
      .max(1000)
      .optional()
      .describe(
        'Workspace-relative globs (gitignore syntax) of files the secret rules leave alone (false positives): such a file is ' +
          'neither hidden as a secret file nor redacted. Never lifts an ignore rule.',
      ),
  })
  .describe('Runtime settings, kept in memory by the daemon.');

/** Provider keys; held in memory only, never written to disk or logged. */
export const secretsSchema = z
  .object({
    chatApiKey: z.string().min(1).nullable().optional(),
    embeddingsApiKey: z.string().min(1).nullable().optional(),
  })
  .describe('Provider API keys; kept in memory only, never logged or stored.');

/** The effective configuration as the daemon reports it: keys are only said to be present or not. */
export const effectiveConfigSchema = z.object({
  chat: z.object({ baseUrl: z.string().nullable(), model: z.string().nullable(), hasApiKey: z.boolean() }),
  embeddings: z.object({
    provider: z.enum(['local-hash', 'openai', 'model2vec']),
    model: z.string().nullable().describe('The model name (openai) or the model folder (model2vec).'),
    baseUrl: z.string().nullable(),
    dimensions: z.number().nullable(),
    hasApiKey: z.boolean(),
  }),
  excludes: z.array(z.string()),
  maxFileBytes: z.number(),
  secretsAllow: z.array(z.string()),
});

/** The token a client puts in a request's params to receive `$/progress` for it; every method takes the same. */
export const progressTokenSchema = z
  .union([z.string().max(256), z.number().int()])
  .describe('Any string (up to 256 characters) or integer the client chooses; `$/progress` notifications carry it back.');

/** One step of a long request's progress (`$/progress` `value`), as LSP's work-done progress. */
export const progressValueSchema = z.object({
  kind: z.enum(['begin', 'report', 'end']),
  title: z.string().optional(),
  message: z.string().optional(),
  percentage: z.number().min(0).max(100).optional().describe('0..100 when known.'),
  data: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Structured counters, method-specific (e.g. files seen, indexed, skipped, chunks, rate, etaSeconds).'),
});
export type ProgressValue = z.output<typeof progressValueSchema>;

const methodMetricsSchema = z.object({
  count: z.number().int(),
  errors: z.number().int(),
  p50Ms: z.number(),
  p95Ms: z.number(),
});

const exampleUser = { id: '8a6e0804-2bd0-4672-b79d-d97027f9071a', email: null };

export const coreRequests = {
  initialize: request('initialize', {
    summary:
      'First request on every connection: identifies the client, optionally hands over settings and keys, and returns what the daemon is and can do.',
    params: z.object({
      clientName: z.string().min(1).max(200),
      clientVersion: z.string().max(100).optional(),
      settings: settingsSchema.optional(),
      secrets: secretsSchema.optional(),
    }),
    result: z.object({
      version: z.string().describe('Daemon (package) version.'),
      protocolVersion: z.number().int(),
      schemaVersion: z.string().nullable().describe('Newest migration applied to the database.'),
      store: storeModeSchema,
      user: userSchema.nullable(),
      capabilities: z.object({
        methods: z.array(z.string()).describe('Requests this daemon answers.'),
        notifications: z.array(z.string()),
      }),
    }),
    errors: ['SchemaBehind'],
    example: {
      params: { clientName: 'cairn-vscode', clientVersion: '0.1.0', settings: { chat: { model: 'gpt-4o-mini' } } },
      result: {
        version: '0.1.0',
        protocolVersion: 1,
        schemaVersion: '20261122000100',
        store: 'embedded',
        user: exampleUser,
        capabilities: { methods: ['initialize', 'shutdown', 'daemon/status'], notifications: ['$/progress'] },
      },
    },
  }),

  shutdown: request('shutdown', {
    summary:
      'Stops the daemon: it answers, stops accepting connections, lets in-flight writes finish, closes the database and exits.',
    params: z.object({}),
    result: z.object({ ok: z.literal(true) }),
    errors: [],
    example: { params: {}, result: { ok: true } },
  }),

  'daemon/configure': request('daemon/configure', {
    summary: 'Updates settings and provider keys in memory (for example after the user edits settings).',
    params: z.object({ settings: settingsSchema.optional(), secrets: secretsSchema.optional() }),
    result: effectiveConfigSchema,
    errors: [],
    example: {
      params: { settings: { chat: { baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.2' } }, secrets: { chatApiKey: 'sk-…' } },
      result: {
        chat: { baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.2', hasApiKey: true },
        embeddings: { provider: 'local-hash', model: null, baseUrl: null, dimensions: null, hasApiKey: false },
        excludes: [],
        maxFileBytes: 1048576,
        secretsAllow: [],
      },
    },
  }),

  'daemon/status': request('daemon/status', {
    summary: 'What `cairn status` shows: versions, store, process and the acting user.',
    params: z.object({}),
    result: z.object({
      version: z.string(),
      protocolVersion: z.number().int(),
      schemaVersion: z.string().nullable(),
      pendingMigrations: z.array(z.string()),
      store: storeModeSchema,
      pid: z.number().int(),
      port: z.number().int().nullable(),
      user: userSchema.nullable(),
      home: z.string(),
      uptimeSeconds: z.number(),
      connections: z.number().int(),
    }),
    errors: [],
    example: {
      params: {},
      result: {
        version: '0.1.0',
        protocolVersion: 1,
        schemaVersion: '20261122000100',
        pendingMigrations: [],
        store: 'embedded',
        pid: 4242,
        port: 40123,
        user: exampleUser,
        home: '/home/ada/.cairn',
        uptimeSeconds: 12.5,
        connections: 1,
      },
    },
  }),

  'daemon/metrics': request('daemon/metrics', {
    summary:
      'Operator metrics: connections, per-method request counts, errors and latencies, memory and index size; `format: "prometheus"` returns the text exposition format instead.',
    params: z.object({ format: z.enum(['json', 'prometheus']).default('json') }),
    result: z.discriminatedUnion('format', [
      z.object({
        format: z.literal('json'),
        connections: z.number().int(),
        uptimeSeconds: z.number(),
        rssBytes: z.number().int(),
        heapUsedBytes: z.number().int(),
        memory: z
          .object({
            heapTotalBytes: z.number().int().describe('V8 heap reserved for JavaScript objects.'),
            externalBytes: z.number().int().describe('Memory V8 tracks outside its heap: buffers and WebAssembly memories.'),
            arrayBuffersBytes: z.number().int().describe('Of which ArrayBuffers and Node Buffers.'),
            wasmHeapBytes: z
              .number()
              .int()
              .nullable()
              .describe('The embedded database engine’s WebAssembly heap (PGlite: Postgres’s shared buffers, caches and work memory); null without one.'),
          })
          .optional()
          .describe('Where the resident memory goes; what is in none of these is native (code, V8 and Node themselves).'),
        indexChunks: z.number().int().nullable().describe('Rows in kb_chunks visible to the acting user.'),
        databaseBytes: z.number().int().nullable(),
        requests: z.record(z.string(), methodMetricsSchema).describe('Per method; latencies over the last 1024 calls.'),
      }),
      z.object({ format: z.literal('prometheus'), text: z.string() }),
    ]),
    errors: [],
    example: {
      params: { format: 'json' },
      result: {
        format: 'json',
        connections: 2,
        uptimeSeconds: 300.2,
        rssBytes: 412000000,
        heapUsedBytes: 52000000,
        memory: { heapTotalBytes: 61000000, externalBytes: 190000000, arrayBuffersBytes: 3000000, wasmHeapBytes: 180000000 },
        indexChunks: 1834,
        databaseBytes: 48000000,
        requests: { 'kb/search': { count: 12, errors: 0, p50Ms: 18.2, p95Ms: 40.1 } },
      },
    },
  }),

  'daemon/subscribe': request('daemon/subscribe', {
    summary:
      'Subscribes this connection to notification topics: `sessions` (the session list changed), `kb` (index status), `auth` (who the daemon acts as). Notifications of a topic go only to its subscribers. A session\'s own topic is not taken here: `sessions/subscribe` checks that the user may see the session.',
    params: z.object({
      topics: z
        .array(
          z
            .string()
            .min(1)
            .max(200)
            .refine((t) => !t.startsWith('session:'), { message: "a session's chat: use sessions/subscribe, which checks that you may see it" }),
        )
        .min(1)
        .max(256),
    }),
    result: z.object({ topics: z.array(z.string()).describe('Every topic this connection is now subscribed to.') }),
    errors: ['TooLarge'],
    example: { params: { topics: ['sessions', 'kb'] }, result: { topics: ['kb', 'sessions'] } },
  }),

  'daemon/unsubscribe': request('daemon/unsubscribe', {
    summary: 'Removes topics from this connection’s subscriptions.',
    params: z.object({ topics: z.array(z.string().min(1).max(200)).min(1).max(256) }),
    result: z.object({ topics: z.array(z.string()) }),
    errors: [],
    example: { params: { topics: ['sessions'] }, result: { topics: [] } },
  }),

  'daemon/ping': request('daemon/ping', {
    summary:
      'Answers after an optional delay, reporting `$/progress` every 100 ms when given a `progressToken`; cancellable. For client authors to check latency, progress and cancellation handling.',
    params: z.object({
      delayMs: z.number().int().min(0).max(60_000).default(0),
      progressToken: progressTokenSchema.optional(),
    }),
    result: z.object({ pong: z.literal(true), pid: z.number().int() }),
    errors: ['Cancelled'],
    progress: true,
    example: { params: { delayMs: 0 }, result: { pong: true, pid: 4242 } },
  }),

  'daemon/backup': request('daemon/backup', {
    summary:
      'Writes a consistent snapshot of the embedded database to a file (a gzipped tar of the data directory) while the daemon keeps running.',
    params: z.object({ file: z.string().min(1).describe('Absolute path of the snapshot file to write.') }),
    result: z.object({ file: z.string(), bytes: z.number().int() }),
    errors: ['NotImplementedInStore', 'InvalidInput'],
    example: { params: { file: '/home/ada/cairn-2026-11-22.tar.gz' }, result: { file: '/home/ada/cairn-2026-11-22.tar.gz', bytes: 5210342 } },
  }),
} as const;

export const coreNotifications = {
  '$/progress': notification('$/progress', {
    summary: 'Progress of a long request, tied to the `progressToken` the client put in that request’s params.',
    direction: 'daemon->client',
    params: z.object({
      token: progressTokenSchema,
      value: progressValueSchema,
    }),
    example: { token: 'index-1', value: { kind: 'report', message: 'src/main.ts', percentage: 42, data: { files: 420, chunks: 3100 } } },
  }),

  '$/cancelRequest': notification('$/cancelRequest', {
    summary:
      'Cancels a request of this connection. Its handler is signalled; the request then answers error `Cancelled` (-31905), or its result when the work had already finished.',
    direction: 'client->daemon',
    params: z.object({ id: z.union([z.string(), z.number()]) }),
    example: { id: 7 },
  }),
} as const;
