/**
 * Which embedding model search uses per project. During a model switch the database holds two generations;
 * search stays on the active one until the indexer has written the new model's vectors for every file, then
 * the indexer activates the new model (`kb_activate_model`) and drops the old generation.
 *
 * The database records the active model (`kb_active_models`, resolved by `kb_active_model`), so every
 * machine of a team searches the same generation. The daemon keeps what it read per store and project, so a
 * search is one SQL call, and replaces it when it changes: on its own activation, and when `kb_search`
 * answers CR006 (the model it was given is no longer the project's: another machine switched), after which
 * the caller reads it again and retries once (search.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, type Store } from '../store/types.js';
import type { Logger } from '../log/logger.js';
import { reasonOfSqlstate } from '../protocol/errors.js';

/** kb_search's answer when the model it was given is not the project's active one (`modelChanged`, docs/sql-api.md). */
export function isModelChanged(err: unknown): boolean {
  return err instanceof StoreError && reasonOfSqlstate(err.sqlstate) === 'modelChanged';
}

const known = new WeakMap<Store, Map<string, string | null>>();

function byProject(store: Store): Map<string, string | null> {
  let m = known.get(store);
  if (!m) known.set(store, (m = new Map()));
  return m;
}

/** The project's active model as last read or set here; read from the database the first time. Null: nothing indexed. */
export async function activeModel(store: Store, projectId: string, signal?: AbortSignal): Promise<string | null> {
  const m = byProject(store);
  if (m.has(projectId)) return m.get(projectId)!;
  return readActiveModel(store, projectId, signal);
}

/** Reads the project's active model from the database (and remembers it). */
export async function readActiveModel(store: Store, projectId: string, signal?: AbortSignal): Promise<string | null> {
  const model = await store.rpc('kb_active_model', { p_project_id: projectId }, { signal });
  byProject(store).set(projectId, model);
  return model;
}

/** Makes `model` the generation search reads, for every machine of the project. */
export async function activateModel(store: Store, projectId: string, model: string, signal?: AbortSignal): Promise<void> {
  await store.rpc('kb_activate_model', { p_project_id: projectId, p_embedding_model: model }, { signal });
  byProject(store).set(projectId, model);
}

/** Forgets what is known of a project's active model (its next search reads it again). */
export function forgetActiveModel(store: Store, projectId: string): void {
  known.get(store)?.delete(projectId);
}

/**
 * Daemons before the database recorded the active model kept it in `$CAIRN_HOME/kb-state.json`
 * (`{projects: {<id>: {active}}}`). Each recorded model that still has rows, and that the database does not
 * already resolve to, is activated once; then the file is removed. Entries of projects this store cannot
 * write are dropped: the database's own choice (the model with most chunks) stands for them.
 */
export function legacyStateFile(home: string): string | null {
  const path = join(home, 'kb-state.json');
  return existsSync(path) ? path : null;
}

export async function migrateLegacyState(store: Store, path: string, log: Logger): Promise<number> {
  let projects: Record<string, { active?: unknown }> = {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { projects?: unknown };
    if (parsed && typeof parsed.projects === 'object' && parsed.projects) projects = parsed.projects as typeof projects;
  } catch {
    // Unreadable: nothing to carry over.
  }
  let moved = 0;
  for (const [projectId, entry] of Object.entries(projects)) {
    const recorded = typeof entry?.active === 'string' ? entry.active : null;
    if (!recorded) continue;
    try {
      const rows = await store.rpc('kb_status', { p_project_id: projectId });
      if (!rows.some((r) => r.embedding_model === recorded)) continue;
      if ((await store.rpc('kb_active_model', { p_project_id: projectId })) === recorded) continue;
      await activateModel(store, projectId, recorded);
      moved++;
    } catch (e) {
      log.warn('kb: could not carry over the recorded active model', { projectId, error: (e as Error).message });
    }
  }
  await rm(path, { force: true });
  if (moved > 0) log.info('kb: active models moved from kb-state.json into the database', { projects: moved });
  return moved;
}
