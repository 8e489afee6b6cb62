// src/cli/main.ts lists every command with the line `svc --help` prints for it, so that help
// needs no command module loaded: each entry must say what its real definition says.
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandWord, COMMANDS } from '../../src/cli/main.js';

describe('the command list of src/cli/main.ts', () => {
  it.each(COMMANDS.map((entry) => [entry.term, entry]))(
    '%s matches its definition',
    async (_, entry) => {
      const command = await entry.load();
      const help = new Help();
      expect(help.subcommandTerm(command)).toBe(entry.term);
      expect(help.subcommandDescription(command)).toBe(entry.summary);
    },
  );

  it('names each command once', () => {
    const names = COMMANDS.map((entry) => entry.term.split(' ')[0]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('svc --help prints the same command lines as with every command loaded', async () => {
    const stubs = await buildProgram([]);
    const help = stubs.createHelp();
    const lines = await Promise.all(
      COMMANDS.map(async (entry) => {
        const name = entry.term.split(' ')[0] ?? '';
        const real = (await buildProgram([name])).commands.find((c) => c.name() === name);
        return real ? `${help.subcommandTerm(real)}  ${help.subcommandDescription(real)}` : '';
      }),
    );
    expect(
      stubs.commands.map((c) => `${help.subcommandTerm(c)}  ${help.subcommandDescription(c)}`),
    ).toEqual(lines);
  });
});

describe('commandWord', () => {
  it.each([
    [[], undefined],
    [['--version'], undefined],
    [['--help'], undefined],
    [['help'], undefined],
    [['plan', 'sandbox'], 'plan'],
    [['--verbose', 'deploy', 'web', '--yes'], 'deploy'],
    [['help', 'new'], 'new'],
    [['help', '--verbose', 'sandbox'], 'sandbox'],
    [['sandbox', 'up', '3'], 'sandbox'],
    [['nwe'], 'nwe'],
  ])('%j runs %s', (argv, word) => {
    expect(commandWord(argv)).toBe(word);
  });
});
