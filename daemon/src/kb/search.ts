/**
 * Knowledge-base search, shared by `kb/search`, the CLI and the chat orchestrator's `search_knowledge_base`
 * tool: one `kb_search` SQL call (BM25 over identifier-aware words plus vector similarity above a floor) against the project's active
 * embedding model, so a model switch in progress never mixes vectors of different dimensions. The active
 * model is known from an earlier call (state.ts); when it changed meanwhile, kb_search says so (CR006) and
 * the search is made again against the new one.
 */
import type { RpcArgs, RpcResult, Store } from '../store/types.js';
import type { ConfigHolder, RuntimeConfig } from '../config.js';
import { projectConfig } from '../workspace/gateway-config.js';
import { kbKind, type KbHit } from '../protocol/kb.js';
import type { ParamsOf } from '../protocol/index.js';
import { canonicalRoot, resolveProject } from '../workspace/project.js';
import { activeModel, isModelChanged, readActiveModel } from './state.js';
import { embedderForModel, type Embedder, vectorText, configuredModelId } from './embed.js';
import { kbSearchArgs, searchHit, searchLimit } from '../../../supabase/functions/_shared/kb-query.js';

// Query preparation and snippets are shared with the Edge Function cairn-api (same hits for an API key).
export { snippetFor } from '../../../supabase/functions/_shared/kb-query.js';
export type { KbHit };


const queryEmbedders = new Map<string, Promise<Embedder | null>>();

async function queryEmbedder(model: string, c: RuntimeConfig, signal?: AbortSignal): Promise<Embedder | null> {
  const key = `${model}|${c.embeddings.baseUrl ?? ''}|${c.embeddings.apiKey ? 'k' : ''}`;
  let e = queryEmbedders.get(key);
  if (!e) {
    e = embedderForModel(model, c, signal);
    queryEmbedders.set(key, e);
    // A failed provider is retried on the next search rather than remembered forever.
    void e.then((v) => v === null && queryEmbedders.delete(key));
  }
  return e;
}

export async function searchKnowledgeBase(
  store: Store,
  config: ConfigHolder,
  params: ParamsOf<'kb/search'>,
  signal?: AbortSignal,
): Promise<KbHit[]> {
  const limit = searchLimit(params.limit);
  const project = await resolveProject(store, await canonicalRoot(params.root));
  // A team project may be embedded through its team's model gateway (workspace/gateway-config.ts).
  const c = await projectConfig(store, config.get(), project.id, signal);
  const search = async (active: string | null) => {
    const model = active ?? configuredModelId(c.embeddings);
    const embedding = await embedQuery(model, params.query, c, signal);
    return store.rpc('kb_search', kbSearchArgs(project.id, model, embedding, { ...params, limit }) as RpcArgs<'kb_search'>, { signal });
  };
  let rows: RpcResult<'kb_search'>;
  try {
    rows = await search(await activeModel(store, project.id, signal));
  } catch (e) {
    // Another machine switched the project's model since this daemon read it: read it again, once.
    if (!isModelChanged(e)) throw e;
    rows = await search(await readActiveModel(store, project.id, signal));
  }
  return rows.map((r) => searchHit({ ...r, kind: kbKind.parse(r.kind) }, params.query));
}

/** The query's vector under `model`, or null (no embedder for it, or its provider is down: words only). */
async function embedQuery(model: string, query: string, c: RuntimeConfig, signal?: AbortSignal): Promise<string | null> {
  const embedder = await queryEmbedder(model, c, signal);
  if (!embedder) return null;
  try {
    const [v] = await embedder.embed([query], signal);
    return v && v.length === embedder.dims ? vectorText(v) : null;
  } catch (e) {
    if (signal?.aborted) throw e;
    // The provider is down: full-text results are still worth returning.
    return null;
  }
}
