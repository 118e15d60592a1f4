// The adversarial suite's world: three teams and every kind of actor the oracle (oracle.ts) names, with a
// row in every table. Built as the database owner with each author's JWT claims set (so defaults and triggers
// that read auth.uid() see the author), through plain inserts rather than the SQL API, so that the world does
// not depend on the functions under test. Every text a row holds carries a marker (`zq<code>qz`) naming
// the scope it belongs to, so any leak shows wherever it surfaces.
import { createHash, randomUUID } from 'node:crypto';
import type { Conn } from './conn.js';

export const TEAMS = ['A', 'B', 'C'] as const;
export type TeamKey = (typeof TEAMS)[number];
export type Role = 'owner' | 'admin' | 'member' | 'viewer';

/**
 * The actors. A and B hold every role; `removed` was a member of A (started a shared session, posted, kept a
 * private session in A's project) and was removed; `demoted` was a member of A (started a shared session)
 * and is now a viewer; `invitee` has a pending invitation to A; `outsider` is in no team; A.admin also owns
 * team C (a team of their own, with `c.member`), to move A's project into; `nosub` is a token with role
 * authenticated and no `sub`; `anon` is the anon key.
 */
export const ACTORS = [
  'A.owner', 'A.admin', 'A.member', 'A.viewer',
  'B.owner', 'B.admin', 'B.member', 'B.viewer',
  'removed', 'demoted', 'invitee', 'outsider', 'anon', 'nosub',
] as const;
export type ActorName = (typeof ACTORS)[number];
/** Users that exist in auth.users (every actor but anon and nosub, plus C's other member). */
export type UserName = Exclude<ActorName, 'anon' | 'nosub'> | 'c.member';

export interface WorldUser {
  id: string;
  email: string;
  /** Marker code of this user's private rows (`priv…`) and profile (`prof…`). */
  code: string;
}

export interface World {
  users: Record<UserName, WorldUser>;
  teams: Record<TeamKey, { id: string; slug: string }>;
  /** Current roles, after the removal and the demotion. */
  roles: Record<TeamKey, Partial<Record<UserName, Role>>>;
  /** Former members: team → users removed from it (they knew the team, and its members knew them). */
  former: Record<TeamKey, UserName[]>;
  /** Pending invitations: team → invited emails. */
  invitations: Record<TeamKey, string[]>;
  /** Every marker code in the world. */
  codes: Set<string>;
  /** Texts a caller may pass to functions, per scope: git remotes, root uris, slugs, key hashes. */
  texts: { remotes: string[]; roots: string[]; slugs: string[]; keyHashes: string[]; emails: string[] };
}

export const MODEL = 'adv-model-4d';
export const marker = (code: string) => `zq${code}qz`;
export const MARKER = /zq([a-z0-9]+)qz/g;
export const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const userCode = (name: string) => name.replace(/[^a-z0-9]/gi, '').toLowerCase();

export function claimsFor(world: World | null, actor: ActorName | UserName, aal: 'aal1' | 'aal2' = 'aal1'): Record<string, unknown> {
  if (actor === 'anon') return { role: 'anon' };
  if (actor === 'nosub') return { role: 'authenticated', aud: 'authenticated', aal, session_id: randomUUID() };
  const u = world!.users[actor];
  return { sub: u.id, role: 'authenticated', aud: 'authenticated', email: u.email, aal, session_id: randomUUID(), is_anonymous: false };
}

export async function buildWorld(db: Conn): Promise<World> {
  const names: UserName[] = [...ACTORS.filter((a): a is Exclude<ActorName, 'anon' | 'nosub'> => a !== 'anon' && a !== 'nosub'), 'c.member'];
  const users = {} as Record<UserName, WorldUser>;
  const codes = new Set<string>();
  for (const name of names) {
    const code = userCode(name);
    const id = randomUUID();
    const email = `${name.replace('.', '-').toLowerCase()}-${marker(`mail${code}`)}@example.test`;
    await db.query(
      `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_user_meta_data, created_at, updated_at)
       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, now(), $3, now(), now())`,
      [id, email, JSON.stringify({ full_name: `${name} ${marker(`prof${code}`)}` })],
    );
    users[name] = { id, email, code };
    codes.add(`priv${code}`).add(`prof${code}`).add(`mail${code}`);
  }
  const world: World = {
    users,
    teams: {} as World['teams'],
    roles: { A: {}, B: {}, C: {} },
    former: { A: [], B: [], C: [] },
    invitations: { A: [], B: [], C: [] },
    codes,
    texts: { remotes: [], roots: [], slugs: [], keyHashes: [], emails: names.map((n) => users[n].email) },
  };

  /** Runs `sql` as the owner of the database with `author`'s claims, as the author's own write would run. */
  const as = async <T = Record<string, unknown>>(author: UserName, sql: string, params: unknown[] = [], aal: 'aal1' | 'aal2' = 'aal2') => {
    await db.query('begin');
    try {
      await db.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claimsFor(world, author, aal))]);
      const rows = (await db.query<T>(sql, params)).rows;
      await db.query('commit');
      return rows;
    } catch (err) {
      await db.query('rollback');
      throw err;
    }
  };
  const one = async (author: UserName, sql: string, params: unknown[] = []) => (await as<{ id: string }>(author, sql, params))[0]!.id;

  let seq = 0;
  const message = (author: UserName, session: string, text: string, role = 'user', status = 'complete') =>
    one(author, `insert into public.messages (session_id, seq, role, content, status, author_id) values ($1, $2, $3, $4, $5, auth.uid()) returning id::text as id`, [session, ++seq, role, text, status]);
  const session = (author: UserName, project: string | null, title: string, visibility: 'private' | 'team') =>
    one(author, `insert into public.sessions (project_id, owner_id, title, visibility) values ($1, auth.uid(), $2, $3) returning id::text as id`, [project, title, visibility]);
  const privateContent = async (author: UserName, project: string | null) => {
    const m = marker(`priv${users[author].code}`);
    const s = await session(author, project, `private ${m}`, 'private');
    await message(author, s, `secret ${m}`);
    return s;
  };
  const kb = async (author: UserName, project: string, m: string, key: string) => {
    const source = await one(author,
      `insert into public.kb_sources (project_id, kind, uri, title, content_hash, size_bytes, mtime_ms, embedding_model, embedding_dims, chunk_count, indexed_by, indexed_at)
       values ($1, 'file', $2, $3, $4, 10, 1, $5, 4, 2, auth.uid(), now()) returning id::text as id`,
      [project, `src/${key}-${m}.ts`, `title ${m}`, sha(key), MODEL]);
    const chunks = await as<{ id: string }>(author,
      `insert into public.kb_chunks (source_id, project_id, embedding_model, embedding_dims, ordinal, start_line, end_line, content, content_hash, token_count, embedding)
       values ($1, $2, $3, 4, 0, 1, 2, $4, $5, 3, '[1,0,0,0]'), ($1, $2, $3, 4, 1, 3, 4, $6, $7, 3, '[0,1,0,0]') returning id::text as id`,
      [source, project, MODEL, `tenant alpha ${m}`, sha(`${key}0`), `tenant beta ${m}`, sha(`${key}1`)]);
    await as(author, `insert into public.kb_active_models (project_id, embedding_model) values ($1, $2) on conflict (project_id) do nothing`, [project, MODEL]);
    // One vector published into kb_ann, the other left queued in kb_ann_pending.
    await as(author, `insert into public.kb_ann (chunk_id, source_id, project_id, embedding_model, embedding_dims, embedding)
                      select id, source_id, project_id, embedding_model, embedding_dims, embedding from public.kb_chunks where id = $1`, [chunks[0]!.id]);
    await as(author, 'delete from public.kb_ann_pending where chunk_id = $1', [chunks[0]!.id]);
  };

  const member = (t: TeamKey, r: Role): UserName => {
    const name = `${t}.${r}` as UserName;
    return name in users ? name : 'c.member';
  };

  for (const t of TEAMS) {
    const code = `team${t.toLowerCase()}`;
    const m = marker(code);
    codes.add(code).add(`tname${t.toLowerCase()}`);
    const owner: UserName = t === 'C' ? 'A.admin' : member(t, 'owner');
    const slug = `team-${t.toLowerCase()}-${marker(`tname${t.toLowerCase()}`)}`;
    const teamId = await one(owner, `insert into public.teams (name, slug, created_by) values ($1, $2, auth.uid()) returning id::text as id`,
      [`Team ${t} ${marker(`tname${t.toLowerCase()}`)}`, slug]);
    world.teams[t] = { id: teamId, slug };
    world.texts.slugs.push(slug);
    world.roles[t][owner] = 'owner';
    const join = async (user: UserName, role: Role) => {
      await as(owner, `insert into public.team_members (team_id, user_id, role, invited_by) values ($1, $2, $3, auth.uid())`, [teamId, users[user].id, role]);
      world.roles[t][user] = role;
    };
    if (t === 'C') await join('c.member', 'member');
    else for (const r of ['admin', 'member', 'viewer'] as const) await join(member(t, r), r);
    const author: UserName = t === 'C' ? 'c.member' : member(t, 'member');
    const remote = `github.com/org/${t.toLowerCase()}-${m}`;
    const root = `file:///work/${t.toLowerCase()}-${m}`;
    world.texts.remotes.push(remote);
    world.texts.roots.push(root);
    const project = await one(author, `insert into public.projects (team_id, owner_id, name, root_uri, git_remote) values ($1, auth.uid(), $2, $3, $4) returning id::text as id`,
      [teamId, `project ${m}`, root, remote]);
    if (t === 'C') continue;
    if (t === 'A') {
      await join('removed', 'member');
      await join('demoted', 'member');
    }
    const agent = await one(author, `insert into public.agents (team_id, owner_id, name, system_prompt) values ($1, auth.uid(), $2, $3) returning id::text as id`,
      [teamId, `agent ${m}`, `prompt ${m}`]);
    const shared = await session(author, project, `shared ${m}`, 'team');
    await as(author, 'update public.sessions set agent_id = $2 where id = $1', [shared, agent]);
    const posted = await message(author, shared, `hello ${m}`);
    await message(author, shared, '', 'assistant', 'streaming');
    await privateContent(author, project);
    await one(author, `insert into public.tasks (project_id, session_id, created_by, title, description) values ($1, $2, auth.uid(), $3, $3) returning id::text as id`,
      [project, shared, `task ${m}`]);
    await kb(author, project, m, t);
    const keyHash = sha(`key-${t}`);
    world.texts.keyHashes.push(keyHash);
    await one(author, `insert into public.api_keys (owner_id, name, prefix, key_hash) values (auth.uid(), $1, $2, $3) returning id::text as id`,
      [`key ${marker(`priv${users[author].code}`)}`, `cairn_${t}`, keyHash]);
    await as(author, `insert into public.api_usage (user_id, team_id, project_id, session_id, message_id, model, kind, prompt_tokens, completion_tokens)
                      values (auth.uid(), $1, $2, $3, $4, $5, 'chat', 10, 5)`, [teamId, project, shared, posted, `model ${m}`]);
    await as(author, `insert into public.project_folders (user_id, root_uri, project_id) values (auth.uid(), $1, $2)`,
      [`file:///home/${users[author].code}/fork-${marker(`priv${users[author].code}`)}`, project]);
    if (t === 'A') {
      // The member to be removed, and the member to be demoted, each started a shared session and posted.
      for (const who of ['removed', 'demoted'] as const) {
        const s = await session(who, project, `shared by ${who} ${m}`, 'team');
        await message(who, s, `${who} says ${m}`);
        await message(who, shared, `${who} in the shared session ${m}`);
        await privateContent(who, project);
      }
      await as('A.owner', `insert into public.team_invitations (team_id, email, role, invited_by) values ($1, $2, 'member', auth.uid())`, [teamId, users.invitee.email]);
      world.invitations.A.push(users.invitee.email);
    }
  }
  // The removal and the demotion happen after all of the above; then A keeps writing.
  await as('A.owner', 'delete from public.team_members where team_id = $1 and user_id = $2', [world.teams.A.id, users.removed.id]);
  delete world.roles.A.removed;
  world.former.A.push('removed');
  await as('A.owner', `update public.team_members set role = 'viewer' where team_id = $1 and user_id = $2`, [world.teams.A.id, users.demoted.id]);
  world.roles.A.demoted = 'viewer';
  const [aShared] = await as<{ id: string }>('A.member', `select id::text as id from public.sessions where title like 'shared zq%' and project_id in (select id from public.projects where team_id = $1)`, [world.teams.A.id]);
  await message('A.member', aShared!.id, `after the removal ${marker('teama')}`);

  // The outsider and the invitee: personal projects, sessions, agents, keys.
  for (const who of ['outsider', 'invitee'] as const) {
    const m = marker(`priv${users[who].code}`);
    const root = `file:///home/${users[who].code}-${m}`;
    const remote = `github.com/${users[who].code}/mine-${m}`;
    world.texts.roots.push(root);
    world.texts.remotes.push(remote);
    const project = await one(who, `insert into public.projects (owner_id, name, root_uri, git_remote) values (auth.uid(), $1, $2, $3) returning id::text as id`, [`mine ${m}`, root, remote]);
    await privateContent(who, project);
    await one(who, `insert into public.agents (owner_id, name, system_prompt) values (auth.uid(), $1, $1) returning id::text as id`, [`agent ${m}`]);
    if (who === 'outsider') {
      const keyHash = sha('key-outsider');
      world.texts.keyHashes.push(keyHash);
      await one(who, `insert into public.api_keys (owner_id, name, prefix, key_hash) values (auth.uid(), $1, 'cairn_o', $2) returning id::text as id`, [`key ${m}`, keyHash]);
      await kb(who, project, m, 'outsider');
    }
  }
  return world;
}
