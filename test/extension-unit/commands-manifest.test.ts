/**
 * The commands package.json contributes are exactly those the extension registers: a command only in the
 * manifest shows in the palette and fails with "command not found"; one only in the code is unreachable from the
 * palette and keybindings. The extension registers every command from `createCommands()` (extension/src/commands.ts),
 * read here from its source, since that module needs `vscode`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const repo = join(import.meta.dirname, '..', '..');

/** The keys of the object literal `createCommands()` returns. */
function registeredCommands(): string[] {
  const file = join(repo, 'extension', 'src', 'commands.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) && node.name?.text === 'createCommands') {
      const ret = node.body?.statements.find(ts.isReturnStatement);
      assert.ok(ret?.expression && ts.isObjectLiteralExpression(ret.expression), 'createCommands returns an object literal');
      for (const p of ret.expression.properties) {
        assert.ok(p.name && (ts.isStringLiteral(p.name) || ts.isIdentifier(p.name)), `a command name is a literal: ${p.getText()}`);
        names.push(p.name.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names.sort();
}

describe('package.json commands', () => {
  it('are exactly the commands the extension registers', () => {
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    const registered = registeredCommands();
    assert.ok(registered.length > 20, `found the registered commands (${registered.length})`);
    assert.deepEqual(
      { onlyInManifest: contributed.filter((c) => !registered.includes(c)), onlyInCode: registered.filter((c) => !contributed.includes(c)) },
      { onlyInManifest: [], onlyInCode: [] },
    );
  });
});
