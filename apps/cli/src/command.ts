import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What a command receives: parsed flags and positionals, plus where to write. */
export interface CommandContext {
  argv: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(context: CommandContext): Promise<number>;
}

/** Usage errors print the command's usage and exit 2. */
export class UsageError extends Error {}

/** parseArgs with strict flags; unknown flags become a UsageError naming the flag. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
