/**
 * The team scenarios against a real Supabase project, skipped (and reported as skipped) unless it is
 * configured. Set-up: docs/team-mode.md ("Running the live suite").
 *
 *   SUPABASE_URL, SUPABASE_ANON_KEY      the project (after `supabase link` and `supabase db push`)
 *   CAIRN_LIVE_USERS                     four existing users, `email:password` separated by commas, in the
 *                                        order owner, member, viewer, outsider
 *   CAIRN_LIVE_OWNER_TOTP_SECRET         only if the owner already has a verified TOTP factor: its secret
 *                                        (otherwise the suite enrols a factor for the run and removes it after)
 *   or CAIRN_LIVE_SIGNUP=1               sign up four fresh users instead, with CAIRN_LIVE_EMAIL_DOMAIN
 *                                        (default example.com) and, with email confirmations on,
 *                                        CAIRN_LIVE_SERVICE_ROLE_KEY to confirm them (the test's, never the daemon's)
 *   CAIRN_LIVE_GATEWAY_CHAT_MODEL        a chat model the provider behind model-gateway has (default gpt-4o-mini)
 *   CAIRN_LIVE_GATEWAY_EMBEDDING_MODEL   an embedding model it has (default text-embedding-3-small)
 *
 * The Edge Functions model-gateway (with its provider key) and cairn-api must be deployed (docs/team-mode.md):
 * the gateway scenario makes a few small requests to the provider.
 */
import assert from 'node:assert/strict';
import { confirmEmail, signIn, signInClient, type Person, type Project } from './harness.js';
import { apiKeySearchesAsOwner, buildTeam, daemonsFollowLive, documentsFollowTeam, gatewayCountsUsage, leaveAll, removalCutsOff, shareAndReplyLive, viewerReadsOnly, type Team, type World } from './scenarios.js';

const url = process.env.SUPABASE_URL;
const anonKey = process.env.SUPABASE_ANON_KEY;
const users = (process.env.CAIRN_LIVE_USERS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => {
    const i = s.indexOf(':');
    return { email: s.slice(0, i), password: s.slice(i + 1) };
  });
const signUpFresh = process.env.CAIRN_LIVE_SIGNUP === '1';
const configured = Boolean(url && anonKey && (users.length >= 4 || signUpFresh));

const ROLE_ORDER = ['ann', 'bob', 'vic', 'olga'];

async function livePerson(project: Project, name: string): Promise<Person> {
  const role = ROLE_ORDER.findIndex((r) => name.endsWith(`-${r}`));
  assert.ok(role >= 0, `unknown live role for ${name}`);
  if (signUpFresh) {
    const domain = process.env.CAIRN_LIVE_EMAIL_DOMAIN ?? 'example.com';
    const email = `cairn-live-${ROLE_ORDER[role]}-${Date.now().toString(36)}@${domain}`;
    const password = `Cairn-live-${Math.random().toString(36).slice(2)}!`;
    // With email confirmations on (as configured), a fresh sign-up is confirmed through the admin API.
    const { data, error } = await signInClient(project).auth.signUp({ email, password });
    if (error) throw error;
    if (!data.session) await confirmEmail(project, data.user!.id);
    return signIn(project, email, password);
  }
  const creds = users[role]!;
  const person = await signIn(project, creds.email, creds.password);
  if (role === 0 && process.env.CAIRN_LIVE_OWNER_TOTP_SECRET) person.totpSecret = process.env.CAIRN_LIVE_OWNER_TOTP_SECRET;
  return person;
}

describe('team mode on a live Supabase project', function () {
  this.timeout(120_000);
  let project: Project;
  let team: Team | undefined;

  before(async function () {
    if (!configured) {
      this.skip();
      return;
    }
    const serviceRoleKey = process.env.CAIRN_LIVE_SERVICE_ROLE_KEY;
    project = { url: url!, anonKey: anonKey!, ...(serviceRoleKey ? { serviceRoleKey } : {}), close: async () => undefined };
    const world: World = { project, person: (name) => livePerson(project, name) };
    team = await buildTeam(world, `live-${Date.now().toString(36)}`);
  });

  after(async () => {
    if (!team) return;
    if (!process.env.CAIRN_LIVE_OWNER_TOTP_SECRET) {
      // Leave the owner as found: the factor enrolled for this run goes (allowed at aal2).
      const mfa = team.owner.person.auth.auth.mfa;
      const { data } = await mfa.listFactors();
      for (const f of data?.totp ?? []) await mfa.unenroll({ factorId: f.id });
    }
    await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
  });

  it('A shares a session, B sees it live and replies, A sees the reply live; the outsider gets nothing', async function () {
    if (!team) return this.skip();
    await shareAndReplyLive(team);
  });

  it('a viewer reads a team session live but cannot post or rename', async function () {
    if (!team) return this.skip();
    await viewerReadsOnly(team);
  });

  it("an API key of A's searches the team knowledge base as A does; the outsider's key finds nothing; revoked, it is refused", async function () {
    if (!team) return this.skip();
    // Before the daemons: the local self-check's cairn-api reaches PGlite over a socket, whose transactions
    // must not interleave with other in-process queries (test/team/api-keys.test.ts).
    await apiKeySearchesAsOwner(team, project);
  });

  it("through two daemons: the share reaches B's tree, B's post reaches A, unsharing leaves B's tree and chat", async function () {
    if (!team) return this.skip();
    await daemonsFollowLive(team, project);
  });

  it('team documents in Storage: B adds one, A finds and downloads it, the viewer cannot upload, the outsider sees nothing, delete removes it', async function () {
    if (!team) return this.skip();
    await documentsFollowTeam(team);
  });

  it("the model gateway: B chats, embeds and indexes with no key of B's own, A's usage table is the provider's reports, B over budget gets 429", async function () {
    if (!team) return this.skip();
    await gatewayCountsUsage(team, project, {
      chat: process.env.CAIRN_LIVE_GATEWAY_CHAT_MODEL || 'gpt-4o-mini',
      embedding: process.env.CAIRN_LIVE_GATEWAY_EMBEDDING_MODEL || 'text-embedding-3-small',
    });
  });

  it('removing B from the team cuts B off at once', async function () {
    if (!team) return this.skip();
    await removalCutsOff(team);
  });
});
