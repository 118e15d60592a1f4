/**
 * What the team commands check and show before any call: names and emails checked as the daemon checks them,
 * the roles one may hand out, members and projects as rows, and the database's refusals recognised. Pure, no
 * editor.
 */
import assert from 'node:assert/strict';
import { teamsRequests } from '../../daemon/src/protocol/teams.js';
import {
  invitationMessage,
  invitationRow,
  inviterName,
  isLastOwner,
  memberName,
  memberRow,
  myInvitationRow,
  projectChoices,
  projectName,
  roleChoices,
  shareQuestion,
  teamRefusal,
  validateEmail,
  validateTeamName,
  withArticle,
  type Project,
  type TeamMember,
} from '../../extension/src/teams/team-format.js';

const ana = '8a6e0804-2bd0-4672-b79d-d97027f9071a';
const ben = '22222222-2222-4222-8222-222222222222';
const since = '2026-11-22T01:00:00.000Z';
const day = (iso: string) => iso.slice(0, 10);
const member = (userId: string, role: TeamMember['role'], email: string | null = null, displayName: string | null = null): TeamMember => ({ userId, email, displayName, role, since });

describe('team-format: team names', () => {
  const cases: [string, RegExp | null][] = [
    ['Platform', null],
    ['  Platform  ', null],
    ['', /needs a name/],
    ['   ', /needs a name/],
    ['x'.repeat(100), null],
    [`  ${'x'.repeat(100)}  `, null],
    ['x'.repeat(101), /at most 100 characters \(this one has 101\)/],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input.length > 20 ? `${input.slice(0, 8)}…(${input.length})` : input)} → ${expected ?? 'accepted'}`, () => {
      const got = validateTeamName(input);
      if (expected === null) assert.equal(got, null);
      else assert.match(got ?? '', expected);
    });
  }

  it('accepts exactly what teams/create accepts once trimmed', () => {
    const name = teamsRequests['teams/create'].params.shape.name;
    for (const input of ['a', 'x'.repeat(100), 'x'.repeat(101), '  spaced  ']) {
      assert.equal(validateTeamName(input) === null, name.safeParse(input.trim()).success, input);
    }
  });
});

describe('team-format: invitation emails', () => {
  const emails = [
    'ana@example.com',
    '  ana@example.com  ',
    'first.last+tag@sub.example.co.uk',
    "o'brien@example.ie",
    'ana@localhost',
    'ana@example',
    'ana@@example.com',
    'ana example@example.com',
    '.ana@example.com',
    'ana..b@example.com',
    'ana@-example.com',
    'ana@example.c',
    '@example.com',
    'ana@',
  ];
  it('agree with the check teams/invite applies at the daemon (zod email), so the box refuses what the daemon would', () => {
    const email = teamsRequests['teams/invite'].params.shape.email;
    for (const e of emails) assert.equal(validateEmail(e) === null, email.safeParse(e.trim()).success, e);
  });

  it('say what is wrong', () => {
    assert.match(validateEmail('') ?? '', /Enter the email address/);
    assert.equal(validateEmail('ana@example'), '“ana@example” is not an email address (like name@example.com).');
    assert.match(validateEmail(`${'a'.repeat(320)}@example.com`) ?? '', /too long/);
  });
});

describe('team-format: roles', () => {
  it('offers owners every role, least power first, each with what it may do', () => {
    const rows = roleChoices('owner');
    assert.deepEqual(rows.map((r) => r.role), ['viewer', 'member', 'admin', 'owner']);
    assert.ok(rows.every((r) => r.description.length > 20), 'every role is described');
    assert.match(rows[0]!.description, /cannot post/);
    assert.match(rows[3]!.description, /always keeps one/);
  });

  it('leaves the owner role out for admins (only owners grant it) and marks the current role', () => {
    assert.deepEqual(roleChoices('admin').map((r) => r.role), ['viewer', 'member', 'admin']);
    assert.deepEqual(roleChoices('owner', 'member').map((r) => r.label), ['viewer', 'member (current)', 'admin', 'owner']);
  });

  it('uses the right article', () => {
    assert.deepEqual(['owner', 'admin', 'member', 'viewer'].map(withArticle), ['an owner', 'an admin', 'a member', 'a viewer']);
  });
});

describe('team-format: members and invitations', () => {
  it('names a member by email, else display name, else a short id', () => {
    assert.equal(memberName(member(ana, 'owner', 'ana@example.com', 'Ana')), 'ana@example.com');
    assert.equal(memberName(member(ana, 'owner', null, 'Ana')), 'Ana');
    assert.equal(memberName(member(ana, 'owner')), '8a6e0804…');
  });

  it('shows role, "you" and the date, and a display name only when it adds something', () => {
    assert.deepEqual(memberRow(member(ana, 'owner', 'ana@example.com', 'ana'), ana, day), {
      label: 'ana@example.com',
      description: 'owner · you',
      detail: 'member since 2026-11-22',
    });
    assert.deepEqual(memberRow(member(ben, 'viewer', 'ben@example.com', 'Ben Okafor'), ana, day), {
      label: 'ben@example.com',
      description: 'viewer',
      detail: 'member since 2026-11-22 · Ben Okafor',
    });
  });

  it('shows an invitation as pending until it expires, with its role, and then as expired', () => {
    const inv = { id: ben, teamId: ana, email: 'cy@example.com', role: 'admin' as const, invitedBy: ana, createdAt: since, expiresAt: '2026-11-29T10:00:00.000Z' };
    assert.deepEqual(invitationRow(inv, day, Date.parse('2026-11-23T00:00:00Z')), {
      label: 'cy@example.com',
      description: 'invited as admin',
      detail: 'pending since 2026-11-22, until 2026-11-29; they join if they accept it, signed in with this email',
    });
    assert.deepEqual(invitationRow(inv, day, Date.parse('2026-11-30T00:00:00Z')), {
      label: 'cy@example.com',
      description: 'invited as admin · expired',
      detail: 'expired on 2026-11-29 unanswered; invite them again to send a new one',
    });
  });

  it("says who invites the invitee, to which team, with which role, until when", () => {
    const inv = { id: ben, teamId: ana, teamName: 'Platform', role: 'member' as const, invitedBy: { id: ana, email: 'ana@example.com', displayName: 'Ana Lima' }, createdAt: since, expiresAt: '2026-11-29T10:00:00.000Z' };
    assert.equal(invitationMessage(inv, day), 'Ana Lima (ana@example.com) invites you to join the team Platform as a member (until 2026-11-29).');
    assert.deepEqual(myInvitationRow(inv, day), {
      label: 'Platform',
      description: 'as a member · from Ana Lima (ana@example.com)',
      detail: "Chats in shared sessions and adds to the project's knowledge base. Open until 2026-11-29.",
    });
    assert.equal(inviterName({ ...inv, invitedBy: { id: ana, email: 'ana@example.com', displayName: 'ana' } }), 'ana@example.com');
    assert.equal(inviterName({ ...inv, invitedBy: null }), 'A former member');
  });

  it('knows the last owner', () => {
    assert.equal(isLastOwner([member(ana, 'owner'), member(ben, 'admin')], ana), true);
    assert.equal(isLastOwner([member(ana, 'owner'), member(ben, 'owner')], ana), false);
    assert.equal(isLastOwner([member(ana, 'owner'), member(ben, 'admin')], ben), false);
  });
});

describe("team-format: the database's refusals, by reason", () => {
  // What a client receives: a JSON-RPC error whose data carries the SQLSTATE and the reason it stands for.
  const refusal = (message: string, data?: Record<string, unknown>) => ({ code: -31902, message, ...(data ? { data } : {}) });
  const cases: [string, ReturnType<typeof refusal>, ReturnType<typeof teamRefusal>][] = [
    ['second factor (CR002)', refusal('managing team members requires a second factor (aal2)', { sqlstate: 'CR002', reason: 'secondFactor' }), 'secondFactor'],
    ['last owner (CR003)', refusal('a team must keep at least one owner', { sqlstate: 'CR003', reason: 'lastOwner' }), 'lastOwner'],
    ['not a member (CR004)', refusal('you are not a member of that team', { sqlstate: 'CR004', reason: 'notMember' }), null],
    ['aal2 in the words but no reason', refusal('managing team members requires a second factor (aal2)', { sqlstate: '42501' }), null],
    ['last owner in the words but no data', refusal('a team must keep at least one owner'), null],
    ['a reason the protocol does not know', refusal('x', { reason: 'toString' }), null],
  ];
  for (const [what, err, kind] of cases) {
    it(`${what} → ${kind ?? 'as it is'}`, () => assert.equal(teamRefusal(err), kind));
  }
});

describe('team-format: projects a folder can map to', () => {
  const teams = [
    { id: 't-zeta', name: 'Zeta' },
    { id: 't-alpha', name: 'Alpha' },
  ];
  const projects: Project[] = [
    { id: 'p-notes', name: 'notes', teamId: null },
    { id: 'p-web', name: 'web', teamId: 't-zeta' },
    { id: 'p-api', name: 'api', teamId: 't-alpha' },
    { id: 'p-cairn', name: 'cairn', teamId: 't-alpha' },
  ];

  it("puts the folder's own project first, then team projects by team and name, then personal ones; marks the current one", () => {
    const rows = projectChoices(projects, teams, 'p-cairn');
    assert.deepEqual(
      rows.map((r) => [r.label, r.description, r.projectId]),
      [
        ["Use this folder's own project", 'forget a choice made here: the project you made for it, else a personal one', null],
        ['Keep this folder personal', 'its own personal project; nothing goes to a team', null],
        ['api', 'team Alpha', 'p-api'],
        ['cairn', 'team Alpha · current', 'p-cairn'],
        ['web', 'team Zeta', 'p-web'],
        ['notes', 'personal', 'p-notes'],
      ],
    );
  });

  it('names a project with where it lives', () => {
    assert.equal(projectName(projects[1]!, teams), '“web” (team Zeta)');
    assert.equal(projectName(projects[0]!, teams), '“notes” (personal)');
    assert.equal(projectName({ id: 'p', name: 'x', teamId: 't-gone' }, teams), '“x” (a team)');
  });
});

describe('team-format: moving a project', () => {
  const teams = [
    { id: '11111111-1111-4111-8111-111111111111', name: 'Platform' },
    { id: '33333333-3333-4333-8333-333333333333', name: 'Web' },
  ];
  const project = { id: '44444444-4444-4444-8444-444444444444', name: 'cairn', teamId: null } as Parameters<typeof shareQuestion>[0];

  it('asks to share a personal project, saying what the team reads', () => {
    const q = shareQuestion(project, teams[0]!, teams);
    assert.equal(q.message, 'Share “cairn” with Platform?');
    assert.match(q.detail, /^The project moves into the team: its members read its knowledge base .* Private sessions stay private\.$/);
  });

  it("asks to move a team's project, saying what the team it leaves loses and that both sides must agree", () => {
    const q = shareQuestion({ ...project, teamId: teams[1]!.id }, teams[0]!, teams);
    assert.equal(q.message, 'Move “cairn” from Web to Platform?');
    assert.match(q.detail, /^The project leaves Web: its members no longer read the project's shared sessions, knowledge base and tasks\. In Platform, /);
    assert.match(q.detail, /takes an owner or admin of both teams, and both teams' audit logs record it\.$/);
  });
});
