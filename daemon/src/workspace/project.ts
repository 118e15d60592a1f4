/**
 * Maps a workspace folder to its project row, so the same repository lands in the same project for every
 * teammate (by normalised git remote) and a plain folder gets a personal project (by its path).
 */
import { readFile, realpath } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Store } from '../store/types.js';

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

interface ProjectRow {
  id: string;
  name: string;
  team_id: string | null;
}

const toRef = (row: ProjectRow): ProjectRef => ({ id: row.id, name: row.name, teamId: row.team_id });

/** The real path of a workspace root, so a folder reached through a symlink maps to the same project. */
export async function canonicalRoot(root: string): Promise<string> {
  return realpath(root).catch(() => resolve(root));
}

/** How a folder is named in the database (`projects.root_uri`, `project_folders.root_uri`). */
export const folderUri = (root: string): string => `file://${resolve(root)}`;

/** The project for a workspace root, created on first use; cached per store and root. */
export async function resolveProject(store: Store, root: string): Promise<ProjectRef> {
  const abs = resolve(root);
  let byRoot = cache.get(store);
  if (!byRoot) cache.set(store, (byRoot = new Map()));
  const hit = byRoot.get(abs);
  if (hit) return hit;
  const row = await store.rpc<ProjectRow>('ensure_project', {
    p_root_uri: folderUri(abs),
    p_name: basename(abs) || abs,
    p_git_remote: await readGitRemote(abs),
  });
  const ref = toRef(row);
  byRoot.set(abs, ref);
  return ref;
}

/** The projects the user can read, by name. */
export async function listProjects(store: Store): Promise<ProjectRef[]> {
  return (await store.rpc<ProjectRow[]>('list_projects', {})).map(toRef);
}

/**
 * Maps a folder to a project by the user's choice (null forgets it), under both names the daemon may use
 * for it (as given and with symlinks resolved: chat and the index name folders differently), and returns
 * the project the folder now resolves to.
 */
export async function chooseProject(store: Store, root: string, projectId: string | null): Promise<ProjectRef> {
  const names = new Set([resolve(root), await canonicalRoot(root)]);
  for (const name of names) await store.rpc('choose_project', { p_root_uri: folderUri(name), p_project_id: projectId });
  forgetProjects(store);
  return resolveProject(store, root);
}

/** Forgets cached projects (after sign-in changes the acting user). */
export function forgetProjects(store: Store): void {
  cache.delete(store);
}
