/**
 * Which embedding model search uses per project, kept in `$CAIRN_HOME/kb-state.json`. During a model switch
 * the database holds two generations; search stays on the `active` one until the indexer has written the new
 * model's vectors for every file, then the indexer flips `active` and drops the old generation.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RpcRow, Store } from '../store/types.js';
import type { RuntimeConfig } from '../config.js';
import { cairnHome } from '../config.js';
import { configuredModelId } from './embed.js';
import { chunkCounts, modelWithMostChunks } from '../../../supabase/functions/_shared/kb-query.js';

interface StateFile {
  projects: Record<string, { active: string }>;
}

const homes = new WeakMap<Store, string>();

/** Binds a store to the daemon home whose kb-state.json describes it (done by registerKb). */
export function bindKbHome(store: Store, home: string): void {
  homes.set(store, home);
}

export function kbHomeOf(store: Store): string {
  return homes.get(store) ?? cairnHome();
}

function statePath(home: string): string {
  return join(home, 'kb-state.json');
}

function readState(home: string): StateFile {
  try {
    const parsed = JSON.parse(readFileSync(statePath(home), 'utf8')) as StateFile;
    if (parsed && typeof parsed.projects === 'object' && parsed.projects) return parsed;
  } catch {
    // Missing or unreadable: the database decides (see activeModel).
  }
  return { projects: {} };
}

let writing: Promise<void> = Promise.resolve();

/** Records the model search uses for a project; written atomically (temp file + rename). */
export function setActiveModel(home: string, projectId: string, model: string): Promise<void> {
  writing = writing.then(async () => {
    const state = readState(home);
    state.projects[projectId] = { active: model };
    await mkdir(home, { recursive: true });
    const tmp = `${statePath(home)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
    await rename(tmp, statePath(home));
  });
  return writing;
}

export function recordedActiveModel(home: string, projectId: string): string | null {
  return readState(home).projects[projectId]?.active ?? null;
}

export type KbStatusRow = RpcRow<'kb_status'>;

/**
 * The model whose vectors search reads: the recorded active model while it still has rows; else the
 * configured model when it has rows; else the model with most chunks; null when nothing is indexed.
 */
export function chooseActiveModel(rows: KbStatusRow[], recorded: string | null, config: RuntimeConfig): string | null {
  const chunks = chunkCounts(rows);
  if (recorded && chunks.has(recorded)) return recorded;
  const configured = configuredModelId(config.embeddings);
  if (chunks.has(configured)) return configured;
  return modelWithMostChunks(rows);
}

export async function activeModel(store: Store, config: RuntimeConfig, projectId: string, signal?: AbortSignal): Promise<string | null> {
  const rows = await store.rpc('kb_status', { p_project_id: projectId }, { signal });
  return chooseActiveModel(rows, recordedActiveModel(kbHomeOf(store), projectId), config);
}
