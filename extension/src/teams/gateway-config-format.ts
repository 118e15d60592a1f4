/**
 * What "Cairn: Configure Team Model Gateway" asks for, checked and read as a person types it: the model list
 * and the limits (an empty box is no limit). Pure: no `vscode`.
 */
import type { ResultOf } from '../../../daemon/src/protocol/index.js';

export type GatewaySettings = NonNullable<ResultOf<'teams/gateway'>>;

/** The models a box of names separated by commas or spaces holds, each once, in the order typed. */
export function parseModels(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

export function validateModels(text: string): string | null {
  const models = parseModels(text);
  if (models.length === 0) return 'Name at least one model, e.g. gpt-4o-mini, text-embedding-3-small';
  if (models.length > 100) return 'At most 100 models';
  const long = models.find((m) => m.length > 200);
  return long ? `A model name has at most 200 characters: ${long.slice(0, 40)}…` : null;
}

/** A limit box: empty is no limit; else a whole number (thousands separators allowed). */
export function parseLimit(text: string): number | null {
  const t = text.trim().replace(/[,_\s]/g, '');
  return t === '' ? null : Number(t);
}

export function validateLimit(text: string, min: number): string | null {
  const n = parseLimit(text);
  if (n === null) return null;
  if (!Number.isSafeInteger(n) || n < min) return `A whole number of at least ${min}, or empty for no limit`;
  return null;
}

export const showLimit = (n: number | null): string => (n === null ? '' : String(n));

/** One line saying what members now get, for the message after saving. */
export function describeGateway(teamName: string, s: GatewaySettings): string {
  const limit = (n: number | null, unit: string) => (n === null ? 'no limit' : `${n.toLocaleString('en-US')} ${unit}`);
  return (
    `the model gateway of ${teamName} allows ${s.allowedModels.join(', ')}` +
    `; chat: ${s.chatModel ?? "each member's choice if allowed"}` +
    `; indexing: ${s.embeddingModel ?? "each member's own embedder"}` +
    `; budgets: team ${limit(s.teamMonthlyTokens, 'tokens a month')}, each member ${limit(s.memberMonthlyTokens, 'tokens a month')}` +
    `, ${limit(s.memberRequestsPerMinute, 'requests a minute')}.`
  );
}
