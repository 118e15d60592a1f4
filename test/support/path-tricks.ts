/**
 * A workspace holding everything the path policy must hide (ignored files, secret files, a file outside the
 * folder), each with a planted marker, and every way of naming one of them that an agent might try: `..`,
 * absolute paths, symlinks to the file or to a folder above it, case variants, URL encoding, trailing slashes.
 * The chat tools, MCP and the indexer tests generate their cases from it: every tool × every trick × every target.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

export type TargetKind = 'ignored' | 'secret' | 'outside';

export interface HiddenTarget {
  /** Workspace-relative path, or absolute for a file outside the folder. */
  path: string;
  kind: TargetKind;
  /** A folder rather than a file. */
  dir: boolean;
  /** A string inside it that must never reach a tool result, a model or the index. */
  plant: string;
}

/** Markers are spelled so that no secret scanner takes them for keys: what matters is that they never travel. */
const plant = (name: string) => `PLANTED_${name}_MARKER`;

export const HIDDEN_TARGETS: readonly HiddenTarget[] = [
  { path: 'build/out.js', kind: 'ignored', dir: false, plant: plant('BUILD') },
  { path: 'build', kind: 'ignored', dir: true, plant: plant('BUILD') },
  { path: 'debug.log', kind: 'ignored', dir: false, plant: plant('LOG') },
  { path: 'private/notes.md', kind: 'ignored', dir: false, plant: plant('CAIRNIGNORE') },
  { path: 'private', kind: 'ignored', dir: true, plant: plant('CAIRNIGNORE') },
  { path: 'vendor/lib.js', kind: 'ignored', dir: false, plant: plant('SETTINGS_EXCLUDE') },
  { path: 'node_modules/dep/index.js', kind: 'ignored', dir: false, plant: plant('NODE_MODULES') },
  { path: '.env', kind: 'secret', dir: false, plant: plant('DOTENV') },
  { path: 'config/.env.production', kind: 'secret', dir: false, plant: plant('DOTENV_PROD') },
  { path: 'keys/server.pem', kind: 'secret', dir: false, plant: plant('PEM') },
  { path: 'deploy/id_rsa', kind: 'secret', dir: false, plant: plant('ID_RSA') },
  { path: '.npmrc', kind: 'secret', dir: false, plant: plant('NPMRC') },
  { path: 'conf/.ENV.LOCAL', kind: 'secret', dir: false, plant: plant('DOTENV_UPPER') },
  { path: '<outside>/outside.txt', kind: 'outside', dir: false, plant: plant('OUTSIDE') },
];

/** The settings' excludes the fixture expects (`vendor/` is hidden by the setting, not by a file). */
export const FIXTURE_EXCLUDES = ['vendor/'];

/** A file that only looks like a secret file, allowed by the root `.cairnignore`. */
export const ALLOWED_FILE = { path: 'fixtures/test-cert.pem', plant: 'ALLOWED_FIXTURE_CONTENT' };

export interface HiddenFixture {
  root: string;
  outside: string;
  targets: HiddenTarget[];
  /** Every hidden target's marker. */
  plants: string[];
}

/**
 * Writes the fixture into `root` (which must exist and be empty) and `outside` (a folder beside it), with the
 * symlinks the tricks use under `links/`.
 */
export async function writeHiddenFixture(root: string, outside: string): Promise<HiddenFixture> {
  const put = async (abs: string, text: string) => {
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, text);
  };
  await put(join(root, 'src/ok.ts'), 'export const ok = 1;\n');
  await put(join(root, '.gitignore'), 'build/\n*.log\n');
  await put(join(root, '.cairnignore'), `private/\n!secret-allow: ${ALLOWED_FILE.path}\n`);
  await put(join(root, ALLOWED_FILE.path), `${ALLOWED_FILE.plant}\n`);
  const targets = HIDDEN_TARGETS.map((t) => ({ ...t, path: t.path.replace('<outside>', outside) }));
  for (const t of targets) {
    if (t.dir) continue;
    await put(t.kind === 'outside' ? t.path : join(root, t.path), `line one\n${t.plant}=1\n`);
  }
  await mkdir(join(root, 'links'), { recursive: true });
  await symlink(root, join(root, 'links', 'root'));
  await symlink(outside, join(root, 'links', 'outdir'));
  for (const [i, t] of targets.entries()) await symlink(t.kind === 'outside' ? t.path : join(root, t.path), join(root, 'links', `l${i}`));
  return { root, outside, targets, plants: [...new Set(targets.map((t) => t.plant))] };
}

function upperBase(p: string): string {
  const i = p.lastIndexOf('/') + 1;
  return p.slice(0, i) + p.slice(i).toUpperCase();
}

/** Every way of naming target `i` of the fixture, each with a label for the failure message. */
export function pathTricks(fx: HiddenFixture, i: number): Array<{ trick: string; path: string }> {
  const t = fx.targets[i]!;
  if (t.kind === 'outside') {
    const rel = relative(fx.root, t.path);
    return [
      { trick: '..', path: rel },
      { trick: 'src/..', path: `src/../${rel}` },
      { trick: 'absolute', path: t.path },
      { trick: 'symlink to the file', path: `links/l${i}` },
      { trick: 'symlink to its folder', path: 'links/outdir/outside.txt' },
      { trick: 'url-encoded ..', path: rel.replaceAll('..', '%2e%2e') },
      { trick: 'url-encoded slashes', path: rel.replaceAll('/', '%2F') },
      { trick: 'file URL', path: `file://${t.path}` },
    ];
  }
  const tricks = [
    { trick: 'as written', path: t.path },
    { trick: './', path: `./${t.path}` },
    { trick: 'src/..', path: `src/../${t.path}` },
    { trick: 'trailing slash', path: `${t.path}/` },
    { trick: 'absolute', path: join(fx.root, t.path) },
    { trick: 'absolute with ./', path: `${fx.root}/./${t.path}` },
    { trick: 'symlink to it', path: `links/l${i}` },
    { trick: 'symlink to the root', path: `links/root/${t.path}` },
    { trick: 'case variant', path: upperBase(t.path) },
    { trick: 'url-encoded', path: t.path.replaceAll('.', '%2e').replaceAll('/', '%2F') },
    { trick: 'file URL', path: `file://${join(fx.root, t.path)}` },
  ];
  return tricks;
}

/** Every (target, trick) pair of the fixture. */
export function allTricks(fx: HiddenFixture): Array<{ target: HiddenTarget; trick: string; path: string }> {
  return fx.targets.flatMap((target, i) => pathTricks(fx, i).map((t) => ({ target, ...t })));
}
