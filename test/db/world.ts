// Two tenants for the database tests: teams A and B with a user of every role each, a user in no team,
// and their rows in every table, built through the SQL API as those users (so the API is exercised too).
import { createHash } from 'node:crypto';
import { freshDb, withAal2, type TestDb, type TestUser } from '../support/db.js';

export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export type TeamKey = 'A' | 'B';
export type ActorName = `${TeamKey}.${Role}` | 'outsider' | 'anon';
export const ACTORS: ActorName[] = ['A.owner', 'A.admin', 'A.member', 'A.viewer', 'B.owner', 'B.member', 'outsider', 'anon'];

export const MODEL = 'test-model-4d';
export const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export interface Tenant {
  teamId: string;
  projectId: string;
  teamSessionId: string;
  /** A.member's private session in the team project. */
  privateSessionId: string;
  messageId: string;
  /** An assistant reply of A.member still streaming in the team session. */
  streamingMessageId: string;
  agentId: string;
  taskId: string;
  sourceId: string;
  chunkIds: string[];
  /** The chunk published into kb_ann (the other one is still queued in kb_ann_pending). */
  publishedChunkId: string;
  pendingChunkId: string;
  /** The queued chunk's vector, as text. */
  pendingEmbedding: string;
  apiKeyId: string;
  usageId: string;
}

export interface World {
  users: Record<Exclude<ActorName, 'anon'>, TestUser>;
  A: Tenant;
  B: Tenant;
  /** The outsider's personal project and session. */
  personal: { projectId: string; sessionId: string };
  /** A's pending invitation of the outsider's email address. */
  invitationId: string;
  /** Access changes as the triggers record them: A's team session unshared, the outsider removed from A. */
  accessChanges: { sessionUnshared: string; outsiderRemoved: string };
  /** A folder A.member mapped to the A project by choice. */
  folderChoice: { rootUri: string };
}

interface Row {
  id: string;
}

/**
 * A fresh database holding the two-tenant world, for a suite: made before its tests (before each test with
 * `{ each: true }`, for suites whose tests change memberships) and closed after them; `use` receives both.
 */
export function useWorld(use: (t: TestDb, w: World) => void | Promise<void>, opts: { each?: boolean } = {}): void {
  let db: TestDb | null = null;
  (opts.each ? beforeEach : before)(async () => {
    db = await freshDb();
    await use(db, await buildWorld(db));
  });
  (opts.each ? afterEach : after)(async () => {
    await db?.close();
    db = null;
  });
}

export async function buildWorld(t: TestDb): Promise<World> {
  const users = {} as World['users'];
  for (const name of [...ACTORS.filter((a) => a !== 'anon')] as Array<Exclude<ActorName, 'anon'>>) {
    users[name] = await t.createUser(name.replace('.', '-').toLowerCase());
  }
  // B has no admin or viewer in the actor list, but every role exists in both teams.
  const extra = { 'B.admin': await t.createUser('b-admin'), 'B.viewer': await t.createUser('b-viewer') };

  const tenant = async (key: TeamKey): Promise<Tenant> => {
    const u = (role: Role) => (users as Record<string, TestUser>)[`${key}.${role}`] ?? extra[`${key}.${role}` as keyof typeof extra];
    const owner = u('owner');
    const member = u('member');
    const team = await t.rpc<Row>(owner, 'create_team', { p_name: `Team ${key}` });
    // Members join as people do: invited by email, then accepting it themselves.
    for (const role of ['admin', 'member', 'viewer'] as const) {
      const invitation = await t.rpc<Row>(withAal2(owner), 'invite_member', { p_team_id: team.id, p_email: u(role).email, p_role: role });
      await t.rpc(u(role), 'accept_invitation', { p_invitation_id: invitation.id });
    }
    const project = await t.rpc<Row>(member, 'ensure_project', {
      p_root_uri: `file:///work/${key}`,
      p_name: `project-${key}`,
      p_git_remote: `github.com/org/${key.toLowerCase()}`,
      p_team_id: team.id,
    });
    const teamSession = await t.rpc<Row>(member, 'create_session', { p_project_id: project.id, p_title: `${key} shared`, p_visibility: 'team' });
    const privateSession = await t.rpc<Row>(member, 'create_session', { p_project_id: project.id, p_title: `${key} private` });
    const message = await t.rpc<Row>(member, 'append_message', { p_session_id: teamSession.id, p_role: 'user', p_content: `hello from ${key}` });
    await t.rpc(member, 'append_message', { p_session_id: privateSession.id, p_role: 'user', p_content: `secret of ${key}` });
    const streaming = await t.rpc<Row>(member, 'append_message', { p_session_id: teamSession.id, p_role: 'assistant', p_content: '', p_status: 'streaming' });
    const agent = await t.rpc<Row>(member, 'create_agent', { p_name: `agent-${key}`, p_system_prompt: 'Be brief.', p_team_id: team.id });
    const task = await t.rpc<Row>(member, 'create_task', { p_project_id: project.id, p_title: `task of ${key}`, p_session_id: teamSession.id });
    await t.rpc(member, 'kb_upsert_sources', {
      p_project_id: project.id,
      p_sources: [
        {
          source: { kind: 'file', uri: `src/${key}.ts`, title: `${key}.ts`, language: 'typescript', content_hash: sha(key), size_bytes: 10, mtime_ms: 1, embedding_model: MODEL, embedding_dims: 4 },
          chunks: [
            { ordinal: 0, start_line: 1, end_line: 2, content: `tenant ${key} alpha`, content_hash: sha(`${key}0`), token_count: 3, embedding: '[1,0,0,0]' },
            { ordinal: 1, start_line: 3, end_line: 4, content: `tenant ${key} beta`, content_hash: sha(`${key}1`), token_count: 3, embedding: '[0,1,0,0]' },
          ],
        },
      ],
    });
    const [source] = await t.admin<Row>('select id::text from public.kb_sources where project_id = $1', [project.id]);
    await t.rpc(member, 'kb_activate_model', { p_project_id: project.id, p_embedding_model: MODEL });
    const chunks = await t.admin<Row>('select id::text from public.kb_chunks where source_id = $1 order by ordinal', [source!.id]);
    await t.rpc(member, 'kb_publish_vectors', { p_project_id: project.id, p_limit: 1 });
    const [published] = await t.admin<Row>('select chunk_id::text as id from public.kb_ann where project_id = $1', [project.id]);
    const [pending] = await t.admin<Row & { embedding: string }>(
      'select p.chunk_id::text as id, c.embedding::text as embedding from public.kb_ann_pending p join public.kb_chunks c on c.id = p.chunk_id where p.project_id = $1',
      [project.id],
    );
    const key_ = await t.rpc<Row>(member, 'create_api_key', { p_name: `key of ${key}` });
    const usage = await t.rpc<Row>(member, 'record_usage', { p_model: 'gpt', p_prompt_tokens: 10, p_completion_tokens: 5, p_session_id: teamSession.id, p_message_id: message.id });
    return {
      teamId: team.id,
      projectId: project.id,
      teamSessionId: teamSession.id,
      privateSessionId: privateSession.id,
      messageId: message.id,
      streamingMessageId: streaming.id,
      agentId: agent.id,
      taskId: task.id,
      sourceId: source!.id,
      chunkIds: chunks.map((c) => c.id),
      publishedChunkId: published!.id,
      pendingChunkId: pending!.id,
      pendingEmbedding: pending!.embedding,
      apiKeyId: key_.id,
      usageId: usage.id,
    };
  };
  const A = await tenant('A');
  const B = await tenant('B');
  // Team A has a model gateway (set up by its admin; written here directly, as set_model_gateway needs aal2).
  await t.admin(`insert into public.model_gateways (team_id, allowed_models) values ($1, '{gpt-4o-mini}')`, [A.teamId]);
  const project = await t.rpc<Row>(users.outsider, 'ensure_project', { p_root_uri: 'file:///home/outsider', p_name: 'mine' });
  const session = await t.rpc<Row>(users.outsider, 'create_session', { p_project_id: project.id, p_title: 'outsider private' });
  await t.rpc(users.outsider, 'append_message', { p_session_id: session.id, p_role: 'user', p_content: 'outsider secret' });
  const invitation = await t.rpc<Row>(withAal2(users['A.owner']), 'invite_member', { p_team_id: A.teamId, p_email: users.outsider.email });
  const revoke = async (sql: string, params: unknown[]) => {
    await t.admin(sql, params);
    return (await t.admin<Row>('select id::text from public.access_changes order by created_at desc limit 1'))[0]!.id;
  };
  const accessChanges = {
    sessionUnshared: await revoke(`select private.record_access_change($1, 'session_unshared', p_session_id => $2)`, [A.teamId, A.teamSessionId]),
    outsiderRemoved: await revoke(`select private.record_access_change($1, 'member_removed', p_user_id => $2)`, [A.teamId, users.outsider.id]),
  };
  const folderChoice = { rootUri: 'file:///home/a-member/fork-of-a' };
  await t.rpc(users['A.member'], 'choose_project', { p_root_uri: folderChoice.rootUri, p_project_id: A.projectId });
  return { users, A, B, personal: { projectId: project.id, sessionId: session.id }, invitationId: invitation.id, accessChanges, folderChoice };
}
