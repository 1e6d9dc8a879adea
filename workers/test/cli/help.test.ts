/**
 * `--help` on every command and subcommand of the CLI's own command table prints that command's
 * usage and exits 0, whatever else is on the line; a command added to the table is covered too.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS } from '../../src/cli/main.ts';
import { runCli } from './run-cli.ts';

describe('--help', () => {
  test('infsplign --help lists every command', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    for (const command of COMMANDS) assert.match(stdout, new RegExp(`^  ${command.name} `, 'm'));
  });

  for (const command of COMMANDS) {
    const invocations = [
      [command.name, '--help'],
      [command.name, '-h'],
      // other options, even wrong ones, do not turn a request for help into a usage error
      [command.name, '--no-such-option', '--help'],
      ...(command.subcommands ?? []).map((sub) => [command.name, sub, '--help']),
    ];
    for (const argv of invocations) {
      test(`infsplign ${argv.join(' ')}: the usage, exit 0`, async () => {
        const { code, stdout, stderr } = await runCli(argv);
        assert.deepEqual({ code, stderr }, { code: 0, stderr: '' });
        assert.equal(stdout, command.usage);
      });
    }

    test(`infsplign ${command.name}: its usage names the command${command.subcommands ? ' and every subcommand' : ''}`, () => {
      assert.match(command.usage, new RegExp(`^usage:.*\\binfsplign ${command.name}\\b`, 's'));
      for (const sub of command.subcommands ?? []) assert.match(command.usage, new RegExp(`infsplign ${command.name} ${sub}\\b`));
    });
  }

  test('after -- a "--help" is an argument, not a request for help', async () => {
    const { code, stderr } = await runCli(['prompts', '--', '--help']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown prompt set '--help'/);
  });
});
