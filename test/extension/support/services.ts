/**
 * Test services the editor suites talk to, all on 127.0.0.1 and started by run.ts: the OpenAI-compatible model
 * server (replies scripted by the user's words, so a suite can ask for a slow or a huge reply) and the Supabase
 * test servers (Auth, PostgREST, Realtime, Storage on one migrated PGlite) with the team model gateway (the
 * Edge Function under Deno, in front of the same model server). Handed over as workspace settings and
 * extension-host environment.
 */
import { startOpenAIServer, lastUserMessage, toolResults, type ChatRequestBody, type ScriptedReply } from '../../support/openai-server.js';
import { freshDb } from '../../support/db.js';
import { startSupabaseTestServers } from '../../support/supabase/index.js';
import { startEdgeFunction } from '../../support/deno.js';

export const MODEL_API_KEY = 'sk-cairn-editor-tests';
export const HUGE_REPLY_CHARS = 600_000;

/** What the fake model answers: keyed on words in the user's message, like a person would phrase them. */
export function scriptedReply(question: string, body?: ChatRequestBody): ScriptedReply {
  if (/\blook it up\b/i.test(question)) {
    // The agent searches the knowledge base first, then answers from what the tool returned.
    const results = body ? [...toolResults(body).values()] : [];
    if (results.length === 0) return { toolCalls: [{ id: 'call_kb_1', name: 'search_knowledge_base', arguments: { query: 'zebra rota release captain' } }] };
    const cited = /docs\/guide\.md/.test(results.join('\n')) ? 'docs/guide.md' : 'the knowledge base';
    return { content: [`The release captain is chosen by the zebra rota (see ${cited}).`] };
  }
  if (/\bslowly\b/i.test(question)) {
    const words = Array.from({ length: 120 }, (_, i) => `word${i} `);
    return { content: ['**Streaming slowly:** ', ...words, '\n\nThe end.'], chunkDelayMs: 150 };
  }
  if (/\blong paths\b/i.test(question)) {
    // What made the chat scroll sideways: long inline paths, URLs and identifiers, and cited locations.
    return {
      content: [
        'The setting is read in `packages/platform/configuration/src/browser/configurationServiceWithAVeryLongFileName.ts` ',
        'and documented at https://docs.example.com/reference/configuration/workspace-settings/very/long/path/without/breaks/index.html. ',
        'It calls `resolveConfigurationValueForTheCurrentWorkspaceFolderOrFallBackToTheUserDefaults()`.\n\n',
        'Sources: src/billing/invoice.ts:7-11, docs/guide.md:5, src/billing/refunds.ts:3-4',
      ],
    };
  }
  if (/\bhuge\b/i.test(question)) {
    const line = 'A very long answer line that keeps going to make the reply enormous.\n';
    const chunks: string[] = [];
    let size = 0;
    while (size < HUGE_REPLY_CHARS) {
      const c = line.repeat(200);
      chunks.push(c);
      size += c.length;
    }
    return { content: chunks };
  }
  return {
    content: [
      'The rebate is computed by ',
      '`computeQuarterlyTaxRebate` in ',
      '`src/billing/invoice.ts`:\n\n',
      '```ts\nconst rebate = invoice.amountCents * 0.07;\n```\n\n',
      'It rounds with `Math.round`.',
    ],
    chunkDelayMs: 30,
  };
}

export interface TestServices {
  readonly settings: Record<string, unknown>;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestServices(): Promise<TestServices> {
  const model = await startOpenAIServer({ apiKey: MODEL_API_KEY, responder: (body) => scriptedReply(lastUserMessage(body), body) });
  const db = await freshDb(undefined, { storage: true });
  const supabase = await startSupabaseTestServers({ db: db.db });
  // The team model gateway (Edge Function under Deno, as deployed) in front of the same model server.
  const gateway = await startEdgeFunction('model-gateway', {
    SUPABASE_URL: supabase.url,
    SUPABASE_ANON_KEY: supabase.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: supabase.serviceRoleKey,
    CAIRN_PROVIDER_BASE_URL: model.baseURL,
    CAIRN_PROVIDER_API_KEY: MODEL_API_KEY,
  });
  supabase.addFunction('model-gateway', gateway.origin, { verifyJwt: true });
  return {
    settings: {
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      // The editor's own AI chat panel would take a third of every screenshot.
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
      'cairn.model.baseUrl': model.baseURL,
      'cairn.model.name': 'gpt-4o-mini',
    },
    env: {
      CAIRN_TEST_MODEL_KEY: MODEL_API_KEY,
      CAIRN_TEST_SUPABASE_URL: supabase.url,
      CAIRN_TEST_SUPABASE_ANON_KEY: supabase.anonKey,
      // The suites' stand-in for a user following the emailed confirmation link (the Auth admin API); the
      // extension and the daemon never read it.
      CAIRN_TEST_SUPABASE_SERVICE_ROLE_KEY: supabase.serviceRoleKey,
    },
    async stop() {
      await gateway.stop();
      await model.close();
      await supabase.close();
      await db.close();
    },
  };
}
