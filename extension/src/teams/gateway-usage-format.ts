/**
 * The team model gateway's usage (`teams/gatewayUsage`) as a Markdown document a person reads: one row per
 * member and model, biggest first, with totals per member and for the team. Pure: no `vscode`.
 */
import type { ResultOf } from '../../../daemon/src/protocol/index.js';

export type GatewayUsage = ResultOf<'teams/gatewayUsage'>;

const n = (v: number) => v.toLocaleString('en-US');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

export function renderGatewayUsage(teamName: string, usage: GatewayUsage, now = new Date()): string {
  const since = usage.since.slice(0, 10);
  const lines = [`# ${cell(teamName)}: model usage through the team gateway`, '', `Since ${since} (UTC), as of ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC. Tokens are the provider's usage reports.`, ''];
  if (usage.rows.length === 0) {
    lines.push('No requests through the gateway in this period.');
    return lines.join('\n') + '\n';
  }
  const who = (r: GatewayUsage['rows'][number]) => r.displayName ? `${r.displayName} (${r.email ?? 'no email'})` : r.email ?? 'a deleted user';
  const total = (r: { promptTokens: number; completionTokens: number }) => r.promptTokens + r.completionTokens;
  const byMember = new Map<string, { name: string; requests: number; promptTokens: number; completionTokens: number }>();
  for (const r of usage.rows) {
    const m = byMember.get(r.userId) ?? { name: who(r), requests: 0, promptTokens: 0, completionTokens: 0 };
    m.requests += r.requests;
    m.promptTokens += r.promptTokens;
    m.completionTokens += r.completionTokens;
    byMember.set(r.userId, m);
  }
  lines.push('| Member | Model | Kind | Requests | Prompt tokens | Completion tokens | Total tokens |', '|---|---|---|--:|--:|--:|--:|');
  const rows = [...usage.rows].sort((a, b) => total(byMember.get(b.userId)!) - total(byMember.get(a.userId)!) || a.userId.localeCompare(b.userId) || total(b) - total(a));
  for (const r of rows) {
    lines.push(`| ${cell(who(r))} | ${cell(r.model)} | ${r.kind} | ${n(r.requests)} | ${n(r.promptTokens)} | ${n(r.completionTokens)} | ${n(total(r))} |`);
  }
  lines.push('', '| Member | Requests | Total tokens |', '|---|--:|--:|');
  const members = [...byMember.values()].sort((a, b) => total(b) - total(a));
  for (const m of members) lines.push(`| ${cell(m.name)} | ${n(m.requests)} | ${n(total(m))} |`);
  const team = members.reduce((a, m) => ({ requests: a.requests + m.requests, tokens: a.tokens + total(m) }), { requests: 0, tokens: 0 });
  lines.push(`| **Team** | **${n(team.requests)}** | **${n(team.tokens)}** |`);
  return lines.join('\n') + '\n';
}
