/**
 * Maps a workspace folder to its project row, never to one the user did not choose (the database decides:
 * `ensure_project`): their choice for the folder, else the project they already use for it, else a personal
 * project. A folder whose git remote matches a project of a team the user has not used with this folder is
 * not mapped: `ProjectChoiceNeeded` carries the candidates (with team names) for the client to ask, and the
 * answer (`chooseProject`) is remembered per user in the database.
 */
import { readFile, realpath } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { reasonOfSqlstate, RpcError } from '../protocol/errors.js';
import type { ProjectChoiceNeeded } from '../protocol/workspace.js';
import { StoreError, type RpcResult, type Store, type TableRow } from '../store/types.js';

export interface ProjectRef {
  id: string;
  name: string;
  teamId: string | null;
}

/** `git@github.com:Org/Repo.git` and `https://github.com/org/repo` both become `github.com/org/repo`. */
export function normaliseGitRemote(url: string): string {
  let u = url.trim();
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(u);
  if (scp) u = `${scp[1]}/${scp[2]}`;
  else u = u.replace(/^[a-z+]+:\/\//i, '').replace(/^[^@/]+@/, '');
  return u.replace(/\.git$/i, '').replace(/\/+$/, '').toLowerCase();
}

/** Reads the `origin` remote (or the first remote) from `.git/config`, without running git. */
export async function readGitRemote(root: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(root, '.git', 'config'), 'utf8');
  } catch {
    return null;
  }
  const remotes = new Map<string, string>();
  let current: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const section = /^\s*\[remote\s+"([^"]+)"\]\s*$/.exec(line);
    if (section) {
      current = section[1] ?? null;
      continue;
    }
    if (/^\s*\[/.test(line)) current = null;
    const url = /^\s*url\s*=\s*(.+?)\s*$/.exec(line);
    if (current && url?.[1]) remotes.set(current, url[1]);
  }
  const remote = remotes.get('origin') ?? remotes.values().next().value;
  return remote ? normaliseGitRemote(remote) : null;
}

const cache = new WeakMap<Store, Map<string, ProjectRef>>();
/** Stores whose swaps (sign-in, sign-out) already clear their cache. */
const watched = new WeakSet<Store>();

const toRef = (row: Pick<TableRow<'projects'>, 'id' | 'name' | 'team_id'>): ProjectRef => ({ id: row.id, name: row.name, teamId: row.team_id });

/** The real path of a workspace root, so a folder reached through a symlink maps to the same project. */
export async function canonicalRoot(root: string): Promise<string> {
  return realpath(root).catch(() => resolve(root));
}

/** How a folder is named in the database (`projects.root_uri`, `project_folders.root_uri`). */
export const folderUri = (root: string): string => `file://${resolve(root)}`;

/**
 * The project for a workspace root, created on first use (a personal one); cached per store and root.
 * Throws `ProjectChoiceNeeded` (with the candidates) while the folder waits for the user's choice.
 */
export async function resolveProject(store: Store, root: string): Promise<ProjectRef> {
  const abs = resolve(root);
  let byRoot = cache.get(store);
  if (!byRoot) cache.set(store, (byRoot = new Map()));
  if (!watched.has(store)) {
    watched.add(store);
    store.onSwap?.(() => forgetProjects(store));
  }
  const hit = byRoot.get(abs);
  if (hit) return hit;
  const remote = await readGitRemote(abs);
  let row: RpcResult<'ensure_project'>;
  try {
    row = await store.rpc('ensure_project', { p_root_uri: folderUri(abs), p_name: basename(abs) || abs, p_git_remote: remote });
  } catch (err) {
    if (!(err instanceof StoreError) || reasonOfSqlstate(err.sqlstate) !== 'projectChoice' || !remote) throw err;
    const candidates = await store.rpc('list_project_candidates', { p_git_remote: remote });
    throw new RpcError(
      'ProjectChoiceNeeded',
      `This folder's repository (${remote}) is a project of ${teamList(candidates)}, which you have not used with this folder. ` +
        'Choose that project for it, or keep it personal (Cairn: Choose Project for This Folder).',
      {
        root,
        gitRemote: remote,
        candidates: candidates.map((c) => ({ projectId: c.project_id, projectName: c.project_name, teamId: c.team_id, teamName: c.team_name })),
      } satisfies ProjectChoiceNeeded,
    );
  }
  const ref = toRef(row);
  byRoot.set(abs, ref);
  return ref;
}

function teamList(candidates: RpcResult<'list_project_candidates'>): string {
  const names = [...new Set(candidates.map((c) => `team ${c.team_name}`))];
  if (names.length === 0) return 'a team';
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** The projects the user can read, by name. */
export async function listProjects(store: Store): Promise<ProjectRef[]> {
  return (await store.rpc('list_projects', {})).map(toRef);
}

/**
 * Maps a folder to a project by the user's choice: a project they can read, their personal project
 * (`personal`), or nothing (projectId null forgets the choice). Recorded under both names the daemon may use
 * for the folder (as given and with symlinks resolved: chat and the index name folders differently).
 * Returns the project the folder now resolves to.
 */
export async function chooseProject(store: Store, root: string, choice: { projectId: string | null; personal?: boolean }): Promise<ProjectRef> {
  const abs = resolve(root);
  const names = new Set([abs, await canonicalRoot(root)]);
  let projectId = choice.projectId;
  if (choice.personal) {
    const own = await store.rpc('ensure_project', {
      p_root_uri: folderUri(abs),
      p_name: basename(abs) || abs,
      p_git_remote: await readGitRemote(abs),
      p_personal: true,
    });
    names.delete(abs);
    projectId = own.id;
  }
  for (const name of names) await store.rpc('choose_project', { p_root_uri: folderUri(name), p_project_id: projectId });
  forgetProjects(store);
  return resolveProject(store, root);
}

/** Forgets cached projects (after sign-in changes the acting user). */
export function forgetProjects(store: Store): void {
  cache.delete(store);
}
