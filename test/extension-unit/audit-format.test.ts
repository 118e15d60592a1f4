/**
 * The audit log as a person reads it: each entry's sentence from its table, action and old/new values, the
 * "who" from the member list, and the Markdown table escaping what teammates typed. Pure formatting, no editor.
 */
import assert from 'node:assert/strict';
import { describeEntry, personLabel, renderAuditLog, type AuditEntry, type TeamMember } from '../../extension/src/teams/audit-format.js';

const ana = '8a6e0804-2bd0-4672-b79d-d97027f9071a';
const ben = '22222222-2222-4222-8222-222222222222';
const gone = '33333333-3333-4333-8333-333333333333';
const members: TeamMember[] = [
  { userId: ana, email: 'ana@example.com', displayName: 'ana', role: 'owner', since: '2026-11-22T01:00:00.000Z' },
  { userId: ben, email: null, displayName: 'Ben', role: 'member', since: '2026-11-22T01:00:00.000Z' },
];

let nextId = 1;
function entry(table: string, action: AuditEntry['action'], oldValues: Record<string, unknown> | null, newValues: Record<string, unknown> | null, actorId: string | null = ana): AuditEntry {
  return { id: `00000000-0000-4000-8000-${String(nextId++).padStart(12, "0")}`, actorId, action, table, recordId: 'r1', oldValues, newValues, at: '2026-11-22T01:05:00.000Z' };
}

const session = { id: 's1', title: 'Release plan', visibility: 'private', project_id: 'p1', archived_at: null, message_count: 3, updated_at: 't1' };

describe('audit log formatting', () => {
  const cases: [string, AuditEntry, string][] = [
    ['session started', entry('sessions', 'insert', null, session), 'started session “Release plan”'],
    ['session shared', entry('sessions', 'update', session, { ...session, visibility: 'team', updated_at: 't2' }), 'shared session “Release plan” with the team'],
    ['session made private', entry('sessions', 'update', { ...session, visibility: 'team' }, session), 'made session “Release plan” private'],
    // As the team's log stores it: the side where the session was private has no title (docs/sql-api.md).
    ['session shared, its private title withheld', entry('sessions', 'update', (({ title: _t, ...rest }) => rest)(session), { ...session, visibility: 'team', updated_at: 't2' }), 'shared session “Release plan” with the team'],
    ['session renamed', entry('sessions', 'update', session, { ...session, title: 'Launch plan' }), 'renamed session “Release plan” to “Launch plan”'],
    ['session archived', entry('sessions', 'update', session, { ...session, archived_at: '2026-11-22T02:00:00Z' }), 'archived session “Release plan”'],
    ['session deleted', entry('sessions', 'delete', session, null), 'deleted session “Release plan”'],
    ['team created', entry('teams', 'insert', null, { id: 't', name: 'Platform', slug: 'platform-1' }), 'created team “Platform”'],
    ['team renamed', entry('teams', 'update', { name: 'Platform' }, { name: 'Platform team' }), 'renamed team “Platform” to “Platform team”'],
    ['creator joins as owner', entry('team_members', 'insert', null, { team_id: 't', user_id: ana, role: 'owner' }), 'joined the team as owner'],
    ['member added', entry('team_members', 'insert', null, { team_id: 't', user_id: ben, role: 'member' }), 'added Ben to the team as member'],
    [
      'role changed',
      entry('team_members', 'update', { team_id: 't', user_id: ben, role: 'member', updated_at: 'a' }, { team_id: 't', user_id: ben, role: 'admin', updated_at: 'b' }),
      'changed role of Ben from member to admin',
    ],
    ['member removed, id only', entry('team_members', 'delete', { team_id: 't', user_id: gone, role: 'viewer' }, null), 'removed 33333333… from the team (was viewer)'],
    ['member left', entry('team_members', 'delete', { team_id: 't', user_id: ben, role: 'member' }, null, ben), 'left the team'],
    ['invitation', entry('team_invitations', 'insert', null, { email: 'cy@example.com', role: 'admin', accepted_at: null }), 'invited cy@example.com as admin'],
    [
      'invitation accepted',
      entry('team_invitations', 'update', { email: 'cy@example.com', role: 'admin', accepted_at: null }, { email: 'cy@example.com', role: 'admin', accepted_at: 'x' }),
      'cy@example.com accepted the invitation (as admin)',
    ],
    ['invitation withdrawn', entry('team_invitations', 'delete', { email: 'cy@example.com', accepted_at: null }, null), 'withdrew the invitation of cy@example.com'],
    ['project moved into the team', entry('projects', 'update', { name: 'cairn', team_id: null }, { name: 'cairn', team_id: 't' }), 'moved project “cairn” into the team'],
    ['project made personal', entry('projects', 'update', { name: 'cairn', team_id: 't' }, { name: 'cairn', team_id: null }), 'made project “cairn” personal'],
    ['agent changed', entry('agents', 'update', { name: 'Reviewer', temperature: 0.2 }, { name: 'Reviewer', temperature: 0.7 }), 'changed temperature of agent “Reviewer”'],
    ['kb file added', entry('kb_sources', 'insert', null, { kind: 'file', uri: 'docs/guide.md', title: null }), 'added file “docs/guide.md” to the knowledge base'],
    ['kb url removed', entry('kb_sources', 'delete', { kind: 'url', uri: 'https://example.com/a', title: 'A page' }, null), 'removed web page “A page” from the knowledge base'],
    ['unknown table, generic', entry('widgets', 'update', { name: 'w', colour_code: 1 }, { name: 'w', colour_code: 2 }), 'changed colour code of “w” in widgets'],
    ['unknown table without values', entry('widgets', 'delete', null, null), 'deleted r1 from widgets'],
  ];
  for (const [name, e, expected] of cases) {
    it(`describes: ${name}`, () => assert.equal(describeEntry(e, members), expected));
  }

  it('names people by email, then display name, then a short id; no actor is the system', () => {
    assert.equal(personLabel(ana, members), 'ana@example.com');
    assert.equal(personLabel(ben, members), 'Ben');
    assert.equal(personLabel(gone, members), '33333333…');
    assert.equal(personLabel(null, members), 'system');
  });

  it('renders newest-first rows in a Markdown table with the limit stated, escaping what people typed', () => {
    const hostile = { ...session, title: 'a | b <img src=x> [link](http://x) *bold*\nnext' };
    const text = renderAuditLog(
      {
        teamName: 'Platform',
        entries: [entry('sessions', 'update', hostile, { ...hostile, visibility: 'team' }), entry('teams', 'insert', null, { name: 'Platform' }, null)],
        members,
        pageSize: 2,
        hasMore: true,
      },
      { formatTime: (iso) => `T(${iso})`, timeZone: 'Europe/Berlin' },
    );
    const lines = text.split('\n');
    assert.equal(lines[0], '# Audit log of Platform');
    assert.match(text, /the 2 entries loaded so far, 2 per page\. Older entries exist/);
    assert.match(text, /Times are local \(Europe\/Berlin\)/);
    const rows = lines.filter((l) => l.startsWith('| T('));
    assert.equal(rows.length, 2);
    assert.equal(rows[0], '| T(2026-11-22T01:05:00.000Z) | ana@example.com | shared session “a \\| b &lt;img src=x&gt; \\[link\\](http://x) \\*bold\\* next” with the team |');
    assert.equal(rows[1], '| T(2026-11-22T01:05:00.000Z) | system | created team “Platform” |');
    // Each row has exactly the three columns: no escaped pipe counts as a separator.
    for (const r of rows) assert.equal(r.split(/(?<!\\)\|/).length - 2, 3);
  });

  it('says when everything is shown, and when there is nothing yet', () => {
    const one = renderAuditLog({ teamName: 'P', entries: [entry('teams', 'insert', null, { name: 'P' })], members, pageSize: 100, hasMore: false });
    assert.match(one, /Newest first: all 1 entry\./);
    const none = renderAuditLog({ teamName: 'P', entries: [], members, pageSize: 100, hasMore: false });
    assert.match(none, /No entries yet/);
    assert.doesNotMatch(none, /\| When/);
  });
});
