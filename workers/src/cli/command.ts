import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A top-level CLI command (`infsplign <name> ...`). */
export interface Command {
  name: string;
  summary: string;
  /** what `infsplign <name> --help` prints: every form of the command and its options */
  usage: string;
  /** the first-argument words the command takes (`onnx grad`, `prompts visor`), if any */
  subcommands?: readonly string[];
  run(argv: string[]): Promise<void>;
}

/** An error meant for the person at the terminal: printed without a stack, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `argv` strictly; unknown or malformed options are usage errors (exit 2). `--help` never
 * gets here: the dispatcher answers it for every command (main.ts).
 */
export function parseOptions<O extends OptionSpec>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${usage}`, 2);
  }
}

/** Returns the value of a required string option or fails with a usage error naming it. */
export function required(values: Record<string, unknown>, name: string, usage: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`missing --${name}\n\n${usage}`, 2);
  return v;
}
