/** `kb` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request, notification } from './define.js';
import { progressTokenSchema } from './core.js';

export const kbKind = z.enum(['file', 'document', 'url', 'faq']);

const root = z.string().min(1).describe('Absolute path of the workspace folder (the project is derived from it).');
const progressToken = progressTokenSchema.optional();

export const kbHit = z.object({
  path: z.string().describe('Workspace-relative POSIX path for files; the document name, URL or `faq:<id>` for other kinds.'),
  startLine: z.number().int(),
  endLine: z.number().int(),
  score: z.number().describe("BM25 relative to the best hit plus the vector similarity above the embedder's floor (an exact identifier definition adds 1); higher is better, comparable within one answer only."),
  snippet: z.string(),
  kind: kbKind,
  title: z.string().nullable(),
  language: z.string().nullable(),
  sourceId: z.string(),
  chunkId: z.string(),
  scope: z
    .string()
    .nullable()
    .describe('The definitions the passage sits in, outermost first (`class SessionStore > method refresh`; Markdown headings for docs); null when none.'),
  symbols: z.array(z.string()).describe('Qualified names of the definitions the passage holds or sits in (at most 24), e.g. `SessionStore.refresh`.'),
});
export type KbHit = z.output<typeof kbHit>;

export const kbSkipCounts = z.object({
  binary: z.number().int(),
  tooLarge: z.number().int(),
  ignored: z.number().int(),
  unreadable: z.number().int(),
  outsideWorkspace: z.number().int(),
  symlinkLoop: z.number().int(),
  invalidUtf8: z.number().int().describe('Files indexed whose bytes were not valid UTF-8 (decoded with U+FFFD); counted, not skipped.'),
  embedFailed: z.number().int().describe('Files whose embeddings failed (provider error, wrong dimension); retried on the next run.'),
  writeFailed: z.number().int().describe('Files the database refused to write (reported in `errors`); retried on the next run.'),
  secretFile: z.number().int().describe('Secret files (`.env*`, `*.pem`, `id_rsa`, …) left out by the path policy; allow a false positive with `cairn.secrets.allow`.'),
});

export const kbIndexSummary = z.object({
  root: z.string(),
  projectId: z.string(),
  model: z.string(),
  files: z.number().int().describe('Files the crawler accepted.'),
  indexed: z.number().int().describe('Files (re)written this run.'),
  unchanged: z.number().int(),
  deleted: z.number().int(),
  skipped: kbSkipCounts,
  chunks: z.number().int().describe('Chunks written this run.'),
  embedded: z.number().int().describe('Chunks embedded by the provider this run.'),
  reused: z.number().int().describe('Chunks whose stored embedding was reused (same text hash).'),
  seconds: z.number(),
  complete: z.boolean().describe('False when the run was cancelled or some files failed; the next run continues where this one stopped.'),
  activeModel: z.string().describe('The model search uses now (the previous one until this model covers every file).'),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).describe('At most 20, for the user to read.'),
  skippedFiles: z
    .array(
      z.object({
        path: z.string().describe('Workspace-relative POSIX path of the file (or folder) left out.'),
        reason: z
          .enum(['binary', 'tooLarge', 'unreadable', 'outsideWorkspace', 'symlinkLoop', 'embedFailed', 'writeFailed', 'secretFile'])
          .describe('Why, as counted in `skipped`: binary content, over the size limit, unreadable, a symlink leaving the workspace, a symlink loop, embedding failed, the database refused the write (these two are retried on the next run), or a secret file (`.env*`, `*.pem`, …; allow a false positive with `cairn.secrets.allow`).'),
      }),
    )
    .describe('The files counted in `skipped`, by name, at most 200 (ignored files are left out on purpose and not listed).'),
  redactions: z
    .number()
    .int()
    .describe('Secrets replaced by `[redacted: <rule>]` in the chunks written this run (keys, tokens, private keys, passwords, JWTs); the rest of each file stays searchable.'),
  redactedFiles: z
    .array(
      z.object({
        path: z.string().describe('Workspace-relative POSIX path of a file written this run with at least one secret redacted.'),
        redactions: z.number().int().describe('How many secrets were redacted in it.'),
        rules: z.array(z.string()).describe('The rules that matched (`aws`, `github`, `privatekey`, `jwt`, `assigned-secret`, ...), never the values.'),
        line: z.number().int().describe('1-based line of the first redaction, to open the location.'),
      }),
    )
    .describe('The files counted in `redactions`, by path, at most 200. `cairn secrets scan` lists every location.'),
});
export type KbIndexSummary = z.output<typeof kbIndexSummary>;

const addResult = z.object({
  sourceId: z.string(),
  uri: z.string(),
  kind: kbKind,
  title: z.string().nullable(),
  chunks: z.number().int(),
  model: z.string(),
  redactions: z.number().int().describe('Secrets replaced by `[redacted: <rule>]` before the text was embedded and stored.'),
  storagePath: z
    .string()
    .optional()
    .describe(
      'In a team project: where the file is kept in Supabase Storage, `kb-documents/<team_id>/<project_id>/<file>` (every member may download it with `kb/openDocument`). Absent when the document lives only in the index (embedded mode, inline text, URLs, FAQ entries).',
    ),
});

const documentFormat = z.enum(['markdown', 'text', 'html', 'pdf']);

const exampleHit: KbHit = {
  path: 'src/auth/session.ts',
  startLine: 12,
  endLine: 40,
  score: 0.0325,
  snippet: 'export async function refreshSession(token: string) {',
  kind: 'file',
  title: 'session.ts',
  language: 'typescript',
  sourceId: '6f1c0b1e-3f7a-4d8e-9a51-2b8f0c6d7e11',
  chunkId: '0b7d2a4c-91e3-4f55-8c2a-7d4e1f9a3b20',
  scope: 'function refreshSession',
  symbols: ['refreshSession'],
};

export const kbRequests = {
  'kb/index': request('kb/index', {
    summary:
      'Indexes a workspace folder incrementally (unchanged files cost nothing; each file commits atomically), reports `$/progress` and is cancellable (committed files stay). Starts watching the folder for changes unless `watch` is false.',
    params: z.object({
      root,
      progressToken,
      force: z.boolean().default(false).describe('Re-read and re-hash every file even when size and mtime are unchanged.'),
      watch: z.boolean().default(true),
    }),
    result: kbIndexSummary,
    errors: ['InvalidInput', 'NotFound', 'Cancelled', 'ProviderError', 'ModelNotConfigured', 'Busy'],
    progress: true,
    example: {
      params: { root: '/home/ana/acme-api', progressToken: 'idx-1' },
      result: {
        root: '/home/ana/acme-api',
        projectId: '2d9f7c1a-5b3e-4c8d-a1f0-9e6b4d2c8a73',
        model: 'cairn-local-hash-v1-384',
        files: 1284,
        indexed: 3,
        unchanged: 1280,
        deleted: 1,
        skipped: { binary: 12, tooLarge: 2, ignored: 5310, unreadable: 0, outsideWorkspace: 1, symlinkLoop: 0, invalidUtf8: 1, embedFailed: 0, writeFailed: 0, secretFile: 1 },
        chunks: 17,
        embedded: 4,
        reused: 13,
        seconds: 0.41,
        complete: true,
        activeModel: 'cairn-local-hash-v1-384',
        errors: [],
        skippedFiles: [
          { path: 'assets/logo.png', reason: 'binary' },
          { path: 'data/dump.sql', reason: 'tooLarge' },
        ],
        redactions: 1,
        redactedFiles: [{ path: 'deploy/ci.yml', redactions: 1, rules: ['github'], line: 14 }],
      },
    },
  }),
  'kb/status': request('kb/status', {
    summary: 'What is indexed for a folder, with which models, which model search uses, and how many files are stale.',
    params: z.object({ root, stale: z.boolean().default(true).describe('Crawl the folder to count stale files.') }),
    result: z.object({
      projectId: z.string(),
      configuredModel: z.string(),
      activeModel: z.string().nullable(),
      models: z.array(
        z.object({
          model: z.string(),
          dims: z.number().int(),
          sources: z.number().int(),
          chunks: z.number().int(),
          byKind: z.record(z.string(), z.object({ sources: z.number().int(), chunks: z.number().int() })),
          lastIndexedAt: z.string().nullable(),
        }),
      ),
      stale: z.object({ added: z.number().int(), changed: z.number().int(), deleted: z.number().int() }).nullable().describe("Files on disk that are new, changed or deleted since the configured model's last index; null when not counted."),
      indexing: z.boolean(),
      watching: z.boolean(),
    }),
    errors: ['InvalidInput'],
    example: {
      params: { root: '/home/ana/acme-api' },
      result: {
        projectId: '2d9f7c1a-5b3e-4c8d-a1f0-9e6b4d2c8a73',
        configuredModel: 'cairn-local-hash-v1-384',
        activeModel: 'cairn-local-hash-v1-384',
        models: [
          {
            model: 'cairn-local-hash-v1-384',
            dims: 384,
            sources: 1286,
            chunks: 9120,
            byKind: { file: { sources: 1284, chunks: 9101 }, faq: { sources: 2, chunks: 2 } },
            lastIndexedAt: '2026-11-22T01:12:09.000Z',
          },
        ],
        stale: { added: 1, changed: 2, deleted: 0 },
        indexing: false,
        watching: true,
      },
    },
  }),
  'kb/search': request('kb/search', {
    summary:
      'Hybrid search in one SQL call over the project knowledge base, with filters: BM25 over identifier-aware words (symbols and file names weigh more, an identifier typed exactly finds its definition first) plus vector similarity above a floor; a query whose words occur nowhere in the project returns nothing.',
    params: z.object({
      root,
      query: z.string().min(1).max(4000),
      limit: z.number().int().min(1).max(100).default(10),
      pathPrefix: z.string().optional(),
      glob: z.string().optional().describe('Glob over the path: `*` within a segment, `**` across segments, `?` one character.'),
      language: z.string().optional(),
      kind: kbKind.optional(),
    }),
    result: z.array(kbHit),
    errors: ['InvalidInput'],
    example: {
      params: { root: '/home/ana/acme-api', query: 'refresh session token', limit: 5, glob: 'src/**/*.ts' },
      result: [exampleHit],
    },
  }),
  'kb/addDocument': request('kb/addDocument', {
    summary:
      'Adds a document (Markdown, text, HTML or PDF) to the project knowledge base: from a file path, or inline text. The type is checked by content (a PDF by its signature, text must not be binary), not only by extension. In a team project (signed in to Supabase) a file is uploaded to the team\'s Storage bucket as the user (members and above may; a viewer gets PermissionDenied), at most 10 MiB, then indexed for every member; if indexing fails the upload is taken back. Elsewhere the document lives in the local index only (at most 25 MiB).',
    params: z
      .object({
        root,
        path: z.string().optional().describe('Absolute path of a .md, .txt, .html or .pdf file.'),
        text: z.string().max(10 * 1024 * 1024).optional().describe('Inline text instead of a file (kept in the index only, never uploaded).'),
        title: z.string().max(500).optional(),
        format: documentFormat.optional().describe('Overrides the format the file name suggests; the content must still match it.'),
      })
      .refine((p) => (p.path === undefined) !== (p.text === undefined), { message: 'give exactly one of path or text' }),
    result: addResult,
    errors: ['InvalidInput', 'NotFound', 'TooLarge', 'ProviderError', 'PermissionDenied', 'NotSignedIn'],
    example: {
      params: { root: '/home/ana/acme-api', path: '/home/ana/Documents/oncall-runbook.pdf' },
      result: {
        sourceId: '8a2e4f6b-1c3d-4e5f-9a7b-0c1d2e3f4a5b',
        uri: 'doc:oncall-runbook.pdf',
        kind: 'document',
        title: 'oncall-runbook.pdf',
        chunks: 14,
        model: 'cairn-local-hash-v1-384',
        redactions: 0,
      },
    },
  }),
  'kb/addUrl': request('kb/addUrl', {
    summary: 'Fetches a web page, reduces its HTML to text and adds it to the project knowledge base.',
    params: z.object({ root, url: z.url({ protocol: /^https?$/ }), title: z.string().max(500).optional() }),
    result: addResult,
    errors: ['InvalidInput', 'ProviderError', 'TooLarge'],
    example: {
      params: { root: '/home/ana/acme-api', url: 'https://supabase.com/docs/guides/auth' },
      result: {
        sourceId: '3b4c5d6e-7f80-4a1b-8c2d-3e4f5a6b7c8d',
        uri: 'https://supabase.com/docs/guides/auth',
        kind: 'url',
        title: 'Auth | Supabase Docs',
        chunks: 22,
        model: 'cairn-local-hash-v1-384',
        redactions: 0,
      },
    },
  }),
  'kb/addFaq': request('kb/addFaq', {
    summary: 'Adds a question and its answer to the project knowledge base (one source per question).',
    params: z.object({ root, question: z.string().min(1).max(2000), answer: z.string().min(1).max(100_000) }),
    result: addResult,
    errors: ['InvalidInput', 'ProviderError'],
    example: {
      params: { root: '/home/ana/acme-api', question: 'How do I rotate the staging database password?', answer: 'Run `make rotate-staging` and update the vault entry `db/staging`.' },
      result: {
        sourceId: '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f',
        uri: 'faq:how-do-i-rotate-the-staging-database-password',
        kind: 'faq',
        title: 'How do I rotate the staging database password?',
        chunks: 1,
        model: 'cairn-local-hash-v1-384',
        redactions: 0,
      },
    },
  }),
  'kb/remove': request('kb/remove', {
    summary:
      'Removes a source (document, URL, FAQ entry or file) from the knowledge base, for every model; a team document\'s file is removed from Supabase Storage too.',
    params: z.object({ root, uri: z.string().min(1), kind: kbKind }),
    result: z.object({
      removed: z.number().int().describe('Index rows (one per model) removed.'),
      storageRemoved: z.boolean().optional().describe("In a team project, for a document: whether its file was removed from the team's Storage bucket."),
    }),
    errors: ['InvalidInput', 'PermissionDenied'],
    example: { params: { root: '/home/ana/acme-api', uri: 'https://supabase.com/docs/guides/auth', kind: 'url' }, result: { removed: 1 } },
  }),
  'kb/openDocument': request('kb/openDocument', {
    summary:
      "Downloads a team document's file from Supabase Storage as the user, for a read-only view (a search hit of kind `document`). NotFound when the document has no stored file (embedded mode, inline text) or the user may not read it.",
    params: z.object({ root, uri: z.string().min(1).describe('The document\'s `uri` (a search hit\'s `path`), e.g. `doc:runbook.md`.') }),
    result: z.object({
      name: z.string().describe('File name.'),
      format: documentFormat,
      contentType: z.string().describe('MIME type it was stored with.'),
      size: z.number().int().describe('Bytes.'),
      storagePath: z.string().describe('`kb-documents/<team_id>/<project_id>/<file>`.'),
      text: z.string().optional().describe('The content, for Markdown, text and HTML.'),
      base64: z.string().optional().describe('The bytes, base64, for a PDF.'),
    }),
    errors: ['InvalidInput', 'NotFound', 'NotSignedIn'],
    example: {
      params: { root: '/home/ana/acme-api', uri: 'doc:oncall-runbook.md' },
      result: {
        name: 'oncall-runbook.md',
        format: 'markdown',
        contentType: 'text/markdown',
        size: 1843,
        storagePath: 'kb-documents/4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f/2d9f7c1a-5b3e-4c8d-a1f0-9e6b4d2c8a73/oncall-runbook.md',
        text: '# On-call runbook\n\nPage the secondary after 15 minutes.\n',
      },
    },
  }),
  'kb/watch': request('kb/watch', {
    summary: 'Starts or stops re-indexing a folder on file changes while the daemon runs (kb/index starts it by default).',
    params: z.object({ root, enabled: z.boolean() }),
    result: z.object({ watching: z.boolean() }),
    errors: ['InvalidInput'],
    example: { params: { root: '/home/ana/acme-api', enabled: false }, result: { watching: false } },
  }),
} as const;

export const kbNotifications = {
  'kb/changed': notification('kb/changed', {
    summary: 'The knowledge base of a project changed (an index run, the watcher, or an added/removed source). Published on topic `kb`.',
    direction: 'daemon->client',
    params: z.object({
      root: z.string().nullable(),
      projectId: z.string(),
      reason: z.enum(['index', 'watch', 'add', 'remove', 'model']),
      uris: z.array(z.string()).describe('Paths or URIs written or removed, at most 100.'),
      activeModel: z.string().nullable(),
    }),
    example: { root: '/home/ana/acme-api', projectId: '2d9f7c1a-5b3e-4c8d-a1f0-9e6b4d2c8a73', reason: 'watch', uris: ['src/auth/session.ts'], activeModel: 'cairn-local-hash-v1-384' },
  }),
} as const;
