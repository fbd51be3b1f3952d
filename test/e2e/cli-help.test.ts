/**
 * Every `lamassu <noun> <verb>` documents itself: a description and at least one example that names the
 * command itself. In-process (commander's own help rendering), so it covers every command cheaply.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { cliProgram } from '../../src/cli/index.ts';

function leaves(cmd: Command, trail: string[] = []): { path: string[]; cmd: Command }[] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [{ path: trail, cmd }];
  return subs.flatMap((c) => leaves(c, [...trail, c.name()]));
}

test('every command has a description and examples that use it', () => {
  const all = leaves(cliProgram());
  assert.ok(all.length >= 25, `only ${all.length} commands`);
  for (const { path, cmd } of all) {
    let help = '';
    cmd.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
    cmd.outputHelp();
    assert.ok(cmd.description().length > 3, `${path.join(' ')} has no description`);
    assert.match(help, /\nExamples:\n/, `${path.join(' ')} has no examples`);
    assert.ok(help.includes(`$ lamassu ${path.join(' ')}`), `${path.join(' ')}: no example runs it`);
    assert.match(help, /--json/, `${path.join(' ')}: global options not shown`);
  }
});
