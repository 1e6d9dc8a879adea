import { CliError, type Command } from './command.ts';
import { evaluateCommand } from './commands/evaluate.ts';
import { experimentCommand } from './commands/experiment.ts';
import { generateCommand } from './commands/generate.ts';
import { guidanceCommand } from './commands/guidance.ts';
import { onnxCommand } from './commands/onnx.ts';
import { promptsCommand } from './commands/prompts.ts';
import { scoreCommand } from './commands/score.ts';
import { uploadCommand } from './commands/upload.ts';

/** Every command, in the order `infsplign --help` lists them. */
export const COMMANDS: readonly Command[] = [
  onnxCommand,
  promptsCommand,
  scoreCommand,
  evaluateCommand,
  generateCommand,
  guidanceCommand,
  experimentCommand,
  uploadCommand,
];

function usage(): string {
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return ['usage: infsplign <command> [options]', '', 'commands:', ...lines, '', "Run `infsplign <command> --help` for a command's options."].join('\n');
}

/** `--help` or `-h` among a command's arguments (before a `--`, after which everything is a positional). */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** Runs one CLI invocation; returns the process exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`infsplign: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  // Answered here for every command and subcommand, before any option is checked.
  if (asksForHelp(rest)) {
    console.log(command.usage);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`infsplign ${name}: ${err.message}`);
      return err.exitCode;
    }
    console.error(`infsplign ${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.INFSPLIGN_DEBUG) console.error(err);
    return 1;
  }
}
