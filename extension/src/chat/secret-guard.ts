/**
 * The warning before text with a secret in it leaves the machine (a chat message to the model, a session shared
 * with the team). Pure: the daemon finds the secrets (`secrets/check`), the user chooses through `ask`, and this
 * module decides what is sent. No `vscode` import, so it is tested without an editor.
 */
import type { ResultOf } from '../../../daemon/src/protocol/index.js';

export type SecretCheck = ResultOf<'secrets/check'>;
export type SecretFinding = SecretCheck['findings'][number];

/** The three answers, as the buttons read. */
export const SECRET_CHOICES = { redact: 'Redact and send', send: 'Send anyway', cancel: 'Cancel' } as const;
export type SecretChoice = keyof typeof SECRET_CHOICES;

/** What the user reads: how many secrets, of which kinds, on which lines (never the values). */
export function describeFindings(findings: readonly SecretFinding[], what = 'This message'): string {
  const where = findings
    .slice(0, 5)
    .map((f) => `${f.rule} on line ${f.line}`)
    .join(', ');
  const more = findings.length > 5 ? `, and ${findings.length - 5} more` : '';
  const n = findings.length === 1 ? 'what looks like a secret' : `${findings.length} things that look like secrets`;
  return `${what} contains ${n} (${where}${more}). Sent as it is, it reaches the model provider, and your team if the session is shared.`;
}

/**
 * The text to send after checking it: unchanged when it holds no secret or the user sends it anyway, with each
 * secret replaced by `[redacted: <rule>]` when they redact, null when they cancel (or dismiss the question).
 */
export async function screenOutgoing(
  text: string,
  check: (text: string) => Promise<SecretCheck>,
  ask: (question: string, findings: readonly SecretFinding[]) => Promise<SecretChoice | undefined>,
): Promise<string | null> {
  const result = await check(text);
  if (result.findings.length === 0) return text;
  const choice = (await ask(describeFindings(result.findings), result.findings)) ?? 'cancel';
  if (choice === 'redact') return result.redacted;
  if (choice === 'send') return text;
  return null;
}

/** The longest text one `secrets/check` takes; longer messages are checked in pieces. */
const CHECK_CHARS = 200_000;

/** Secrets in a session's messages (before it is shared), each with the message's number. */
export async function findingsInMessages(
  messages: ReadonlyArray<{ seq: number; content: string }>,
  check: (text: string) => Promise<SecretCheck>,
): Promise<Array<{ seq: number; rule: string }>> {
  const out: Array<{ seq: number; rule: string }> = [];
  for (const m of messages) {
    for (let at = 0; at < m.content.length; at += CHECK_CHARS) {
      for (const f of (await check(m.content.slice(at, at + CHECK_CHARS))).findings) out.push({ seq: m.seq, rule: f.rule });
    }
  }
  return out;
}

/** The question before sharing a session that holds secrets (stored messages are not rewritten: share or not). */
export function describeShareFindings(title: string, found: ReadonlyArray<{ seq: number; rule: string }>): string {
  const where = found
    .slice(0, 5)
    .map((f) => `${f.rule} in message #${f.seq}`)
    .join(', ');
  const more = found.length > 5 ? `, and ${found.length - 5} more` : '';
  const n = found.length === 1 ? 'what looks like a secret' : `${found.length} things that look like secrets`;
  return `“${title}” contains ${n} (${where}${more}). Shared, everyone in the project's team can read them.`;
}
