/** `secrets` namespace of the Cairn protocol: what a client asks before text leaves the machine. See define.ts. */
import { z } from 'zod';
import { request } from './define.js';

export const secretFinding = z.object({
  rule: z.string().describe('The rule that matched: a secretlint rule (`aws`, `github`, `privatekey`, …) or `jwt`, `assigned-secret`, `url-password`.'),
  start: z.number().int().describe('UTF-16 offset of the secret\'s first character in the text.'),
  end: z.number().int().describe('UTF-16 offset just past the secret.'),
  line: z.number().int().describe('1-based line of `start`.'),
  column: z.number().int().describe('1-based column of `start` (UTF-16 units).'),
});

export const secretsRequests = {
  'secrets/check': request('secrets/check', {
    summary:
      'Finds secrets (keys, tokens, private keys, connection strings, JWTs, …) in a text the user is about to send to a model or ' +
      'share with a team, such as a chat message. Answers where they are and by which rule, and the text with each replaced by ' +
      '`[redacted: <rule>]`; never the values themselves. Nothing is stored or logged.',
    params: z.object({
      text: z.string().max(200_000).describe('The text to check, e.g. a chat message before `chat/send`.'),
    }),
    result: z.object({
      findings: z.array(secretFinding).describe('Each secret found, in order; empty when there is none.'),
      redacted: z.string().describe('The text with each finding replaced by `[redacted: <rule>]` (the text itself when there is none).'),
    }),
    errors: [],
    example: {
      // Not a real credential, and of a kind only Cairn's own rules name, so packaging scanners (vsce) that
      // read the bundled protocol do not stop on the example.
      params: { text: 'deploy with DB_PASSWORD="t9Qm4Lx2Vb7Rk1Zp8Wc3"' },
      result: {
        findings: [{ rule: 'assigned-secret', start: 25, end: 45, line: 1, column: 26 }],
        redacted: 'deploy with DB_PASSWORD="[redacted: assigned-secret]"',
      },
    },
  }),
} as const;

export const secretsNotifications = {} as const;
