/**
 * The team audit log as Markdown a person reads: one table row per entry (when, who, what), the "what" a short
 * sentence derived from the row's table, action and old/new values. Pure (no `vscode`), so it is unit-tested
 * in Node (test/extension-unit/audit-format.test.ts).
 */
import type { ResultOf } from '../../../daemon/src/protocol/index.js';

export type AuditEntry = ResultOf<'teams/auditLog'>[number];
export type TeamMember = ResultOf<'teams/members'>[number];

export interface AuditPage {
  teamName: string;
  /** Newest first, as the daemon returns them. */
  entries: readonly AuditEntry[];
  members: readonly TeamMember[];
  /** How many entries one page asks for (the limit stated in the view). */
  pageSize: number;
  /** True when the last page came back full, so older entries may exist. */
  hasMore: boolean;
}

export interface FormatOptions {
  /** Formats an ISO time for the reader (default: the runtime's locale and time zone). */
  formatTime?(iso: string): string;
  /** Named in the header so the reader knows what "local" means (default: the runtime's time zone). */
  timeZone?: string;
}

type Values = Record<string, unknown>;

/** Columns that change on nearly every write and say nothing about what a person did. */
const NOISE = new Set(['updated_at', 'created_at', 'last_message_at', 'message_count', 'indexed_at']);

const TITLE_MAX = 80;

/** `8a6e0804…`: enough of an id to tell people apart in one team. */
export function shortId(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

/** Who a user id is, as far as the team's member list tells: email, then display name, then the short id. */
export function personLabel(userId: string | null | undefined, members: readonly TeamMember[]): string {
  if (!userId) return 'system';
  const m = members.find((x) => x.userId === userId);
  return m?.email ?? m?.displayName ?? shortId(userId);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

function quoted(v: unknown, fallback: string): string {
  const s = str(v);
  if (!s) return fallback;
  const one = s.replace(/\s+/g, ' ').trim();
  return `“${one.length > TITLE_MAX ? `${one.slice(0, TITLE_MAX - 1)}…` : one}”`;
}

/** Column names whose values differ between the old and the new row, noise left out. */
export function changedFields(oldValues: Values | null, newValues: Values | null): string[] {
  const keys = new Set([...Object.keys(oldValues ?? {}), ...Object.keys(newValues ?? {})]);
  // A column only one side holds was withheld on the other (a private session's title stays out of the team's
  // log, docs/sql-api.md): that is not a change.
  const withheld = (k: string) => oldValues !== null && newValues !== null && !(k in oldValues && k in newValues);
  return [...keys]
    .filter((k) => !NOISE.has(k) && !withheld(k) && JSON.stringify(oldValues?.[k] ?? null) !== JSON.stringify(newValues?.[k] ?? null))
    .sort();
}

function fieldList(fields: string[]): string {
  return fields.map((f) => f.replace(/_/g, ' ')).join(', ');
}

const KB_KINDS: Record<string, string> = { file: 'file', document: 'document', url: 'web page', faq: 'FAQ entry' };

/** One sentence for one entry, e.g. `shared session “Release plan” with the team`. */
export function describeEntry(e: AuditEntry, members: readonly TeamMember[]): string {
  const o = e.oldValues ?? {};
  const n = e.newValues ?? {};
  const row = { ...o, ...n };
  const changed = e.action === 'update' ? changedFields(e.oldValues, e.newValues) : [];
  const person = (id: unknown) => personLabel(typeof id === 'string' ? id : null, members);

  switch (e.table) {
    case 'sessions': {
      const title = quoted(n.title ?? o.title, 'an untitled session');
      if (e.action === 'insert') return `started ${n.visibility === 'team' ? 'team ' : ''}session ${title}`;
      if (e.action === 'delete') return `deleted session ${title}`;
      const parts: string[] = [];
      if (changed.includes('title')) parts.push(`renamed session ${quoted(o.title, 'an untitled session')} to ${quoted(n.title, 'an untitled session')}`);
      if (changed.includes('visibility')) parts.push(n.visibility === 'team' ? `shared session ${title} with the team` : `made session ${title} private`);
      if (changed.includes('archived_at')) parts.push(n.archived_at ? `archived session ${title}` : `restored session ${title} from the archive`);
      if (changed.includes('project_id')) parts.push(`moved session ${title} to another project`);
      const rest = changed.filter((f) => !['title', 'visibility', 'archived_at', 'project_id'].includes(f));
      if (rest.length > 0) parts.push(`changed ${fieldList(rest)} of session ${title}`);
      return parts.length > 0 ? parts.join('; ') : `touched session ${title}`;
    }
    case 'teams': {
      const name = quoted(n.name ?? o.name, 'the team');
      if (e.action === 'insert') return `created team ${name}`;
      if (e.action === 'delete') return `deleted team ${name}`;
      if (changed.includes('name')) return `renamed team ${quoted(o.name, 'the team')} to ${quoted(n.name, 'the team')}`;
      return changed.length > 0 ? `changed ${fieldList(changed)} of team ${name}` : `touched team ${name}`;
    }
    case 'team_members': {
      const who = person(row.user_id);
      const self = row.user_id === e.actorId;
      if (e.action === 'insert') return self ? `joined the team as ${str(n.role) ?? 'member'}` : `added ${who} to the team as ${str(n.role) ?? 'member'}`;
      if (e.action === 'delete') return self ? `left the team` : `removed ${who} from the team${str(o.role) ? ` (was ${o.role})` : ''}`;
      if (changed.includes('role')) return `changed role of ${who} from ${str(o.role) ?? 'unknown'} to ${str(n.role) ?? 'unknown'}`;
      return changed.length > 0 ? `changed ${fieldList(changed)} of member ${who}` : `touched member ${who}`;
    }
    case 'team_invitations': {
      const email = str(row.email) ?? 'someone';
      if (e.action === 'insert') return `invited ${email} as ${str(n.role) ?? 'member'}`;
      if (e.action === 'delete') return o.accepted_at ? `deleted the accepted invitation of ${email}` : `withdrew the invitation of ${email}`;
      if (changed.includes('accepted_at') && n.accepted_at) return `${email} accepted the invitation (as ${str(n.role) ?? 'member'})`;
      return changed.length > 0 ? `changed ${fieldList(changed)} of the invitation of ${email}` : `touched the invitation of ${email}`;
    }
    case 'projects': {
      const name = quoted(n.name ?? o.name, 'a project');
      if (e.action === 'insert') return `created project ${name}`;
      if (e.action === 'delete') return `deleted project ${name}`;
      const parts: string[] = [];
      if (changed.includes('name')) parts.push(`renamed project ${quoted(o.name, 'a project')} to ${quoted(n.name, 'a project')}`);
      if (changed.includes('team_id')) parts.push(n.team_id ? (o.team_id ? `moved project ${name} from another team into this one` : `moved project ${name} into the team`) : `made project ${name} personal`);
      const rest = changed.filter((f) => f !== 'name' && f !== 'team_id');
      if (rest.length > 0) parts.push(`changed ${fieldList(rest)} of project ${name}`);
      return parts.length > 0 ? parts.join('; ') : `touched project ${name}`;
    }
    case 'agents': {
      const name = quoted(n.name ?? o.name, 'an agent');
      if (e.action === 'insert') return `created agent ${name}`;
      if (e.action === 'delete') return `deleted agent ${name}`;
      if (changed.includes('name')) {
        const rest = changed.filter((f) => f !== 'name');
        return `renamed agent ${quoted(o.name, 'an agent')} to ${quoted(n.name, 'an agent')}${rest.length > 0 ? ` and changed its ${fieldList(rest)}` : ''}`;
      }
      return changed.length > 0 ? `changed ${fieldList(changed)} of agent ${name}` : `touched agent ${name}`;
    }
    case 'kb_sources': {
      const kind = KB_KINDS[String(row.kind)] ?? 'source';
      const what = `${kind} ${quoted(row.title ?? row.uri, 'without a name')}`;
      if (e.action === 'insert') return `added ${what} to the knowledge base`;
      if (e.action === 'delete') return `removed ${what} from the knowledge base`;
      return `changed ${what} in the knowledge base`;
    }
    default: {
      const table = e.table.replace(/_/g, ' ');
      const name = quoted(row.name ?? row.title, e.recordId ? shortId(e.recordId) : 'a row');
      if (e.action === 'insert') return `added ${name} to ${table}`;
      if (e.action === 'delete') return `deleted ${name} from ${table}`;
      return changed.length > 0 ? `changed ${fieldList(changed)} of ${name} in ${table}` : `touched ${name} in ${table}`;
    }
  }
}

/**
 * Escapes text for a Markdown table cell: nothing a teammate typed (a session title, an agent name) can add
 * a column, a link, emphasis or HTML to the view.
 */
export function escapeCell(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1');
}

const defaultTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** The whole view: a heading, what is shown (order, time zone, limit), then the table. */
export function renderAuditLog(page: AuditPage, opts: FormatOptions = {}): string {
  const formatTime = opts.formatTime ?? ((iso: string) => defaultTime.format(new Date(iso)));
  const timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const lines = [`# Audit log of ${escapeCell(page.teamName)}`, ''];
  const n = page.entries.length;
  if (n === 0) {
    lines.push('No entries yet: changes to the team, its members, projects, shared sessions and knowledge base appear here.', '');
    return lines.join('\n');
  }
  const shown = n === 1 ? '1 entry' : `${n} entries`;
  lines.push(
    page.hasMore
      ? `Newest first: the ${shown} loaded so far, ${page.pageSize} per page. Older entries exist; run “Cairn: Show Team Audit Log” and choose **Load Older** to add the next ${page.pageSize}.`
      : `Newest first: all ${shown}.`,
    '',
    `Times are local (${escapeCell(timeZone)}).`,
    '',
    '| When | Who | What |',
    '| --- | --- | --- |',
  );
  for (const e of page.entries) {
    lines.push(`| ${escapeCell(formatTime(e.at))} | ${escapeCell(personLabel(e.actorId, page.members))} | ${escapeCell(describeEntry(e, page.members))} |`);
  }
  lines.push('');
  return lines.join('\n');
}
