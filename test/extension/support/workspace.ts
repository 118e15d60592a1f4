/** A small workspace for the editor tests: a few source and doc files with distinctive words to search for. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const fixtureFiles: Record<string, string> = {
  'src/billing/invoice.ts': [
    '// Invoices for the billing service.',
    'export interface Invoice {',
    '  id: string;',
    '  amountCents: number;',
    '}',
    '',
    '/** Rounds half-cents the way the tax office wants: banker\'s rounding. */',
    'export function computeQuarterlyTaxRebate(invoice: Invoice): number {',
    '  const rebate = invoice.amountCents * 0.07;',
    '  return Math.round(rebate);',
    '}',
    '',
  ].join('\n'),
  'src/auth/session.ts': [
    'export function rotateRefreshToken(token: string): string {',
    '  return token.split("").reverse().join("");',
    '}',
    '',
  ].join('\n'),
  'docs/guide.md': [
    '# Team guide',
    '',
    '## Deployments',
    '',
    'We deploy on Tuesdays. The release captain is chosen by the zebra rota.',
    '',
    '## Support',
    '',
    'Escalate pager incidents to the on-call lighthouse keeper.',
    '',
  ].join('\n'),
};

export async function makeWorkspace(dir: string, settings: Record<string, unknown>): Promise<string> {
  for (const [path, text] of Object.entries(fixtureFiles)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await mkdir(join(dir, '.vscode'), { recursive: true });
  await writeFile(join(dir, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  return dir;
}
