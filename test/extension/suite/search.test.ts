import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { cairn, logText, ready, waitFor } from './helpers.js';
import { openHit, searchItems } from '../../../extension/src/search.js';

describe('knowledge base', function () {
  this.timeout(120_000);

  it('indexes the workspace with a progress notification and finds a function by name', async () => {
    const api = await cairn();
    const client = await ready(api);
    // Not indexed yet: the status bar says so and indexes on one click.
    await waitFor(`the status bar to offer indexing (${api.status.text}; ${api.status.tooltip}; log: ${logText(api).split("\n").filter((l) => /index|status/i.test(l)).slice(-8).join(" / ")})`, () => api.status.command === 'cairn.indexWorkspace' && /index this workspace/.test(api.status.text));
    assert.match(api.status.tooltip, /not indexed yet/);
    const summary = await vscode.commands.executeCommand<{ files: number; complete: boolean } | null>('cairn.indexWorkspace');
    assert.ok(summary, 'indexing returned a summary');
    assert.equal(summary.complete, true);
    await waitFor(`the status bar to show the index (${api.status.tooltip})`, () => api.status.text.startsWith('$(check)') && new RegExp(`Indexed: ${summary.files} files`).test(api.status.tooltip));
    // The Output channel carries the run's summary.
    await waitFor('the indexing summary in the Output channel', () => new RegExp(`Cairn indexed ${summary.files} files`).test(logText(api)));
    const root = api.ctx.workspaceRoot()!;
    const hits = await client.request('kb/search', { root, query: 'computeQuarterlyTaxRebate', limit: 5 });
    assert.equal(hits[0]?.path, 'src/billing/invoice.ts');
  });

  it('opens a search result at its line range', async () => {
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const hits = await client.request('kb/search', { root, query: 'zebra rota release captain', limit: 5 });
    const hit = hits.find((h) => h.path === 'docs/guide.md');
    assert.ok(hit, `docs/guide.md is among ${hits.map((h) => h.path).join(', ')}`);
    await openHit(root, hit);
    const editor = await waitFor('the editor', () => vscode.window.activeTextEditor);
    assert.ok(editor.document.uri.fsPath.endsWith('docs/guide.md'));
    assert.equal(editor.selection.start.line, hit.startLine - 1);
    assert.equal(editor.selection.end.line, hit.endLine - 1);
    assert.match(editor.document.getText(editor.selection), /zebra rota/);
  });

  it('shows each result with the symbol it sits in and the query highlighted, and nothing when nothing matches', async () => {
    const api = await cairn();
    const client = await ready(api);
    const root = api.ctx.workspaceRoot()!;
    const lit = (text: string | undefined, ranges: [number, number][] | undefined) => (ranges ?? []).map(([a, b]) => (text ?? '').slice(a, b));

    const [first] = await searchItems(client, root, 'computeQuarterlyTaxRebate');
    assert.equal(first?.hit?.path, 'src/billing/invoice.ts');
    assert.match(first.description ?? '', /^(function )?computeQuarterlyTaxRebate · lines \d+–\d+$/);
    assert.deepEqual(lit(first.description, first.highlights?.description), ['computeQuarterlyTaxRebate']);
    assert.ok(lit(first.detail, first.highlights?.detail).includes('computeQuarterlyTaxRebate'), `${first.detail} ${JSON.stringify(first.highlights)}`);

    // Words in a sentence light up one by one, identifier parts included.
    const items = await searchItems(client, root, 'rotate the refresh token');
    const session = items.find((i) => i.hit?.path === 'src/auth/session.ts');
    assert.ok(session, items.map((i) => i.hit?.path).join(', '));
    assert.deepEqual(lit(session.description, session.highlights?.description), ['rotateRefreshToken']);
    assert.ok(lit(session.detail, session.highlights?.detail).includes('rotateRefreshToken'), session.detail);

    // A query no file has anything to do with shows no result at all.
    assert.deepEqual(await searchItems(client, root, 'xylophone quasar nebula'), []);
  });
});
