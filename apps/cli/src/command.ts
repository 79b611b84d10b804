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

type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type FlagValue<O> = O extends { type: 'boolean' }
  ? O extends { multiple: true }
    ? boolean[]
    : boolean
  : O extends { multiple: true }
    ? string[]
    : string;

export interface ParsedFlags<T extends FlagOptions> {
  values: { [K in keyof T]?: FlagValue<T[K]> };
  positionals: string[];
}

/** parseArgs with strict flags; unknown flags become a UsageError naming the flag. */
export function parseFlags<T extends FlagOptions>(argv: string[], options: T): ParsedFlags<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as unknown as ParsedFlags<T>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
